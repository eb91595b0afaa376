//! Login proofs' rows: started OAuth logins (by the state's hash) and Sign In With Farcaster
//! nonces. Consuming either is one `UPDATE … WHERE consumed_at IS NULL AND expires_at >= now`,
//! so of two concurrent callers exactly one wins.

use dyad_proto::auth::OAuthProvider;
use sqlx::Row;

use super::SqlStore;
use crate::model::{NonceRecord, OAuthStateRecord, Scope};
use crate::store::StoreResult;

impl SqlStore {
    pub(super) async fn insert_oauth_state_row(&self, s: &OAuthStateRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, app_id, environment, provider, redirect_uri, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.state_hash[..])
        .bind(s.scope.app_id.to_string())
        .bind(s.scope.environment.as_str())
        .bind(s.provider.as_str())
        .bind(&s.redirect_uri)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn consume_oauth_state_row(
        &self,
        state_hash: &[u8; 32],
        scope: Scope,
        provider: OAuthProvider,
        now: i64,
    ) -> StoreResult<Option<OAuthStateRecord>> {
        // The app and provider are in the WHERE clause: another app's caller (or a finish at
        // the other provider) neither uses the state nor spends it.
        let row = sqlx::query(
            "UPDATE oauth_states SET consumed_at = $1 WHERE state_hash = $2 AND app_id = $3 AND environment = $4 \
             AND provider = $5 AND consumed_at IS NULL AND expires_at >= $1 \
             RETURNING redirect_uri, created_at, expires_at",
        )
        .bind(now)
        .bind(&state_hash[..])
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .bind(provider.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(OAuthStateRecord {
                state_hash: *state_hash,
                scope,
                provider,
                redirect_uri: r.try_get("redirect_uri")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub(super) async fn insert_nonce_row(&self, n: &NonceRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_nonces (nonce, app_id, environment, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&n.nonce)
        .bind(n.scope.app_id.to_string())
        .bind(n.scope.environment.as_str())
        .bind(n.created_at)
        .bind(n.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn consume_nonce_row(&self, scope: Scope, nonce: &str, now: i64) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE login_nonces SET consumed_at = $1 WHERE nonce = $2 AND app_id = $3 AND environment = $4 \
             AND consumed_at IS NULL AND expires_at >= $1",
        )
        .bind(now)
        .bind(nonce)
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Delete used and expired proofs (the reaper's share).
    pub(super) async fn reap_proofs(conn: &mut sqlx::AnyConnection, now: i64) -> StoreResult<u64> {
        let a = sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1 OR consumed_at IS NOT NULL")
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let b = sqlx::query("DELETE FROM login_nonces WHERE expires_at < $1 OR consumed_at IS NOT NULL")
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(a + b)
    }
}
