//! Key generation, cloud side: DKG, a test signature both sides must agree on, the client's
//! confirmation that it holds its share, then one transaction that seals the cloud share and
//! makes the wallet visible.
//!
//! The commit runs outside the ceremony deadline, and once it has been attempted the client is
//! never told "aborted": it may already hold the only copy of a live wallet's share.

use dyad_chains::address;
use dyad_mpc::{Dkg, PublicKey, Role, Sign};
use dyad_proto::{confirmation_input, session_id, CeremonyChannel, CeremonyId, Frame, Outcome, WalletStatus};
use serde_json::json;

use super::transport::AxumSocket;
use crate::audit;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{CeremonyRecord, SealedShare, WalletRecord};

/// A key generation both sides finished and the client confirmed: what the commit writes.
pub(super) struct Commit {
    pending: WalletRecord,
    public_key: PublicKey,
    address: String,
    sealed: SealedShare,
}

/// Run the key generation for the pending wallet of `record`, up to the client's confirmation.
pub(super) async fn run(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<AxumSocket>,
) -> Result<Commit, ServerError> {
    let pending = state
        .store
        .pending_wallet(record.wallet_id)
        .await?
        .ok_or_else(|| ServerError::CeremonyAborted("the pending wallet no longer exists".into()))?;
    let scheme = pending.scheme;

    let dkg_sid = session_id(id, "dkg");
    let share = channel.run(move || Dkg::start(scheme, Role::Cloud, &dkg_sid)).await?;
    let public_key = share.public_key();
    let address = address(pending.wallet_type, &public_key, &state.config.chain)
        .map_err(|e| ServerError::Internal(format!("address: {e}")))?;

    // Both parties must be able to sign together before anyone relies on this key.
    let input = confirmation_input(scheme, id);
    let confirm_sid = session_id(id, "confirm");
    let test_share = share.clone();
    let test_input = input.clone();
    let signature = channel
        .run(move || Sign::start(&test_share, &confirm_sid, &test_input))
        .await?;
    public_key
        .verify(&input, &signature)
        .map_err(|_| ServerError::CeremonyAborted("test signature did not verify".into()))?;

    match channel.recv().await? {
        Frame::Confirm => {}
        _ => {
            return Err(ServerError::CeremonyAborted(
                "expected the client's confirmation".into(),
            ))
        }
    }

    let sealed = state
        .data_key
        .seal_share(&pending.id, pending.key_version, &share.to_bytes())?;
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

/// Commit a confirmed key generation and tell the client. Never answers `Abort`: whatever
/// fails is audited, and the client (which keeps its share once it has confirmed) finds out
/// with `get_wallet`.
pub(super) async fn commit(
    state: &AppState,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<AxumSocket>,
    commit: Commit,
) {
    let Commit {
        pending,
        public_key,
        address,
        sealed,
    } = commit;
    let entry = audit::entry(
        record.scope,
        Some(pending.id),
        "wallet.created",
        json!({ "type": pending.wallet_type, "address": address, "pregenId": pending.pregen_id }),
    );
    if let Err(e) = state
        .store
        .activate_wallet(pending.id, &public_key, &address, &sealed, &entry)
        .await
    {
        // Left pending: the reaper removes it unless it did commit after all.
        tracing::error!(wallet = %pending.id, error = %e, "committing a wallet failed");
        let entry = audit::entry(
            record.scope,
            Some(pending.id),
            "wallet.commit_failed",
            json!({ "error": e.to_string() }),
        );
        if let Err(e) = state.store.audit(&entry).await {
            tracing::error!(error = %e, "recording a failed commit");
        }
        return;
    }
    let mut wallet = pending;
    wallet.public_key = Some(public_key);
    wallet.address = Some(address);
    wallet.status = WalletStatus::Pregen;
    let sent = match wallet.view() {
        Ok(view) => tokio::time::timeout(super::GOODBYE, channel.send(&Frame::Done(Outcome::WalletCreated(view))))
            .await
            .unwrap_or(Err(dyad_proto::ProtoError::Timeout))
            .map_err(ServerError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        let entry = audit::entry(
            record.scope,
            Some(wallet.id),
            "wallet.created_unacknowledged",
            json!({ "error": e.to_string() }),
        );
        if let Err(e) = state.store.audit(&entry).await {
            tracing::error!(error = %e, "recording an unacknowledged wallet");
        }
    }
}
