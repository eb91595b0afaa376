//! The batch connection, cloud side: one WebSocket, many key generations and signatures
//! (`dyad_proto::batch`).
//!
//! Each `create` goes through the same flow as `POST /v1/wallets` (its key authenticated again,
//! so a revoked key stops starting wallets at once; the body parsed by the same function;
//! [`keygen::start_now`] writing the same rows and audit entry, with the ceremony id stored used
//! up, as the ceremony route would leave it, in the same transaction). Each `sign` goes through
//! the same flow as its sign route (the key authenticated again; the body parsed by
//! [`routes::sign::parse`]; [`signing::authorise`] deciding, decoding and auditing, with the
//! ceremony stored used up). The ceremony then runs through [`super::run`] over its lane,
//! exactly as over a WebSocket of its own: a signature still waits for its wallet's lease, so
//! one wallet signs one request at a time however many lanes ask. The connection only moves
//! frames: it never decides anything about a wallet.
//!
//! The connection's first message is its Noise handshake; every later one is sealed in the
//! channel it makes (`dyad_proto::batch`). A client that cannot complete the handshake gets a
//! closed socket and nothing else.
//!
//! When the connection goes, every lane's next read fails, so each running ceremony ends as it
//! would on a dropped socket of its own (abandoned before its commit; committed and kept after).

use axum::extract::ws::{Message, WebSocket};
use dyad_proto::batch::{
    self, Control, Incoming, Lane, LaneId, LaneRefused, Lanes, Outgoing, Received, Refusal, ToClient, ToServer, WsRead,
};
use dyad_proto::channel::{ConnectionChannel, Responder};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::api_key::{self, ApiKey};
use crate::error::ServerError;
use crate::lease::LeaseGuard;
use crate::model::{Begins, Caller, CeremonyRecord};
use crate::routes::wallets::parse_create;
use crate::state::AppState;
use crate::{clock, key_setup, keygen, routes, signing};
use dyad_proto::batch::SignOnLane;
use dyad_proto::rest::CeremonyTicket;

/// How many outgoing messages may queue for the socket before lanes wait for it.
const OUTGOING_BACKLOG: usize = 1024;

/// Serve one batch connection, authenticated by `key`, until the client leaves.
pub async fn serve(state: AppState, key: ApiKey, mut socket: WebSocket) {
    let Some(ConnectionChannel { sealer, mut opener }) = handshake(&state, &mut socket).await else {
        let _ = tokio::time::timeout(super::GOODBYE, socket.send(Message::Close(None))).await;
        return;
    };
    let (sink, mut stream) = socket.split();
    let (out, outgoing) = mpsc::channel::<Outgoing>(OUTGOING_BACKLOG);
    let writer = tokio::spawn(batch::write(outgoing, sink, sealer, |sealed| {
        Message::Binary(sealed.into())
    }));
    let lanes = Lanes::new(out, state.ceremony_key.public());
    let key = std::sync::Arc::new(key);
    while let Some(Ok(message)) = stream.next().await {
        let read = match &message {
            Message::Binary(bytes) => WsRead::Binary(bytes),
            Message::Text(_) => WsRead::Text,
            Message::Close(_) => WsRead::Close,
            Message::Ping(_) | Message::Pong(_) => WsRead::Other,
        };
        match lanes.receive::<ToServer>(read, &mut opener) {
            Received::Done => {}
            Received::Control(Control {
                lane,
                message: ToServer::Create(body),
            }) => start(&state, &key, &lanes, lane, Start::Create(body)).await,
            Received::Control(Control {
                lane,
                message: ToServer::Sign(sign),
            }) => start(&state, &key, &lanes, lane, Start::Sign(sign)).await,
            Received::Control(Control {
                lane,
                message: ToServer::KeySetup(_),
            }) => start(&state, &key, &lanes, lane, Start::KeySetup).await,
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

/// Answer the client's handshake, its first message, within [`dyad_proto::PEER_TIMEOUT`]:
/// the connection's channel, or `None` if the client sent anything else or nothing.
async fn handshake(state: &AppState, socket: &mut WebSocket) -> Option<ConnectionChannel> {
    let hello = tokio::time::timeout(dyad_proto::PEER_TIMEOUT, async {
        loop {
            match socket.recv().await?.ok()? {
                Message::Binary(hello) => return Some(hello),
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Text(_) | Message::Close(_) => return None,
            }
        }
    })
    .await
    .ok()??;
    let Ok((channel, answer)) = Responder::respond_connection(&state.ceremony_key, &hello) else {
        tracing::info!("a batch connection's handshake failed (another ceremony key, or not a handshake)");
        return None;
    };
    tokio::time::timeout(dyad_proto::PEER_TIMEOUT, socket.send(Message::Binary(answer.into())))
        .await
        .ok()?
        .ok()?;
    Some(channel)
}

/// What a lane is opened for.
enum Start {
    /// A `create`: the body of `POST /v1/wallets`.
    Create(serde_json::Value),
    /// A `sign`.
    Sign(SignOnLane),
    /// A `keySetup`.
    KeySetup,
}

/// A `create`, `sign` or `keySetup` on `lane`: open the lane, then start the ceremony and run it
/// on a task of its own, so the reader goes on serving the other lanes.
async fn start(state: &AppState, key: &std::sync::Arc<ApiKey>, lanes: &Lanes, lane: LaneId, what: Start) {
    let Some(opened) = open(lanes, lane).await else {
        return;
    };
    let (state, key) = (state.clone(), key.clone());
    tokio::spawn(async move {
        let started = match what {
            Start::Create(body) => keygen_now(&state, &key, body).await.map(|(t, r)| (t, r, None)),
            Start::Sign(sign) => sign_now(&state, &key, sign).await,
            Start::KeySetup => return key_setup_on(state, &key, opened).await,
        };
        run_on(state, started, opened).await;
    });
}

/// A `keySetup`: the key authenticated again, the setup started (or refused) and run on `lane`.
async fn key_setup_on(state: AppState, key: &ApiKey, lane: Lane) {
    let started = async {
        let scope = api_key::authenticate(state.store.as_ref(), key.expose()).await?;
        Ok::<_, ServerError>((scope, key_setup::start(&state, scope).await?))
    };
    match started.await {
        Ok((scope, ticket)) => {
            if lane.control(ToClient::KeySetupTicket(ticket)).await.is_ok() {
                super::key_setup::run(state, scope, ticket, lane).await;
            }
        }
        Err(e) => {
            let _ = lane.finish(refused(&e)).await;
        }
    }
}

/// What `POST /v1/wallets` does; the ticket is used up as it is stored: the lane is the
/// ceremony's connection.
async fn keygen_now(
    state: &AppState,
    key: &ApiKey,
    body: serde_json::Value,
) -> Result<(CeremonyTicket, CeremonyRecord), ServerError> {
    let scope = api_key::authenticate(state.store.as_ref(), key.expose()).await?;
    let req = parse_create(body)?;
    keygen::start_now(state, scope, req.wallet_type, req.pregen_id, req.key_setup_id).await
}

/// What the sign route `sign.route` does with `sign.body`; the ticket is used up as it is
/// stored.
async fn sign_now(
    state: &AppState,
    key: &ApiKey,
    sign: SignOnLane,
) -> Result<(CeremonyTicket, CeremonyRecord, Option<LeaseGuard>), ServerError> {
    let caller = Caller::App(api_key::authenticate(state.store.as_ref(), key.expose()).await?);
    // The route's parser reads bytes, as it reads a request body.
    let body = serde_json::to_vec(&sign.body).map_err(|e| ServerError::InvalidRequest(e.to_string()))?;
    let parse = routes::sign::parse(state, &caller, sign.route, body).await?;
    let now = Begins::Now(clock::now());
    signing::authorise(state, &caller, sign.wallet_id, sign.key_version, parse, now).await
}

/// Tell the client the ticket (or the refusal), then run the ceremony on the lane, as the
/// ceremony route runs it on a socket.
async fn run_on(
    state: AppState,
    started: Result<(CeremonyTicket, CeremonyRecord, Option<LeaseGuard>), ServerError>,
    lane: Lane,
) {
    match started {
        Ok((ticket, record, lease)) => {
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
                if let Some(lease) = lease {
                    lease.release().await;
                }
                return;
            }
            super::run_leased(state, id, record, lane, lease).await;
        }
        Err(e) => {
            let _ = lane.finish(refused(&e)).await;
        }
    }
}

/// Open `lane`, or tell the client why not (a full connection, a lane id in use).
async fn open(lanes: &Lanes, lane: LaneId) -> Option<Lane> {
    match lanes.open(lane) {
        Ok(opened) => Some(opened),
        Err(why) => {
            let e = match why {
                LaneRefused::Full => ServerError::RateLimited(why.to_string()),
                LaneRefused::InUse(_) => ServerError::InvalidRequest(why.to_string()),
                // The reader opens lanes, and it has stopped reading by then.
                LaneRefused::Closed => return None,
            };
            let _ = lanes.control(lane, refused(&e)).await;
            None
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
