//! A key setup ceremony, cloud side (the warm setup pool), on a lane of a batch connection (in
//! its channel: no handshake of its own), one run of `dyad_proto::key_setup`, then the half sealed and stored
//! ([`crate::key_setup::store`]) before the client hears `Done(KeySetupStored)`. Nothing is
//! stored for a setup that failed, so there is nothing to record: the client's half is useless
//! without the cloud's.

use dyad_mpc::Role;
use dyad_proto::batch::KeySetupTicket;
use dyad_proto::{CeremonyChannel, Frame, FrameTransport, Outcome};
use tokio::time::Instant;

use crate::error::ServerError;
use crate::key_setup;
use crate::model::Scope;
use crate::state::AppState;

/// Run the setup `ticket` names for `scope` on `io` to its end.
pub(super) async fn run<T: FrameTransport>(state: AppState, scope: Scope, ticket: KeySetupTicket, io: T) {
    let deadline = Instant::now() + state.config.ceremony_deadline;
    let mut channel = match CeremonyChannel::accept(io, &state.ceremony_key, &ticket.ceremony_id, Some(deadline)).await
    {
        Ok(c) => c,
        Err((e, mut io)) => {
            tracing::info!(error = %e, "a key setup's handshake failed");
            let _ = tokio::time::timeout(super::GOODBYE, io.close()).await;
            return;
        }
    };
    let made = async {
        let half = channel
            .run(dyad_proto::key_setup(Role::Cloud, &ticket.ceremony_id))
            .await?;
        key_setup::store(&state, scope, &ticket, &half).await?;
        channel
            .send(&Frame::Done(Outcome::KeySetupStored(ticket.key_setup_id)))
            .await?;
        Ok::<(), ServerError>(())
    };
    let made = tokio::time::timeout_at(deadline, made)
        .await
        .unwrap_or_else(|_| Err(super::timed_out()));
    if let Err(e) = &made {
        tracing::info!(error = %e, "a key setup failed");
    }
    super::goodbye(channel, made.as_ref().err()).await;
}
