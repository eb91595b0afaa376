//! Key generation of a pregenerated wallet, as a flow with three ends: [`start`] reserves the
//! (type, identifier) with a pending wallet and its ceremony; once the protocol has run and the
//! client has confirmed, [`confirmed`] seals the cloud share and [`commit`] makes the wallet live
//! in one transaction; a ceremony that fails before that [`abandon`]s it. The route calls
//! `start`; the ceremony (`ceremony::dkg`) runs the protocol and calls the rest.

use dyad_chains::address;
use dyad_mpc::{KeyShare, PublicKey};
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{CeremonyId, KeySetupId, PregenId, Scheme, WalletId, WalletStatus, WalletType};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::{
    Actor, Begins, CeremonyHash, CeremonyKind, CeremonyRecord, CreateOutcome, PendingWallet, Scope, Wallet,
};
use crate::state::AppState;
use crate::store::SealedShare;

/// Reserve `pregen_id` for a new wallet of `wallet_type` and start its key generation: one
/// transaction stores the pending wallet (invisible until committed), its single-use ceremony
/// and the `wallet.create_requested` entry. A wallet that exists already is `WALLET_EXISTS`;
/// one being created right now is `CEREMONY_IN_PROGRESS` (both name it). With `key_setup` (a
/// setup made ahead with this app, [`crate::key_setup`]), the same transaction reserves it for
/// this key, or nothing is written and the answer is `KEY_SETUP_UNAVAILABLE`.
pub async fn start(
    state: &AppState,
    scope: Scope,
    wallet_type: WalletType,
    pregen_id: PregenId,
    key_setup: Option<KeySetupId>,
) -> Result<CeremonyTicket, ServerError> {
    let (ticket, _) = reserve(state, scope, wallet_type, pregen_id, key_setup, false).await?;
    Ok(ticket)
}

/// [`start`] for a batch lane: the ceremony begins at once, its ticket used up in the same
/// transaction (so no route accepts it), and its record is handed back to run it.
pub async fn start_now(
    state: &AppState,
    scope: Scope,
    wallet_type: WalletType,
    pregen_id: PregenId,
    key_setup: Option<KeySetupId>,
) -> Result<(CeremonyTicket, CeremonyRecord), ServerError> {
    reserve(state, scope, wallet_type, pregen_id, key_setup, true).await
}

async fn reserve(
    state: &AppState,
    scope: Scope,
    wallet_type: WalletType,
    pregen_id: PregenId,
    key_setup: Option<KeySetupId>,
    at_once: bool,
) -> Result<(CeremonyTicket, CeremonyRecord), ServerError> {
    if key_setup.is_some() && wallet_type.scheme() != Scheme::Dkls {
        return Err(ServerError::KeySetupUnavailable(format!(
            "a key setup is for DKLs keys (EVM, COSMOS), not {wallet_type}"
        )));
    }
    let now = clock::now();
    let begins = if at_once {
        Begins::Now(now)
    } else {
        Begins::OnPresentation
    };
    let ceremony_id = CeremonyId::random();
    let expires_at = now + state.config.ceremony_ttl.as_secs() as i64;
    let wallet = PendingWallet {
        id: WalletId::random(),
        scope,
        wallet_type,
        pregen_id,
        created_at: now,
    };
    let ceremony = CeremonyRecord {
        id_hash: CeremonyHash::of(&ceremony_id),
        scope,
        actor: Actor::App,
        wallet_id: wallet.id,
        kind: CeremonyKind::Dkg,
        expires_at,
    };
    let mut detail = json!({ "type": wallet.wallet_type, "pregenId": wallet.pregen_id });
    if let Some(setup) = key_setup {
        // Which pooled setup this key uses up: the audit trail of the pool.
        detail["keySetupId"] = json!(setup);
    }
    let entry = audit::entry(scope, Some(wallet.id), AuditAction::WalletCreateRequested, detail);
    match state
        .store
        .create_pending_wallet(
            &wallet,
            &ceremony,
            &entry,
            state.config.abandoned(now),
            begins,
            key_setup,
        )
        .await?
    {
        CreateOutcome::Created => Ok((
            CeremonyTicket {
                ceremony_id,
                wallet_id: wallet.id,
                expires_at,
                summary: None,
            },
            ceremony,
        )),
        CreateOutcome::Exists(existing, WalletStatus::Pending) => Err(ServerError::CeremonyInProgress(existing)),
        CreateOutcome::Exists(existing, _) => Err(ServerError::WalletExists(existing)),
        CreateOutcome::NoKeySetup => Err(ServerError::KeySetupUnavailable(
            "no such unused key setup of this app: create without it, or with another".into(),
        )),
    }
}

/// The pending wallet a key generation ceremony is for; gone (reaped) is an abort.
pub async fn pending(state: &AppState, record: &CeremonyRecord) -> Result<PendingWallet, ServerError> {
    state
        .store
        .pending_wallet(record.wallet_id)
        .await?
        .ok_or_else(|| ServerError::CeremonyAborted("the pending wallet no longer exists".into()))
}

/// A key generation both sides finished and the client confirmed: what the commit writes.
pub struct Commit {
    pending: PendingWallet,
    public_key: PublicKey,
    address: String,
    sealed: SealedShare,
}

/// The client confirmed it holds its share of `share`'s key: derive the address and seal the
/// cloud share for the commit.
pub fn confirmed(state: &AppState, pending: PendingWallet, share: &KeyShare) -> Result<Commit, ServerError> {
    let public_key = share.public_key();
    let address = address(pending.wallet_type, &public_key, &state.config.chain)
        .map_err(|e| ServerError::Internal(format!("address: {e}")))?;
    let sealed = state
        .data_key
        .seal_share(&pending.id, PendingWallet::FIRST_KEY_VERSION, &share.to_bytes())?;
    Ok(Commit {
        pending,
        public_key,
        address,
        sealed: SealedShare {
            data_key_id: state.data_key.id(),
            sealed,
        },
    })
}

/// Make the wallet live: key, address, sealed share, status and `wallet.created`, in one
/// transaction. A failure is audited as `wallet.commit_failed` and the pending row left for
/// the reaper (unless it did commit after all); the caller must not tell the client "aborted":
/// it may hold the only copy of a live wallet's share.
pub async fn commit(state: &AppState, commit: Commit) -> Result<Wallet, ServerError> {
    let Commit {
        pending,
        public_key,
        address,
        sealed,
    } = commit;
    let entry = audit::entry(
        pending.scope,
        Some(pending.id),
        AuditAction::WalletCreated,
        json!({ "type": pending.wallet_type, "address": address, "pregenId": pending.pregen_id }),
    );
    if let Err(e) = state
        .store
        .activate_wallet(pending.id, &public_key, &address, &sealed, &entry)
        .await
    {
        tracing::error!(wallet = %pending.id, error = %e, "committing a wallet failed");
        let e = ServerError::from(e);
        audit_outcome(
            state,
            pending.scope,
            pending.id,
            AuditAction::WalletCommitFailed,
            &e.to_string(),
        )
        .await;
        return Err(e);
    }
    Ok(pending.activated(public_key, address))
}

/// The wallet is live but the client was not told.
pub async fn unacknowledged(state: &AppState, wallet: &Wallet, e: &ServerError) {
    audit_outcome(
        state,
        wallet.scope,
        wallet.id,
        AuditAction::WalletCreatedUnacknowledged,
        &e.to_string(),
    )
    .await;
}

/// Key generation failed before its commit: forget the pending wallet (its identifier is free
/// again) and audit `wallet.create_failed`, before the client hears of it.
pub async fn abandon(state: &AppState, record: &CeremonyRecord, e: &ServerError) {
    let entry = audit::entry(
        record.scope,
        Some(record.wallet_id),
        AuditAction::WalletCreateFailed,
        json!({ "error": e.to_string() }),
    );
    if let Err(e) = state.store.discard_pending_wallet(record.wallet_id, &entry).await {
        tracing::error!(error = %e, "recording a failed key generation");
    }
}

async fn audit_outcome(state: &AppState, scope: Scope, wallet: WalletId, action: AuditAction, error: &str) {
    let entry = audit::entry(scope, Some(wallet), action, json!({ "error": error }));
    audit::record_or_log(state.store.as_ref(), &entry).await;
}
