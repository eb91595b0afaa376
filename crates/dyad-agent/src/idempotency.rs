//! `Idempotency-Key` on POSTs, as Para documents it: the same key within 24 hours returns the
//! first answer without running again; the same key with another request is 422; the same key
//! while the first is still running is 409. Records live in the agent's state file (`state`),
//! so a repeat after a restart is still answered from it.
//!
//! Only final answers are kept ([`is_final`]): a failure of the agent or the Dyad server, or a
//! "not now" (busy, in progress, rate limited), leaves the key free for a retry. A record left running by a killed agent is dropped when the agent next starts
//! (nothing of that process runs any more); the retry then runs again, and a wallet the killed
//! request did create is answered `WALLET_ALREADY_EXISTS` with its id.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::{Row, SqlitePool};

use crate::error::AgentError;
use crate::state::{now, AgentState};

/// How long an answer is kept.
pub const KEPT: Duration = Duration::from_secs(24 * 3600);

/// The longest key accepted.
pub const KEY_MAX: usize = 256;

/// What [`Idempotency::begin`] found for a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Begun {
    /// The key is new (or its record expired): run the request, then [`Idempotency::finish`].
    Run,
    /// The same request was answered before: give this answer again.
    Replay {
        /// Its HTTP status.
        status: u16,
        /// Its body.
        body: Vec<u8>,
    },
    /// The key was used for another request.
    Mismatch,
    /// The first request with this key has not been answered yet.
    Running,
}

/// The agent's store of idempotent answers.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pool: SqlitePool,
}

/// The fingerprint of a request: its method, path and body. A JSON body counts by its value
/// (keys sorted, no spacing), so the same request written otherwise is the same request.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> [u8; 32] {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok());
    let body = canonical.as_deref().unwrap_or(body);
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), body] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// Whether an answer with `status` is kept for repeats of its request.
pub fn is_final(status: u16) -> bool {
    status < 500 && !matches!(status, 408 | 409 | 425 | 429)
}

/// A key as sent, checked: 1 to [`KEY_MAX`] visible ASCII characters.
pub fn parse_key(header: &axum::http::HeaderValue) -> Result<String, AgentError> {
    let text = header
        .to_str()
        .ok()
        .filter(|t| !t.is_empty() && t.len() <= KEY_MAX && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            AgentError::InvalidRequest(format!(
                "Idempotency-Key must be 1 to {KEY_MAX} visible ASCII characters"
            ))
        })?;
    Ok(text.to_string())
}

fn store_error(e: impl std::fmt::Display) -> AgentError {
    AgentError::State(format!("idempotency records: {e}"))
}

impl Idempotency {
    /// The idempotent answers of `state`; records a killed agent left running, and expired
    /// ones, are dropped (nothing of that process runs any more).
    pub async fn open(state: &AgentState) -> Result<Self, AgentError> {
        sqlx::query("DELETE FROM idempotency WHERE state = 'running' OR created_at < $1")
            .bind(now() - KEPT.as_secs() as i64)
            .execute(&state.pool)
            .await
            .map_err(store_error)?;
        Ok(Self {
            pool: state.pool.clone(),
        })
    }

    /// Claim `key` for the request of `fingerprint`, or say what it is already.
    pub async fn begin(&self, key: &str, fingerprint: &[u8; 32]) -> Result<Begun, AgentError> {
        let now = now();
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        // Every expired answer, not only this key's: the table stays a day's worth.
        sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
            .bind(now - KEPT.as_secs() as i64)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency (key, fingerprint, state, created_at) VALUES ($1, $2, 'running', $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(&fingerprint[..])
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        let begun = if inserted == 1 {
            Begun::Run
        } else {
            let row = sqlx::query("SELECT fingerprint, state, status, body FROM idempotency WHERE key = $1")
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
            let stored: Vec<u8> = row.try_get("fingerprint").map_err(store_error)?;
            let state: String = row.try_get("state").map_err(store_error)?;
            if stored != fingerprint[..] {
                Begun::Mismatch
            } else if state == "running" {
                Begun::Running
            } else {
                let status: i64 = row.try_get("status").map_err(store_error)?;
                Begun::Replay {
                    status: u16::try_from(status).map_err(store_error)?,
                    body: row.try_get("body").map_err(store_error)?,
                }
            }
        };
        tx.commit().await.map_err(store_error)?;
        Ok(begun)
    }

    /// Keep the answer to the request of `key` if it is final, or free the key: a failure
    /// (500 and above) or a "not now" (408, 409, 425, 429: busy, in progress, rate limited) is
    /// not, and the retry runs again.
    pub async fn finish(&self, key: &str, status: u16, body: &[u8]) -> Result<(), AgentError> {
        let q = if is_final(status) {
            sqlx::query("UPDATE idempotency SET state = 'done', status = $2, body = $3 WHERE key = $1")
                .bind(key)
                .bind(i64::from(status))
                .bind(body)
        } else {
            sqlx::query("DELETE FROM idempotency WHERE key = $1").bind(key)
        };
        q.execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    /// Free `key` (its request did not run to an answer).
    pub async fn forget(&self, key: &str) {
        if let Err(e) = sqlx::query("DELETE FROM idempotency WHERE key = $1 AND state = 'running'")
            .bind(key)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "freeing an idempotency key");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_runs_once_replays_its_answer_and_refuses_another_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.db");
        let store = Idempotency::open(&AgentState::open(&path).await.unwrap())
            .await
            .unwrap();
        let a = fingerprint("POST", "/v1/wallets", b"{\"a\":1}");
        let b = fingerprint("POST", "/v1/wallets", b"{\"a\":2}");
        assert_ne!(
            a,
            fingerprint("POST", "/v1/wallet", b"s{\"a\":1}"),
            "parts are length-framed"
        );
        assert_eq!(store.begin("k1", &a).await.unwrap(), Begun::Run);
        assert_eq!(store.begin("k1", &a).await.unwrap(), Begun::Running);
        assert_eq!(store.begin("k1", &b).await.unwrap(), Begun::Mismatch);
        store.finish("k1", 201, b"first").await.unwrap();
        assert_eq!(
            store.begin("k1", &a).await.unwrap(),
            Begun::Replay {
                status: 201,
                body: b"first".to_vec()
            }
        );
        assert_eq!(store.begin("k1", &b).await.unwrap(), Begun::Mismatch);
        // A server failure, or a "busy", frees the key.
        assert_eq!(store.begin("k2", &a).await.unwrap(), Begun::Run);
        store.finish("k2", 502, b"failed").await.unwrap();
        assert_eq!(store.begin("k2", &a).await.unwrap(), Begun::Run);
        store.finish("k2", 429, b"later").await.unwrap();
        assert_eq!(store.begin("k2", &a).await.unwrap(), Begun::Run);
        // The same JSON written otherwise is the same request.
        assert_eq!(
            fingerprint("POST", "/v1/wallets", br#"{"a": 1, "b": [2]}"#),
            fingerprint("POST", "/v1/wallets", br#"{"b":[2],"a":1}"#)
        );
        // A record a killed agent left running is dropped at the next start; answers stay.
        drop(store);
        let store = Idempotency::open(&AgentState::open(&path).await.unwrap())
            .await
            .unwrap();
        assert_eq!(store.begin("k2", &a).await.unwrap(), Begun::Run);
        assert!(matches!(
            store.begin("k1", &a).await.unwrap(),
            Begun::Replay { status: 201, .. }
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        use axum::http::HeaderValue;
        assert_eq!(parse_key(&HeaderValue::from_static("abc-123")).unwrap(), "abc-123");
        for bad in ["", "has space", &"x".repeat(257)] {
            assert!(parse_key(&HeaderValue::from_str(bad).unwrap()).is_err(), "{bad:?}");
        }
    }
}
