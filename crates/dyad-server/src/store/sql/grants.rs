//! Grants' rows: the wallet, type and operation lists are JSON arrays.

use dyad_proto::UserId;
use sqlx::Row;

use super::rows::{corrupt, insert_audit, update_one_audited};
use super::SqlStore;
use crate::audit::AuditRecord;
use crate::model::{Grant, Scope};
use crate::store::{StoreError, StoreResult};

fn json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|_| StoreError::Conflict("a grant did not encode"))
}

impl SqlStore {
    pub(super) async fn create_grant_tx(&self, g: &Grant, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO grants (id, user_id, app_id, environment, wallets, wallet_types, operations, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(g.id.to_string())
        .bind(g.user_id.to_string())
        .bind(g.scope.app_id.to_string())
        .bind(g.scope.environment.as_str())
        .bind(json(&g.wallets)?)
        .bind(json(&g.wallet_types)?)
        .bind(json(&g.operations)?)
        .bind(g.created_at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn grant_rows(&self, user: UserId, scope: Scope) -> StoreResult<Vec<Grant>> {
        let rows = sqlx::query(
            "SELECT id, wallets, wallet_types, operations, created_at FROM grants WHERE user_id = $1 AND app_id = $2 \
             AND environment = $3 AND revoked_at IS NULL ORDER BY created_at, rowid",
        )
        .bind(user.to_string())
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let wallets: String = r.try_get("wallets")?;
                let types: String = r.try_get("wallet_types")?;
                let ops: String = r.try_get("operations")?;
                Ok(Grant {
                    id: id.parse().map_err(|_| corrupt("grant id"))?,
                    user_id: user,
                    scope,
                    wallets: serde_json::from_str(&wallets).map_err(|_| corrupt("grant wallets"))?,
                    wallet_types: serde_json::from_str(&types).map_err(|_| corrupt("grant wallet types"))?,
                    operations: serde_json::from_str(&ops).map_err(|_| corrupt("grant operations"))?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub(super) async fn revoke_grant_tx(
        &self,
        user: UserId,
        scope: Scope,
        id: uuid::Uuid,
        at: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND app_id = $4 AND environment = $5 \
             AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str());
        update_one_audited(&self.pool, update, audit).await
    }
}
