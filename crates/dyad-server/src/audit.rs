//! Building audit entries. What was signed is recorded as its digest and size, never the
//! share or any secret.

use dyad_proto::WalletId;
use serde_json::Value;

use crate::clock;
use crate::error::ServerError;
use crate::store::{AuditRecord, Scope, Store};

/// An audit entry stamped now.
pub fn entry(scope: Scope, wallet_id: Option<WalletId>, action: &str, detail: Value) -> AuditRecord {
    AuditRecord {
        at: clock::now(),
        scope,
        wallet_id,
        action: action.to_string(),
        detail,
    }
}

/// Audit a refused request (`detail.reason` is the error's code) and hand back its error.
pub async fn denied(
    store: &dyn Store,
    scope: Scope,
    wallet_id: WalletId,
    action: &str,
    error: ServerError,
) -> ServerError {
    let reason = error.body().code;
    match store
        .audit(&entry(
            scope,
            Some(wallet_id),
            action,
            serde_json::json!({ "reason": reason }),
        ))
        .await
    {
        Ok(()) => error,
        Err(e) => e,
    }
}
