//! Key generation, cloud side: the sequence both parties share ([`KeyGeneration`]: DKG, a test
//! signature both must verify), then the client's confirmation that it holds its share; then
//! [`keygen::commit`] makes the wallet live.
//!
//! The commit runs outside the ceremony deadline, and once it has been attempted the client is
//! never told "aborted": it may already hold the only copy of a live wallet's share.

use dyad_mpc::Role;
use dyad_proto::{CeremonyChannel, CeremonyId, Frame, KeyGeneration, Outcome};

use crate::error::ServerError;
use crate::key_setup;
use crate::keygen::{self, Commit};
use crate::model::CeremonyRecord;
use crate::state::AppState;
use dyad_proto::FrameTransport;

/// Run the key generation for the pending wallet of `record`, up to the client's confirmation.
pub(super) async fn run<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<T>,
) -> Result<Commit, ServerError> {
    let pending = keygen::pending(state, record).await?;
    let script = KeyGeneration::new(Role::Cloud, pending.scheme(), id);
    // Taken (deleted) before the first message: whatever happens next, it is never used again.
    let share = match key_setup::take(state, &pending).await? {
        Some(setup) => channel.run(script.dkg_with_setup(setup)).await?,
        None => channel.run(script.dkg()).await?,
    };
    let (test, start) = script.test_signature(share);
    let signature = channel.run(start).await?;
    let confirmed = test
        .verify(&signature)
        .map_err(|_| ServerError::CeremonyAborted("test signature did not verify".into()))?;

    match channel.recv().await? {
        Frame::Confirm => {}
        _ => {
            return Err(ServerError::CeremonyAborted(
                "expected the client's confirmation".into(),
            ))
        }
    }
    keygen::confirmed(state, pending, confirmed.share())
}

/// Commit a confirmed key generation and tell the client. Never answers `Abort`: whatever
/// fails is audited, and the client (which keeps its share once it has confirmed) finds out
/// with `get_wallet`.
pub(super) async fn commit<T: FrameTransport>(state: &AppState, channel: &mut CeremonyChannel<T>, commit: Commit) {
    let Ok(wallet) = keygen::commit(state, commit).await else {
        return;
    };
    let sent = tokio::time::timeout(
        super::GOODBYE,
        channel.send(&Frame::Done(Outcome::WalletCreated(wallet.view()))),
    )
    .await
    .unwrap_or(Err(dyad_proto::ProtoError::Timeout));
    if let Err(e) = sent {
        keygen::unacknowledged(state, &wallet, &e.into()).await;
    }
}
