//! Reading pregenerated wallets and changing whom one is for. Only live wallets are ever
//! visible; an identifier changes only while the app still holds the wallet.

use dyad_proto::{PregenId, WalletId};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::error::ServerError;
use crate::model::{LiveStatus, Scope, Wallet};
use crate::state::AppState;
use crate::store::StoreError;

/// The live wallets of `scope`, optionally only those for one identifier, oldest first.
pub async fn list(state: &AppState, scope: Scope, filter: Option<&PregenId>) -> Result<Vec<Wallet>, ServerError> {
    Ok(state.store.wallets(scope, filter).await?)
}

/// One live wallet of `scope`; any other id (another app's, a pending one) is `WALLET_NOT_FOUND`.
pub async fn get(state: &AppState, scope: Scope, id: WalletId) -> Result<Wallet, ServerError> {
    state.store.wallet(scope, id).await?.ok_or(ServerError::WalletNotFound)
}

/// Make the wallet `id` be for `pregen_id`, audited as `wallet.identifier_changed`. Refused
/// (and audited as `wallet.identifier_change_denied`) once claimed; `WALLET_EXISTS`, naming the
/// other wallet, if one of the same type has the identifier already.
pub async fn change_identifier(
    state: &AppState,
    scope: Scope,
    id: WalletId,
    pregen_id: PregenId,
) -> Result<Wallet, ServerError> {
    let claimed = || {
        audit::denied(
            state.store.as_ref(),
            scope,
            id,
            AuditAction::WalletIdentifierChangeDenied,
            ServerError::WalletClaimed,
        )
    };
    let before = get(state, scope, id).await?;
    if before.status == LiveStatus::Claimed {
        return Err(claimed().await);
    }
    let entry = audit::entry(
        scope,
        Some(id),
        AuditAction::WalletIdentifierChanged,
        json!({ "from": before.pregen_id, "to": pregen_id }),
    );
    match state.store.update_pregen_id(scope, id, &pregen_id, &entry).await {
        Ok(true) => {}
        // Claimed between the read and the write: refused and audited all the same.
        Ok(false) => return Err(claimed().await),
        Err(StoreError::IdentifierTaken(other)) => return Err(ServerError::WalletExists(other)),
        Err(e) => return Err(e.into()),
    }
    get(state, scope, id).await
}
