//! The batch connection, cloud side: one WebSocket, many key generations (`dyad_proto::batch`).
//!
//! Each `create` goes through the same flow as `POST /v1/wallets` (its key authenticated again,
//! so a revoked key stops starting wallets at once; the body parsed by the same function;
//! [`keygen::start_now`] writing the same rows and audit entry, with the ceremony id stored used
//! up, as the ceremony route would leave it, in the same transaction), and the ceremony then runs through [`super::run`] over its
//! lane, exactly as over a WebSocket of its own. The connection only moves frames: it never
//! decides anything about a wallet.
//!
//! When the connection goes, every lane's next read fails, so each running ceremony ends as it
//! would on a dropped socket of its own (abandoned before its commit; committed and kept after).

use axum::extract::ws::{Message, WebSocket};
use dyad_proto::batch::{
    self, Control, Incoming, Lane, LaneId, LaneRefused, Lanes, Outgoing, Received, Refusal, ToClient, ToServer, WsRead,
    WsWrite,
};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::api_key::{self, ApiKey};
use crate::error::ServerError;
use crate::keygen;
use crate::routes::wallets::parse_create;
use crate::state::AppState;

/// How many outgoing messages may queue for the socket before lanes wait for it.
const OUTGOING_BACKLOG: usize = 1024;

/// Serve one batch connection, authenticated by `key`, until the client leaves.
pub async fn serve(state: AppState, key: ApiKey, socket: WebSocket) {
    let (sink, mut stream) = socket.split();
    let (out, outgoing) = mpsc::channel::<Outgoing>(OUTGOING_BACKLOG);
    let writer = tokio::spawn(batch::write(outgoing, sink, |message| match message {
        WsWrite::Binary(bytes) => Message::Binary(bytes.into()),
        WsWrite::Text(text) => Message::Text(text.into()),
    }));
    let lanes = Lanes::new(out);
    let key = std::sync::Arc::new(key);
    while let Some(Ok(message)) = stream.next().await {
        let read = match &message {
            Message::Binary(bytes) => WsRead::Binary(bytes),
            Message::Text(text) => WsRead::Text(text.as_str()),
            Message::Close(_) => WsRead::Close,
            Message::Ping(_) | Message::Pong(_) => WsRead::Other,
        };
        match lanes.receive::<ToServer>(read) {
            Received::Done => {}
            Received::Control(Control {
                lane,
                message: ToServer::Create(body),
            }) => start(&state, &key, &lanes, lane, body).await,
            Received::Control(Control {
                lane,
                message: ToServer::Closed(_),
            }) => lanes.deliver(lane, Incoming::Closed),
            Received::End => break,
        }
    }
    // Every lane's next read fails; the writer ends once the last running ceremony has let go.
    lanes.close_all();
    drop(lanes);
    let _ = writer.await;
}

/// A `create` on `lane`: open the lane, then start the wallet and run its ceremony on a task of
/// its own, so the reader goes on serving the other lanes.
async fn start(state: &AppState, key: &std::sync::Arc<ApiKey>, lanes: &Lanes, lane: LaneId, body: serde_json::Value) {
    let opened = match lanes.open(lane) {
        Ok(opened) => opened,
        Err(why) => {
            let e = match why {
                LaneRefused::Full => ServerError::RateLimited(why.to_string()),
                LaneRefused::InUse(_) => ServerError::InvalidRequest(why.to_string()),
            };
            let _ = lanes.control(lane, refused(&e)).await;
            return;
        }
    };
    let (state, key) = (state.clone(), key.clone());
    tokio::spawn(async move { keygen_on(state, &key, body, opened).await });
}

/// What `POST /v1/wallets` and then the ceremony route do, with the lane as the socket.
async fn keygen_on(state: AppState, key: &ApiKey, body: serde_json::Value, lane: Lane) {
    let started = async {
        let scope = api_key::authenticate(state.store.as_ref(), key.expose()).await?;
        let req = parse_create(body)?;
        // The ticket is used up as it is stored: this lane is the ceremony's connection.
        keygen::start_now(&state, scope, req.wallet_type, req.pregen_id).await
    }
    .await;
    match started {
        Ok((ticket, record)) => {
            let id = ticket.ceremony_id;
            if lane.control(ToClient::Ticket(ticket)).await.is_err() {
                // The connection went before the client heard of the ceremony.
                super::fail(
                    &state,
                    &id,
                    &record,
                    &ServerError::CeremonyAborted("the batch connection closed".into()),
                )
                .await;
                return;
            }
            super::run(state, id, record, lane).await;
        }
        Err(e) => {
            let _ = lane.finish(refused(&e)).await;
        }
    }
}

/// What `POST /v1/wallets` would have answered for `e`.
fn refused(e: &ServerError) -> ToClient {
    ToClient::Refused(Refusal {
        status: e.status_and_code().0.as_u16(),
        error: e.body(),
    })
}
