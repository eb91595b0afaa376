//! The agent's audit log, in its state file: an entry is written (and synced) before the act it
//! records, so nothing it audits happens unrecorded.

use dyad_proto::WalletId;
use sqlx::Row;

use crate::error::AgentError;
use crate::state::{now, AgentState};

/// An audited act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// A wallet's user share was handed to a caller (`GET /v1/wallets/{id}/user-share`).
    ShareExported,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ShareExported => "share.exported",
        }
    }
}

/// One entry, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// What was done (`share.exported`).
    pub action: String,
    /// To which wallet.
    pub wallet_id: WalletId,
    /// Which key version's share.
    pub key_version: u32,
}

/// The audit log.
#[derive(Clone, Debug)]
pub struct Audit {
    state: AgentState,
}

impl Audit {
    /// The audit log of `state`.
    pub fn new(state: &AgentState) -> Self {
        Self { state: state.clone() }
    }

    /// Record `action` on `wallet` (synced before this returns).
    pub async fn record(&self, action: AuditAction, wallet: WalletId, key_version: u32) -> Result<(), AgentError> {
        sqlx::query("INSERT INTO audit (at, action, wallet_id, key_version) VALUES ($1, $2, $3, $4)")
            .bind(now())
            .bind(action.as_str())
            .bind(wallet.to_string())
            .bind(i64::from(key_version))
            .execute(&self.state.pool)
            .await
            .map_err(|e| AgentError::State(format!("audit log: {e}")))?;
        Ok(())
    }

    /// Every entry, oldest first.
    pub async fn entries(&self) -> Result<Vec<AuditEntry>, AgentError> {
        let bad = |e: &dyn std::fmt::Display| AgentError::State(format!("audit log: {e}"));
        let rows = sqlx::query("SELECT at, action, wallet_id, key_version FROM audit ORDER BY id")
            .fetch_all(&self.state.pool)
            .await
            .map_err(|e| bad(&e))?;
        rows.iter()
            .map(|r| {
                let wallet: String = r.try_get("wallet_id").map_err(|e| bad(&e))?;
                let version: i64 = r.try_get("key_version").map_err(|e| bad(&e))?;
                Ok(AuditEntry {
                    at: r.try_get("at").map_err(|e| bad(&e))?,
                    action: r.try_get("action").map_err(|e| bad(&e))?,
                    wallet_id: wallet.parse().map_err(|_| bad(&"a stored wallet id does not parse"))?,
                    key_version: u32::try_from(version).map_err(|e| bad(&e))?,
                })
            })
            .collect()
    }
}
