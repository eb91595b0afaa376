//! `GET /v1/ceremonies/{id}`: the WebSocket a ceremony runs on. The id is consumed before the
//! upgrade, so a second or late use gets a plain 404. `GET /v1/ceremonies/batch`: one
//! WebSocket, authenticated by the API key and sealed in one Noise channel, carrying many key
//! generations, signatures and key setups (`dyad_proto::batch`).

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use dyad_proto::CeremonyId;

use super::{Auth, Segment};
use crate::api_key::ApiKey;
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
        .on_upgrade(move |socket| ceremony::run(state, id, record, ceremony::AxumSocket::new(socket))))
}

/// Upgrade an app's batch connection. The key is checked now (a bad one gets a plain 401, no
/// socket) and again at every wallet the connection starts.
pub async fn batch(
    State(state): State<AppState>,
    Auth(_): Auth,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ServerError> {
    let ws = ws.map_err(|_| {
        ServerError::InvalidRequest("the batch connection is a WebSocket: send an upgrade request".into())
    })?;
    // `Auth` found this header and accepted the key in it.
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(ApiKey::presented)
        .ok_or(ServerError::Unauthenticated)?;
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| ceremony::serve_batch(state, key, socket)))
}
