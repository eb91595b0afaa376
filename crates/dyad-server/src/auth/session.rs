//! Sessions: opaque random bearer tokens (`dyad_session_` + 32 random bytes, base64url), stored
//! as SHA-256, valid for `session_ttl` (90 minutes by default) unless refreshed or ended.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dyad_proto::auth::SessionView;
use dyad_proto::SessionToken;
use rand_core::{OsRng, RngCore};
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::Person;
use crate::state::AppState;

/// A fresh token and the hash the database keeps.
pub fn new_token() -> (SessionToken, [u8; 32]) {
    let mut raw = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut raw[..]);
    let token = SessionToken::new(format!("{}{}", SessionToken::PREFIX, URL_SAFE_NO_PAD.encode(&raw[..])));
    let hash = hash(token.expose());
    (token, hash)
}

/// SHA-256 of a token's text.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The person a bearer token names, if it is a live session: unknown, expired and ended
/// tokens are all `SESSION_INVALID` (which one is not told).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Person, ServerError> {
    if !token.starts_with(SessionToken::PREFIX) {
        return Err(ServerError::SessionInvalid);
    }
    let record = state
        .store
        .session(&hash(token))
        .await?
        .ok_or(ServerError::SessionInvalid)?;
    if record.revoked_at.is_some() || record.expires_at < clock::now() {
        return Err(ServerError::SessionInvalid);
    }
    let identifiers = state
        .store
        .user_identifiers(record.scope.environment, record.user_id)
        .await?;
    let grants = state.store.grants(record.user_id, record.scope).await?;
    Ok(Person {
        user_id: record.user_id,
        scope: record.scope,
        identifiers,
        grants,
        session_expires_at: record.expires_at,
    })
}

/// What `GET /v1/auth/session` shows.
pub fn view(person: &Person) -> SessionView {
    SessionView {
        user_id: person.user_id,
        app_id: person.scope.app_id,
        environment: person.scope.environment,
        identifiers: person.shown_identifiers(),
        expires_at: person.session_expires_at,
    }
}

/// Keep the session alive for another `session_ttl` from now (Para's `keepSessionAlive`).
pub async fn refresh(state: &AppState, person: &Person, token: &str) -> Result<SessionView, ServerError> {
    let now = clock::now();
    let until = now + state.config.session_ttl.as_secs() as i64;
    let entry = audit::entry(
        person.scope,
        None,
        AuditAction::SessionRefreshed,
        json!({ "userId": person.user_id, "expiresAt": until }),
    );
    if !state.store.extend_session(&hash(token), now, until, &entry).await? {
        return Err(ServerError::SessionInvalid);
    }
    Ok(view(&Person {
        session_expires_at: until,
        ..person.clone()
    }))
}

/// End the session now: the token is refused from the next request on.
pub async fn logout(state: &AppState, person: &Person, token: &str) -> Result<(), ServerError> {
    let entry = audit::entry(
        person.scope,
        None,
        AuditAction::SessionEnded,
        json!({ "userId": person.user_id }),
    );
    if !state.store.revoke_session(&hash(token), clock::now(), &entry).await? {
        return Err(ServerError::SessionInvalid);
    }
    Ok(())
}
