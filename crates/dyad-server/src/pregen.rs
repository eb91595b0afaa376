//! Reading pregenerated wallets and changing whom one is for. Only live wallets are ever
//! visible; an identifier changes only while the app still holds the wallet.

use dyad_proto::rest::WalletCursor;
use dyad_proto::{PregenId, WalletId};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::error::ServerError;
use crate::model::{Caller, LiveStatus, Scope, Wallet};
use crate::state::AppState;
use crate::store::StoreError;

/// The live wallets `caller` sees, optionally only those for one identifier, oldest first: an
/// app's own; for a person, those they own in the session's app and the pregenerated ones they
/// can claim there.
pub async fn list(state: &AppState, caller: &Caller, filter: Option<&PregenId>) -> Result<Vec<Wallet>, ServerError> {
    match caller {
        Caller::App(scope) => Ok(state.store.wallets(*scope, filter).await?),
        Caller::Person(p) => {
            let mut out = state.store.owned_wallets(p.user_id).await?;
            for v in &p.identifiers {
                out.extend(state.store.wallets(p.scope, Some(&v.id)).await?);
            }
            out.retain(|w| caller.sees(w) && filter.is_none_or(|f| *f == w.pregen_id));
            out.sort_by_key(|w| (w.created_at, w.id));
            out.dedup_by_key(|w| w.id);
            Ok(out)
        }
    }
}

/// The most wallets one page holds (and the default page size).
pub const MAX_PAGE: u32 = 1000;

/// One page of an app's wallets after `cursor` (oldest first), and the cursor of the next page
/// if there is one.
pub async fn page(
    state: &AppState,
    scope: Scope,
    cursor: Option<WalletCursor>,
    limit: u32,
) -> Result<(Vec<Wallet>, Option<WalletCursor>), ServerError> {
    let after = cursor.map(|c| (c.created_at, c.seq));
    // One more than asked: whether there is a next page, without a count.
    let mut rows = state.store.wallets_page(scope, after, limit + 1).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more
        .then(|| {
            rows.last().map(|(seq, w)| WalletCursor {
                created_at: w.created_at,
                seq: *seq,
            })
        })
        .flatten();
    Ok((rows.into_iter().map(|(_, w)| w).collect(), next))
}

/// One live wallet `caller` sees; any other id (another app's, a pending one, one a person
/// neither owns nor can claim) is `WALLET_NOT_FOUND`.
pub async fn get(state: &AppState, caller: &Caller, id: WalletId) -> Result<Wallet, ServerError> {
    let wallet = match caller {
        Caller::App(scope) => state.store.wallet(*scope, id).await?,
        Caller::Person(_) => state.store.wallet_by_id(id).await?,
    };
    wallet.filter(|w| caller.sees(w)).ok_or(ServerError::WalletNotFound)
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
    let app = Caller::App(scope);
    let before = get(state, &app, id).await?;
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
    get(state, &app, id).await
}
