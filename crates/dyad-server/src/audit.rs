//! Building audit entries. What was signed is recorded as its digest and size, never the
//! share or any secret.

use dyad_proto::WalletId;
use serde_json::Value;

use crate::clock;
use crate::store::{AuditRecord, Scope};

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
