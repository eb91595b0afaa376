//! The cloud party's side of ceremonies. Each runs on a WebSocket of its own inside a Noise
//! channel of its own, or on a lane of a batch connection inside the connection's channel,
//! under an overall deadline. Failure of any kind is terminal: the failure is recorded, then the
//! socket gets an `Abort` (never once a key generation's commit was attempted: the client may
//! hold the only copy of a live wallet's share).
//!
//! A sign ceremony runs only while it holds its wallet's lease ([`crate::lease`]): it waits its
//! turn once its channel is open, and gives the lease back only once its outcome is written.

mod batch;
mod claim;
mod dkg;
mod key_setup;
mod sign;
mod transport;

use dyad_proto::{CeremonyChannel, CeremonyId, ErrorCode, FrameTransport, ProtoError};
use tokio::time::Instant;

use crate::clock;
use crate::error::ServerError;
use crate::lease::LeaseGuard;
use crate::model::{AuthorisedSign, CeremonyKind, CeremonyRecord};
use crate::state::AppState;
use crate::{claim as claim_flow, keygen, signing};
pub use batch::serve as serve_batch;
pub use transport::AxumSocket;

/// Largest WebSocket message accepted (a sealed DKLs round is ~150 KB).
pub const MAX_WS_MESSAGE: usize = 8 * 1024 * 1024;

/// How long the server spends telling a peer the ceremony is over.
const GOODBYE: std::time::Duration = std::time::Duration::from_secs(5);

fn timed_out() -> ServerError {
    ServerError::from(ProtoError::Timeout)
}

/// Run one ceremony to its end on `io` (its own WebSocket, or a lane of a batch connection).
/// Whatever ends it (a bad frame, a failed check, the deadline), the failure is recorded
/// *before* the peer hears of it or the connection closes, so a client that sees the end finds
/// the state it implies (no pending wallet, a `sign.failed`).
pub async fn run<T: FrameTransport>(state: AppState, id: CeremonyId, record: CeremonyRecord, io: T) {
    run_leased(state, id, record, io, None).await
}

/// [`run`] for a signature whose wallet lease was taken with its request (`lease`, see
/// [`crate::lease::Leases::insert_ceremony_leased`]): it does not wait for its turn again.
pub(crate) async fn run_leased<T: FrameTransport>(
    state: AppState,
    id: CeremonyId,
    record: CeremonyRecord,
    io: T,
    lease: Option<LeaseGuard>,
) {
    let deadline = Instant::now() + state.config.ceremony_deadline;
    let mut channel = match CeremonyChannel::accept(io, &state.ceremony_key, &id, Some(deadline)).await {
        Ok(c) => c,
        Err((e, mut io)) => {
            // Recorded first; only then does the peer see its connection end.
            fail(&state, &id, &record, &e.into()).await;
            if let Some(lease) = lease {
                lease.release().await;
            }
            let _ = tokio::time::timeout(GOODBYE, io.close()).await;
            return;
        }
    };
    // What the peer is told; the failure behind it is recorded by then.
    let told = match &record.kind {
        CeremonyKind::Dkg => {
            let prepared = tokio::time::timeout_at(deadline, dkg::run(&state, &id, &record, &mut channel))
                .await
                .unwrap_or_else(|_| Err(timed_out()));
            match prepared {
                // Past this point the wallet may be committed: no Abort, whatever happens.
                Ok(commit) => {
                    dkg::commit(&state, &mut channel, commit).await;
                    None
                }
                Err(e) => {
                    fail(&state, &id, &record, &e).await;
                    Some(e)
                }
            }
        }
        CeremonyKind::Sign(authorised) => {
            sign_in_turn(&state, &id, &record, authorised, &mut channel, deadline, lease).await
        }
        CeremonyKind::Claim => claim_in_turn(&state, &id, &record, &mut channel, deadline).await,
    };
    goodbye(channel, told.as_ref()).await;
}

/// End a ceremony's channel: tell the peer `told` (if the ceremony failed), then close. Bounded,
/// so saying goodbye never hangs on a peer that stopped reading.
async fn goodbye<T: FrameTransport>(mut channel: CeremonyChannel<T>, told: Option<&ServerError>) {
    let goodbye = async {
        if let Some(e) = told {
            channel.abort(abort_code(e), &e.to_string()).await;
        }
        channel.into_inner().close().await;
    };
    let _ = tokio::time::timeout(GOODBYE, goodbye).await;
}

/// A lease outlives the longest a ceremony holding it can run by this much.
const LEASE_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a ceremony's wallet lease is taken for: longer than the ceremony can run.
pub(crate) fn lease_hold(config: &crate::config::ServerConfig) -> std::time::Duration {
    config.ceremony_deadline + GOODBYE + LEASE_MARGIN
}

/// Wait for the wallet's lease (bounded by the turn wait, and by `wait_until`); then the
/// ceremony gets a deadline of its own. A ceremony that did not get its turn is recorded as
/// failed, with the error the peer is to be told.
async fn take_turn<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<T>,
    wait_until: Instant,
) -> Result<crate::lease::LeaseGuard, ServerError> {
    let hold_for = lease_hold(&state.config);
    let wait_until = wait_until.min(Instant::now() + state.config.turn_wait);
    match state
        .leases
        .acquire(&state.store, record.wallet_id, hold_for, wait_until)
        .await
    {
        Ok(lease) => {
            // Only waiting for the client is cut short by the deadline: a frame that arrived is
            // always processed, so a cheat found in it is acted on.
            channel.set_deadline(Instant::now() + state.config.ceremony_deadline);
            Ok(lease)
        }
        Err(e) => {
            fail(state, id, record, &e).await;
            Err(e)
        }
    }
}

/// Wait for the wallet's lease (bounded by the turn wait), then sign with a deadline of its
/// own. The outcome is recorded before the lease goes back: the signature's audit entry, the
/// failure's, or the lock after a cheating peer. Gives what the peer is to be told.
async fn sign_in_turn<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<T>,
    wait_until: Instant,
    held: Option<LeaseGuard>,
) -> Option<ServerError> {
    let lease = match held {
        Some(lease) => {
            // Taken with the request: the ceremony's own deadline starts now, as after a wait.
            channel.set_deadline(Instant::now() + state.config.ceremony_deadline);
            lease
        }
        None => match take_turn(state, id, record, channel, wait_until).await {
            Ok(lease) => lease,
            Err(e) => return Some(e),
        },
    };
    match sign::run(state, id, record, authorised, channel).await {
        sign::Ended::Decided(decided) => {
            let finished = clock::now_micros();
            let entry = decided.completed(lease.acquired_at_micros(), finished);
            // The outcome and the lease's release in one commit.
            if let Err((e, lease)) = lease.release_recorded(&entry).await {
                // Not recorded, so not made: the held frame is never sent.
                let e = ServerError::from(e);
                fail(state, id, record, &e).await;
                lease.release().await;
                return Some(e);
            }
            // Recorded as made: from here on, a lost connection loses only the client's copy.
            if let Err(e) = tokio::time::timeout(GOODBYE, decided.deliver(channel))
                .await
                .unwrap_or(Err(ProtoError::Timeout))
            {
                tracing::info!(wallet = %record.wallet_id, error = %e, "a signature was made but not delivered");
            }
            None
        }
        sign::Ended::Failed(e) => {
            fail(state, id, record, &e).await;
            lease.release().await;
            Some(e)
        }
        sign::Ended::PeerCheated(reason) => {
            // The lock first: it is what must survive a crash.
            state.leases.lock(lease, signing::locked(record, &reason)).await;
            let e = ServerError::WalletLocked;
            fail(state, id, record, &e).await;
            Some(e)
        }
    }
}

/// Wait for the wallet's lease, as a signature does (a claim must not rotate shares under a
/// running signature), then claim. The lease goes back once the outcome is written.
async fn claim_in_turn<T: FrameTransport>(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    channel: &mut CeremonyChannel<T>,
    wait_until: Instant,
) -> Option<ServerError> {
    let lease = match take_turn(state, id, record, channel, wait_until).await {
        Ok(lease) => lease,
        Err(e) => return Some(e),
    };
    match claim::run(state, id, record, channel).await {
        claim::Ended::Committed(wallet) => {
            lease.release().await;
            if let Some(wallet) = wallet {
                claim::deliver(channel, &wallet).await;
            }
            None
        }
        claim::Ended::Failed(e) => {
            fail(state, id, record, &e).await;
            lease.release().await;
            Some(e)
        }
    }
}

fn abort_code(e: &ServerError) -> ErrorCode {
    match e {
        ServerError::CeremonyAborted(_) => ErrorCode::CeremonyAborted,
        other => other.status_and_code().1,
    }
}

/// The WebSocket upgrade of a consumed ceremony failed: the ceremony is over before it began.
pub fn upgrade_failed(state: AppState, id: CeremonyId, record: CeremonyRecord) {
    tokio::spawn(async move {
        let e = ServerError::CeremonyAborted("the WebSocket upgrade failed".into());
        fail(&state, &id, &record, &e).await;
    });
}

/// A ceremony failed: record it through its flow (key generation forgets its pending wallet;
/// a signature audits `sign.failed`) before the peer is told.
async fn fail(state: &AppState, id: &CeremonyId, record: &CeremonyRecord, e: &ServerError) {
    tracing::info!(ceremony = ?id, wallet = %record.wallet_id, error = %e, "ceremony failed");
    match record.kind {
        CeremonyKind::Dkg => keygen::abandon(state, record, e).await,
        CeremonyKind::Sign(_) => signing::failed(state, record, e, abort_code(e)).await,
        CeremonyKind::Claim => claim_flow::failed(state, record, e).await,
    }
}
