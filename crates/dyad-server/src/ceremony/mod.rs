//! The cloud party's side of ceremonies. Each runs on one WebSocket, inside a Noise channel,
//! under an overall deadline. Failure of any kind is terminal: the socket gets an `Abort`, a
//! pending wallet is discarded, and the failure is audited.

mod dkg;
mod sign;
mod transport;

use axum::extract::ws::WebSocket;
use dyad_proto::{CeremonyChannel, CeremonyId, ErrorCode, ProtoError};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{CeremonyKind, CeremonyRecord};
use transport::AxumSocket;

/// Largest WebSocket message accepted (a sealed DKLs round is ~150 KB).
pub const MAX_WS_MESSAGE: usize = 8 * 1024 * 1024;

/// What the database keeps instead of a ceremony id.
pub fn ceremony_hash(id: &CeremonyId) -> [u8; 32] {
    Sha256::digest(id.0).into()
}

fn code_of(e: &ServerError) -> ErrorCode {
    e.status_and_code().1
}

/// Run one ceremony to its end on `socket`, under the ceremony deadline. Whatever ends it
/// (a bad frame, a failed check, the deadline), the failure is recorded *before* the peer hears
/// of it or the socket closes, so a client that sees the end finds no pending wallet left.
pub async fn run(state: AppState, id: CeremonyId, record: CeremonyRecord, socket: WebSocket) {
    let deadline = tokio::time::Instant::now() + state.config.ceremony_deadline;
    let timed_out = || ServerError::from(ProtoError::Timeout);
    let accepted = tokio::time::timeout_at(
        deadline,
        CeremonyChannel::accept(AxumSocket::new(socket), &state.ceremony_key, &id),
    );
    let mut channel = match accepted.await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            fail(&state, &id, &record, &e.into()).await;
            return;
        }
        Err(_) => {
            fail(&state, &id, &record, &timed_out()).await;
            return;
        }
    };
    let ceremony = async {
        match &record.kind {
            CeremonyKind::Dkg => dkg::run(&state, &id, &record, &mut channel).await,
            CeremonyKind::Sign(authorised) => sign::run(&state, &id, &record, authorised, &mut channel).await,
        }
    };
    let outcome = tokio::time::timeout_at(deadline, ceremony)
        .await
        .unwrap_or_else(|_| Err(timed_out()));
    // A wallet committed before the failure (the deadline hit after the commit) stands: the peer
    // must not hear "aborted", or it would throw away the only copy of its share.
    let committed = match &outcome {
        Err(e) => fail(&state, &id, &record, e).await,
        Ok(()) => false,
    };
    // Saying goodbye must not hang on a peer that stopped reading.
    let goodbye = async {
        if let (Err(e), false) = (&outcome, committed) {
            let code = match e {
                ServerError::CeremonyAborted(_) => ErrorCode::CeremonyAborted,
                other => code_of(other),
            };
            channel.abort(code, &e.to_string()).await;
        }
        channel.into_inner().close().await;
    };
    let _ = tokio::time::timeout(GOODBYE, goodbye).await;
}

/// How long the server spends telling a peer the ceremony is over.
const GOODBYE: std::time::Duration = std::time::Duration::from_secs(5);

/// The WebSocket upgrade of a consumed ceremony failed: the ceremony is over before it began.
pub fn upgrade_failed(state: AppState, id: CeremonyId, record: CeremonyRecord) {
    tokio::spawn(async move {
        let e = ServerError::CeremonyAborted("the WebSocket upgrade failed".into());
        fail(&state, &id, &record, &e).await;
    });
}

/// A ceremony failed: discard its pending wallet (key generation) and audit the failure.
/// `true` if the key generation had already committed its wallet (which then stands).
async fn fail(state: &AppState, id: &CeremonyId, record: &CeremonyRecord, e: &ServerError) -> bool {
    tracing::info!(ceremony = ?id, wallet = %record.wallet_id, error = %e, "ceremony failed");
    let action = match record.kind {
        CeremonyKind::Dkg => "wallet.create_failed",
        CeremonyKind::Sign(_) => "sign.failed",
    };
    let entry = audit::entry(
        record.scope,
        Some(record.wallet_id),
        action,
        json!({ "error": e.to_string() }),
    );
    let committed = matches!(record.kind, CeremonyKind::Dkg)
        && matches!(state.store.wallet(record.scope, record.wallet_id).await, Ok(Some(_)));
    let stored = match record.kind {
        // Committed already (only the end failed): the wallet stands; say so instead.
        CeremonyKind::Dkg if committed => {
            let entry = audit::entry(
                record.scope,
                Some(record.wallet_id),
                "wallet.created_unacknowledged",
                json!({ "error": e.to_string() }),
            );
            state.store.audit(&entry).await
        }
        CeremonyKind::Dkg => state.store.discard_pending_wallet(record.wallet_id, &entry).await,
        CeremonyKind::Sign(_) => state.store.audit(&entry).await,
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "recording a failed ceremony");
    }
    committed
}
