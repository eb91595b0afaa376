//! API keys: `dyad_<env>_<key id>_<secret>`. The key id finds the row; only SHA-256 of the
//! secret is stored, compared in constant time. The full key is shown once, at creation. Also the
//! operator's actions on apps (run against the store directly by `dyad app …`): creating apps,
//! creating, listing and revoking their keys, switching settings; each change is audited.

use std::fmt;

use dyad_proto::{AppId, Environment};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::{ApiKeyRecord, AppRecord, AppSettings, Scope};
use crate::store::Store;

/// A full API key as the app holds it. Secret: redacted in `Debug`.
pub struct ApiKey(Zeroizing<String>);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

impl ApiKey {
    /// A key as a caller presented it (not yet authenticated), kept to authenticate again
    /// later: a batch connection checks its key at each wallet it starts.
    pub fn presented(key: &str) -> Self {
        Self(Zeroizing::new(key.to_string()))
    }

    /// The key as text, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

struct Parsed<'a> {
    key_id: &'a str,
    secret: &'a str,
}

fn parse(key: &str) -> Option<Parsed<'_>> {
    let mut parts = key.trim().splitn(4, '_');
    let (prefix, _env, key_id, secret) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (prefix == "dyad" && !key_id.is_empty() && !secret.is_empty()).then_some(Parsed { key_id, secret })
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A fresh key for `app`: the record to store and the full key to show once.
fn new_key(app: &AppRecord, now: i64) -> (ApiKeyRecord, ApiKey) {
    let mut id = [0u8; 8];
    OsRng.fill_bytes(&mut id);
    let mut secret = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut secret[..]);
    let key_id = hex::encode(id);
    let secret = Zeroizing::new(hex::encode(&secret[..]));
    let env = app.environment.as_str().to_ascii_lowercase();
    let full = ApiKey(Zeroizing::new(format!("dyad_{env}_{key_id}_{}", secret.as_str())));
    let record = ApiKeyRecord {
        key_id,
        app_id: app.id,
        secret_hash: hash(&secret),
        created_at: now,
        revoked_at: None,
    };
    (record, full)
}

/// Create an app with its first API key (admin operation, run against the store directly).
/// Audited: `app.created` and `api_key.created`.
pub async fn create_app(
    store: &dyn Store,
    name: &str,
    environment: Environment,
) -> Result<(AppRecord, ApiKey), ServerError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ServerError::InvalidRequest(
            "app name must be 1 to 100 characters".into(),
        ));
    }
    let now = clock::now();
    let app = AppRecord {
        id: AppId::random(),
        name: name.to_string(),
        environment,
        created_at: now,
        settings: AppSettings::default(),
    };
    let (record, full) = new_key(&app, now);
    let entries = [
        audit::entry(
            app.scope(),
            None,
            AuditAction::AppCreated,
            json!({ "name": app.name, "allowRawSigning": app.settings.allow_raw_signing }),
        ),
        audit::entry(
            app.scope(),
            None,
            AuditAction::ApiKeyCreated,
            json!({ "keyId": record.key_id }),
        ),
    ];
    store.create_app(&app, &record, &entries).await?;
    Ok((app, full))
}

/// The app with this id, or an error an operator can act on.
pub async fn find_app(store: &dyn Store, id: AppId) -> Result<AppRecord, ServerError> {
    store
        .app(id)
        .await?
        .ok_or_else(|| ServerError::InvalidRequest(format!("no app {id} in this database (see `dyad app list`)")))
}

/// Another API key for an app (shown once), audited as `api_key.created`.
pub async fn create_key(store: &dyn Store, app_id: AppId) -> Result<(ApiKeyRecord, ApiKey), ServerError> {
    let app = find_app(store, app_id).await?;
    let (record, full) = new_key(&app, clock::now());
    let entry = audit::entry(
        app.scope(),
        None,
        AuditAction::ApiKeyCreated,
        json!({ "keyId": record.key_id }),
    );
    store.create_api_key(&record, &entry).await?;
    Ok((record, full))
}

/// An app's keys, revoked ones too (ids and times only: the store holds no secret).
pub async fn list_keys(store: &dyn Store, app_id: AppId) -> Result<Vec<ApiKeyRecord>, ServerError> {
    find_app(store, app_id).await?;
    Ok(store.api_keys(app_id).await?)
}

/// Revoke one of an app's keys, audited as `api_key.revoked`. From the next request on, the key
/// gets 401 (keys are checked against the store on every request). An unknown or already
/// revoked key is refused and nothing changes.
pub async fn revoke_key(store: &dyn Store, app_id: AppId, key_id: &str) -> Result<ApiKeyRecord, ServerError> {
    let app = find_app(store, app_id).await?;
    let key_id = key_id.trim();
    // Never echo what was given unless it is a key id: it could be a whole key, secret and all.
    if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServerError::InvalidRequest(
            "a key id is 16 hex digits, as `dyad app key list` shows it (not the API key itself)".into(),
        ));
    }
    let existing = store
        .api_key(key_id)
        .await?
        .map(|(key, _)| key)
        .filter(|k| k.app_id == app.id);
    let Some(existing) = existing else {
        return Err(ServerError::InvalidRequest(format!(
            "app {app_id} has no API key with id {key_id:?} (see `dyad app key list`)"
        )));
    };
    if let Some(at) = existing.revoked_at {
        return Err(ServerError::InvalidRequest(format!(
            "API key {key_id} was revoked already (at {at})"
        )));
    }
    let now = clock::now();
    let entry = audit::entry(
        app.scope(),
        None,
        AuditAction::ApiKeyRevoked,
        json!({ "keyId": key_id }),
    );
    if !store.revoke_api_key(app.id, key_id, now, &entry).await? {
        return Err(ServerError::InvalidRequest(format!(
            "API key {key_id} was revoked meanwhile"
        )));
    }
    Ok(ApiKeyRecord {
        revoked_at: Some(now),
        ..existing
    })
}

/// Switch `sign-raw` on or off for an app, audited as `app.updated` with the old and new value.
/// Returns the app as it is now and the old value.
pub async fn set_allow_raw_signing(
    store: &dyn Store,
    app_id: AppId,
    allow: bool,
) -> Result<(AppRecord, bool), ServerError> {
    let app = find_app(store, app_id).await?;
    let old = app.settings;
    let new = AppSettings {
        allow_raw_signing: allow,
    };
    let entry = audit::entry(
        app.scope(),
        None,
        AuditAction::AppUpdated,
        json!({ "allowRawSigning": { "old": old.allow_raw_signing, "new": allow } }),
    );
    if !store.update_app_settings(app.id, &old, &new, &entry).await? {
        return Err(ServerError::InvalidRequest(format!(
            "app {app_id} changed meanwhile; run the command again"
        )));
    }
    Ok((AppRecord { settings: new, ..app }, old.allow_raw_signing))
}

/// Check an API key; the scope it grants. Looked up on every call (nothing is cached), so a
/// revoked key is refused from the next request on.
pub async fn authenticate(store: &dyn Store, key: &str) -> Result<Scope, ServerError> {
    let parsed = parse(key).ok_or(ServerError::Unauthenticated)?;
    let (record, scope) = store
        .api_key(parsed.key_id)
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    if !bool::from(hash(parsed.secret).ct_eq(&record.secret_hash)) || record.revoked_at.is_some() {
        return Err(ServerError::Unauthenticated);
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_keys() {
        assert!(parse("dyad_beta_abcd_ef01").is_some());
        assert!(parse("dyad_beta_abcd").is_none());
        assert!(parse("para_beta_abcd_ef").is_none());
        assert!(parse("dyad_beta__ef").is_none());
        assert!(format!("{:?}", ApiKey(Zeroizing::new("dyad_x".into()))) == "ApiKey(..)");
    }
}
