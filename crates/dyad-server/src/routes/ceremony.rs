//! `GET /v1/ceremonies/{id}`: the WebSocket a ceremony runs on. The id is consumed before the
//! upgrade, so a second or late use gets a plain 404.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use dyad_proto::CeremonyId;

use super::Segment;
use crate::ceremony::{self, MAX_WS_MESSAGE};
use crate::clock;
use crate::error::ServerError;
use crate::model::CeremonyHash;
use crate::state::AppState;

/// Upgrade and hand the socket to the ceremony runner.
pub async fn connect(
    State(state): State<AppState>,
    Segment(id): Segment,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ServerError> {
    let ws =
        ws.map_err(|_| ServerError::InvalidRequest("ceremonies run over a WebSocket: send an upgrade request".into()))?;
    let id: CeremonyId = id.parse().map_err(|_| ServerError::CeremonyNotFound)?;
    let record = state
        .store
        .consume_ceremony(&CeremonyHash::of(&id), clock::now())
        .await?
        .ok_or(ServerError::CeremonyNotFound)?;
    let (on_fail_state, on_fail_record) = (state.clone(), record.clone());
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE)
        .on_failed_upgrade(move |_| ceremony::upgrade_failed(on_fail_state, id, on_fail_record))
        .on_upgrade(move |socket| ceremony::run(state, id, record, socket)))
}
