//! Signing, cloud side: under the wallet's lease, take the share and input from
//! [`signing::ready`] (which checks the share's key is the wallet's), tell the client to go
//! ([`Frame::Go`]: it takes its share's turn only then), run the protocol holding
//! back the last frame (the run ends only on a signature its last step verified under that key),
//! and let [`signing::decide`] assemble the chain's forms; only once its caller has recorded it
//! may the client finish ([`Decided::deliver`]).
//!
//! The server holds back its last protocol frame until it has the client's, has computed and
//! verified the signature and has audited `sign.completed`: the client cannot assemble a
//! signature that the audit log does not record as made.

use dyad_mpc::MpcError;
use dyad_proto::{session_id, CeremonyChannel, CeremonyId, Frame, HeldFrame, Outcome, ProtoError, Run, RunStart};

use crate::audit::AuditRecord;
use crate::error::ServerError;
use crate::model::{AuthorisedSign, CeremonyRecord};
use crate::signing;
use crate::state::AppState;
use dyad_proto::FrameTransport;

/// How a sign ceremony ended, for its caller to record.
pub(super) enum Ended {
    /// Signed and verified; the client cannot finish until [`Decided::deliver`].
    Decided(Box<Decided>),
    /// Failed; nothing was signed (or nothing the client can assemble).
    Failed(ServerError),
    /// DKLs caught the peer cheating in the multiplication (`BanCounterparty`): the share pair
    /// must be locked before the lease goes back.
    PeerCheated(String),
}

/// A verified signature, not yet recorded or delivered.
pub(super) struct Decided {
    record: CeremonyRecord,
    decided: signing::Decided,
    held: HeldFrame,
}

impl Decided {
    /// The `sign.completed` entry for it, with the ceremony's turn (microseconds).
    pub(super) fn completed(&self, started_at: i64, finished_at: i64) -> AuditRecord {
        signing::completed(&self.record, &self.decided, started_at, finished_at)
    }

    /// Let the client finish: our last round, then the signature in the chain's forms.
    pub(super) async fn deliver<T: FrameTransport>(self, channel: &mut CeremonyChannel<T>) -> Result<(), ProtoError> {
        channel.release(self.held).await?;
        channel.send(&Frame::Done(Outcome::Signed(self.decided.signed))).await
    }
}

/// Run a sign ceremony for `authorised` (its caller holds the wallet's lease), up to a verified
/// signature.
pub(super) async fn run<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<T>,
) -> Ended {
    match sign(state, id, record, authorised, channel).await {
        Ok(ended) => ended,
        Err(e) => Ended::Failed(e),
    }
}

async fn sign<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<T>,
) -> Result<Ended, ServerError> {
    let signing::Ready { wallet, input, share } = signing::ready(state, record, authorised).await?;
    // Only now may the client take its share's turn: it holds it only while we hold the lease.
    channel.send(&Frame::Go).await?;
    let sid = session_id(id, Run::Sign);
    let (signature, held) = match channel.run_holding_last(RunStart::sign(share, sid, input)).await {
        Ok(done) => done,
        // DKLs says: after a cheating peer, never sign with this share pair again (its OT state
        // may have leaked).
        Err(ProtoError::PeerRound(MpcError::PeerMisbehaved(why))) => return Ok(Ended::PeerCheated(why)),
        Err(e) => return Err(e.into()),
    };
    let decided = signing::decide(&wallet, authorised, &signature)?;
    Ok(Ended::Decided(Box::new(Decided {
        record: record.clone(),
        decided,
        held,
    })))
}
