//! Key generation, cloud side: DKG, a test signature both sides must agree on, the client's
//! confirmation that it holds its share; then [`keygen::commit`] makes the wallet live.
//!
//! The commit runs outside the ceremony deadline, and once it has been attempted the client is
//! never told "aborted": it may already hold the only copy of a live wallet's share.

use dyad_mpc::{Dkg, Role, Sign};
use dyad_proto::{confirmation_input, session_id, CeremonyChannel, CeremonyId, Frame, Outcome};

use super::transport::AxumSocket;
use crate::error::ServerError;
use crate::keygen::{self, Commit};
use crate::model::CeremonyRecord;
use crate::state::AppState;

/// Run the key generation for the pending wallet of `record`, up to the client's confirmation.
pub(super) async fn run(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<AxumSocket>,
) -> Result<Commit, ServerError> {
    let pending = keygen::pending(state, record).await?;
    let scheme = pending.scheme();

    let dkg_sid = session_id(id, "dkg");
    let share = channel.run(move || Dkg::start(scheme, Role::Cloud, &dkg_sid)).await?;

    // Both parties must be able to sign together before anyone relies on this key.
    let input = confirmation_input(scheme, id);
    let confirm_sid = session_id(id, "confirm");
    let test_share = share.clone();
    let test_input = input.clone();
    let signature = channel
        .run(move || Sign::start(&test_share, &confirm_sid, &test_input))
        .await?;
    share
        .public_key()
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
    keygen::confirmed(state, pending, &share)
}

/// Commit a confirmed key generation and tell the client. Never answers `Abort`: whatever
/// fails is audited, and the client (which keeps its share once it has confirmed) finds out
/// with `get_wallet`.
pub(super) async fn commit(state: &AppState, channel: &mut CeremonyChannel<AxumSocket>, commit: Commit) {
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
