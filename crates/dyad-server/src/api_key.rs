//! API keys: `dyad_<env>_<key id>_<secret>`. The key id finds the row; only SHA-256 of the
//! secret is stored, compared in constant time. The full key is shown once, at creation.

use std::fmt;

use dyad_proto::{AppId, Environment};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::clock;
use crate::error::ServerError;
use crate::store::{ApiKeyRecord, AppRecord, Scope, Store};

/// A full API key as the app holds it. Secret: redacted in `Debug`.
pub struct ApiKey(Zeroizing<String>);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

impl ApiKey {
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

/// Create an app with its first API key (admin operation, run against the store directly).
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
    let mut id = [0u8; 8];
    OsRng.fill_bytes(&mut id);
    let mut secret = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut secret[..]);
    let key_id = hex::encode(id);
    let secret = Zeroizing::new(hex::encode(&secret[..]));
    let env = environment.as_str().to_ascii_lowercase();
    let full = ApiKey(Zeroizing::new(format!("dyad_{env}_{key_id}_{}", secret.as_str())));
    let now = clock::now();
    let app = AppRecord {
        id: AppId::random(),
        name: name.to_string(),
        environment,
        created_at: now,
    };
    let record = ApiKeyRecord {
        key_id,
        app_id: app.id,
        secret_hash: hash(&secret),
        created_at: now,
    };
    store.create_app(&app, &record).await?;
    Ok((app, full))
}

/// Check an API key; the scope it grants.
pub async fn authenticate(store: &dyn Store, key: &str) -> Result<Scope, ServerError> {
    let parsed = parse(key).ok_or(ServerError::Unauthenticated)?;
    let record = store
        .api_key(parsed.key_id)
        .await?
        .ok_or(ServerError::Unauthenticated)?;
    if !bool::from(hash(parsed.secret).ct_eq(&record.secret_hash)) {
        return Err(ServerError::Unauthenticated);
    }
    let app = store.app(record.app_id).await?.ok_or(ServerError::Unauthenticated)?;
    Ok(Scope {
        app_id: app.id,
        environment: app.environment,
    })
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
