//! Claiming, cloud side: under the wallet's lease, take the current cloud share from
//! [`claim::ready`], tell the client to go ([`Frame::Go`]: it takes its share's turn only then),
//! drive the claim script ([`dyad_proto::Claim`]: complete refresh, test signature of the new
//! pair), hand the person their recovery secret, wait for their confirmation, then
//! [`claim::commit`].
//!
//! Once the commit has been attempted the client is never told "aborted": whether it committed
//! is for the client to read back (`GET /v1/wallets/{id}`), so that it never throws away the
//! only share that works.

use std::sync::Arc;

use dyad_mpc::Role;
use dyad_proto::{CeremonyChannel, CeremonyId, Claim, Frame, Outcome, RecoverySecret};

use crate::claim;
use crate::error::ServerError;
use crate::model::{CeremonyRecord, Wallet};
use crate::state::AppState;
use dyad_proto::FrameTransport;

/// How a claim ceremony ended, for its caller to record.
pub(super) enum Ended {
    /// The commit was attempted; `Some` if it succeeded. Never answered with `Abort`.
    Committed(Option<Wallet>),
    /// Failed before the commit: the old pair still signs.
    Failed(ServerError),
}

/// Run the claim of `record`'s wallet (its caller holds the wallet's lease).
pub(super) async fn run<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<T>,
) -> Ended {
    let confirmed = match rotate(state, id, record, channel).await {
        Ok(c) => c,
        Err(e) => return Ended::Failed(e),
    };
    let (ready, share, hash) = confirmed;
    match claim::commit(state, record, &ready, &share, hash).await {
        Ok(wallet) => Ended::Committed(Some(wallet)),
        Err(e) => {
            tracing::error!(wallet = %record.wallet_id, error = %e, "committing a claim failed");
            claim::failed(state, record, &e).await;
            Ended::Committed(None)
        }
    }
}

/// Up to the person's confirmation: the ready wallet, the new cloud share and the recovery
/// secret's hash.
async fn rotate<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<T>,
) -> Result<(claim::Ready, dyad_mpc::KeyShare, String), ServerError> {
    let ready = claim::ready(state, record).await?;
    // Only now may the client take its share's turn: it holds it only while we hold the lease.
    channel.send(&Frame::Go).await?;
    let script = Claim::new(Role::Cloud, id, &ready.share);
    let current = Arc::new(ready.share.clone());
    let refreshed = channel.run(script.refresh(current)).await?;
    let (test, start) = script
        .test_signature(refreshed)
        .map_err(|e| ServerError::CeremonyAborted(e.to_string()))?;
    let signature = channel.run(start).await?;
    let confirmed = test
        .verify(&signature)
        .map_err(|_| ServerError::CeremonyAborted("test signature of the new shares did not verify".into()))?;
    let secret = RecoverySecret::random();
    let for_hash = secret.clone();
    let hash = tokio::task::spawn_blocking(move || claim::hash_recovery_secret(&for_hash))
        .await
        .unwrap_or_else(|_| Err(ServerError::Internal("hashing the recovery secret failed".into())))?;
    channel.send(&Frame::Recovery(secret)).await?;
    match channel.recv().await? {
        Frame::Confirm => {}
        _ => {
            return Err(ServerError::CeremonyAborted(
                "expected the client's confirmation".into(),
            ))
        }
    }
    Ok((ready, confirmed.into_share(), hash))
}

/// Tell the client the claim committed (best effort: it reads the wallet back otherwise).
pub(super) async fn deliver<T: FrameTransport>(channel: &mut CeremonyChannel<T>, wallet: &Wallet) {
    let sent = tokio::time::timeout(
        super::GOODBYE,
        channel.send(&Frame::Done(Outcome::Claimed(wallet.view()))),
    )
    .await
    .unwrap_or(Err(dyad_proto::ProtoError::Timeout));
    if let Err(e) = sent {
        tracing::info!(wallet = %wallet.id, error = %e, "a claim committed but the client was not told");
    }
}
