//! The batch connection: many ceremonies (key generations and signatures) multiplexed over one
//! WebSocket, authenticated once by the app's API key on the upgrade (`GET /v1/ceremonies/batch`).
//!
//! Multiplexing changes how ceremonies travel, never what they are. Each ceremony is a **lane**:
//! the client asks for it with a `create` (the body of `POST /v1/wallets`) or a `sign` (a wallet,
//! the sign route's name and its body), the server answers with the same ticket that route
//! gives (or the same error body), and the lane then carries
//! exactly the byte stream a ceremony's own WebSocket would: the Noise `NK` handshake with that
//! ceremony's id as prologue, then its sealed frames. So every ceremony keeps its own
//! single-use id, its own Noise keys, its own session ids and its own outcome; one lane failing
//! (a bad frame, an abort) ends that lane only.
//!
//! On the wire:
//! - a **text** message is one [`Control`] in JSON: `{"lane": 7, "create": {...}}` or
//!   `{"lane": 8, "sign": {"walletId": "…", "keyVersion": 1, "route": "sign-message", "body":
//!   {...}}}` from the client; `{"lane": 7, "ticket": {...}}`, `{"lane": 7, "refused": {"status": 409, "error":
//!   {...}}}` or `{"lane": 7, "closed": {}}` from the server;
//! - a **binary** message is `be32(lane) ‖ bytes`: one message of that lane's ceremony.
//!
//! A lane's id is the client's choice, never reused on a connection. The server runs at most
//! [`MAX_LANES`] at once per connection and ignores frames for lanes it does not know (late
//! frames of a finished ceremony are normal).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{Sink, SinkExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::error::{ErrorBody, ProtoError};
use crate::ids::WalletId;
use crate::rest::CeremonyTicket;
use crate::runner::{FrameTransport, CLOSED_DURING_HANDSHAKE};

/// Where the batch WebSocket is served.
pub const BATCH_PATH: &str = "/v1/ceremonies/batch";

/// How many lanes one connection may run at once.
pub const MAX_LANES: usize = 256;

/// How many messages may wait for one lane. A ceremony is a ping-pong (at most a round and an
/// abort in flight), so a peer that fills this is flooding: the lane is dropped.
const LANE_BACKLOG: usize = 8;

/// A lane's number on its connection.
pub type LaneId = u32;

/// One text message: which lane, and what about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control<T> {
    /// The lane it concerns.
    pub lane: LaneId,
    /// What it says.
    #[serde(flatten)]
    pub message: T,
}

/// What a client says about a lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ToServer {
    /// Start key generation on this lane: the JSON body of `POST /v1/wallets`, which the server
    /// parses as that route does (same checks, same error codes).
    Create(serde_json::Value),
    /// Start a signature on this lane, as `POST /v1/wallets/{walletId}/{route}` with this body
    /// and `Dyad-Key-Version` would (same parsing, decoding, checks, audit and error codes).
    Sign(SignOnLane),
    /// Make a DKLs key setup on this lane, ahead of a key (the warm setup pool): `{"keySetup":
    /// {}}`. The server answers a `keySetupTicket`, the lane carries the setup ceremony, and it
    /// ends with `Done(KeySetupStored)`.
    KeySetup(KeySetupOnLane),
    /// This side is done with the lane.
    Closed(Closed),
}

/// A `keySetup`: nothing to say yet (the app is the connection's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySetupOnLane {}

/// The answer to a `keySetup`: the ceremony id the lane's Noise handshake and session id use,
/// and the id the setup will be stored under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySetupTicket {
    /// The ceremony (not stored: it lives as long as the lane).
    pub ceremony_id: crate::ids::CeremonyId,
    /// What the setup is stored under once made.
    pub key_setup_id: crate::ids::KeySetupId,
}

/// A `sign`: which wallet, which sign route, and that route's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOnLane {
    /// The wallet to sign with.
    pub wallet_id: WalletId,
    /// The version of the share the client holds (the `Dyad-Key-Version` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_version: Option<u32>,
    /// Which of the sign routes.
    pub route: SignRoute,
    /// That route's JSON body.
    pub body: serde_json::Value,
}

/// The sign routes, by the last segment of their path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignRoute {
    /// `sign-message {messageBase64}`.
    #[serde(rename = "sign-message")]
    Message,
    /// `sign-transaction {transaction, chainId?, networkPassphrase?, signMode?}`.
    #[serde(rename = "sign-transaction")]
    Transaction,
    /// `sign-typed-data {typedData}`.
    #[serde(rename = "sign-typed-data")]
    TypedData,
    /// `sign-raw {digest}` (off unless enabled for the app).
    #[serde(rename = "sign-raw")]
    Raw,
}

impl SignRoute {
    /// The path segment: `sign-message`, `sign-transaction`, `sign-typed-data`, `sign-raw`.
    pub fn segment(self) -> &'static str {
        match self {
            SignRoute::Message => "sign-message",
            SignRoute::Transaction => "sign-transaction",
            SignRoute::TypedData => "sign-typed-data",
            SignRoute::Raw => "sign-raw",
        }
    }
}

/// What the server says about a lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ToClient {
    /// The ceremony was started (as `POST /v1/wallets` answers): the lane now carries it.
    Ticket(CeremonyTicket),
    /// The key setup was started: the lane now carries it.
    KeySetupTicket(KeySetupTicket),
    /// It was not (as `POST /v1/wallets` refuses: the same status and body); the lane is over.
    Refused(Refusal),
    /// This side is done with the lane.
    Closed(Closed),
}

/// Why a `create` started nothing: what `POST /v1/wallets` would have answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The HTTP status the route gives.
    pub status: u16,
    /// The route's error body.
    pub error: ErrorBody,
}

/// The end of a lane (`{"closed": {}}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {}

impl Closed {
    /// `{"closed": {}}`, which either side sends (`ToServer::Closed` and `ToClient::Closed` are
    /// spelled alike).
    pub const MESSAGE: ToServer = ToServer::Closed(Closed {});
}

/// `be32(lane) ‖ bytes`: one binary message of a lane.
pub fn encode_frame(lane: LaneId, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + bytes.len());
    out.extend_from_slice(&lane.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// The lane and bytes of a binary message; `None` if it is too short to name a lane.
pub fn decode_frame(message: &[u8]) -> Option<(LaneId, &[u8])> {
    let (lane, bytes) = message.split_first_chunk::<4>()?;
    Some((LaneId::from_be_bytes(*lane), bytes))
}

/// What the connection's writer sends: a lane's binary message, or a control text.
#[derive(Debug)]
pub enum Outgoing {
    /// `encode_frame` of these.
    Frame(LaneId, Vec<u8>),
    /// One JSON control message.
    Text(String),
}

impl Outgoing {
    /// A control message, encoded.
    pub fn control<T: Serialize>(lane: LaneId, message: T) -> Self {
        // Serialising these plain types to JSON cannot fail.
        Outgoing::Text(serde_json::to_string(&Control { lane, message }).unwrap_or_default())
    }
}

/// A WebSocket message the connection read, whichever WebSocket library carries it (axum's on
/// the server, tungstenite's in the SDK).
#[derive(Debug, PartialEq, Eq)]
pub enum WsRead<'a> {
    /// A binary message: `be32(lane) ‖ bytes`.
    Binary(&'a [u8]),
    /// A text message: one JSON [`Control`].
    Text(&'a str),
    /// The peer closes the socket.
    Close,
    /// Anything else (pings, pongs): nothing to the lanes.
    Other,
}

/// A WebSocket message the connection writes, for the WebSocket library to carry.
#[derive(Debug, PartialEq, Eq)]
pub enum WsWrite {
    /// `be32(lane) ‖ bytes`.
    Binary(Vec<u8>),
    /// One JSON [`Control`].
    Text(String),
}

/// What one received message asks of the connection's reader.
#[derive(Debug, PartialEq)]
pub enum Received<T> {
    /// Nothing more: it went to its lane, or was for no lane and was dropped.
    Done,
    /// A control message, for the reader to act on.
    Control(Control<T>),
    /// The peer is gone or does not speak this protocol: stop reading.
    End,
}

/// Send what the lanes queue on `outgoing` to `sink`, each made a WebSocket message by
/// `message`, until every sender is gone or the socket fails; then close the socket. What is
/// queued together is flushed together: with many lanes running, one write carries many
/// lanes' messages.
pub async fn write<S, M>(mut outgoing: mpsc::Receiver<Outgoing>, mut sink: S, message: impl Fn(WsWrite) -> M)
where
    S: Sink<M> + Unpin,
{
    let wire = |next: Outgoing| match next {
        Outgoing::Frame(lane, bytes) => WsWrite::Binary(encode_frame(lane, &bytes)),
        Outgoing::Text(text) => WsWrite::Text(text),
    };
    'socket: while let Some(next) = outgoing.recv().await {
        if sink.feed(message(wire(next))).await.is_err() {
            break;
        }
        while let Ok(next) = outgoing.try_recv() {
            if sink.feed(message(wire(next))).await.is_err() {
                break 'socket;
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

/// What reaches a lane from the connection's reader.
#[derive(Debug)]
pub enum Incoming {
    /// One message of the lane's ceremony.
    Frame(Vec<u8>),
    /// The server's ticket (client side).
    Ticket(CeremonyTicket),
    /// The server's key setup ticket (client side).
    KeySetupTicket(KeySetupTicket),
    /// The server's refusal (client side).
    Refused(Refusal),
    /// The peer is done with the lane.
    Closed,
}

/// Why a lane could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LaneRefused {
    /// The id is in use on this connection.
    #[error("lane {0} is in use on this connection")]
    InUse(LaneId),
    /// [`MAX_LANES`] are running.
    #[error("at most {MAX_LANES} ceremonies run at once on one batch connection")]
    Full,
}

type Table = Arc<Mutex<HashMap<LaneId, mpsc::Sender<Incoming>>>>;

fn locked(table: &Table) -> std::sync::MutexGuard<'_, HashMap<LaneId, mpsc::Sender<Incoming>>> {
    // Only inserts and removes happen under the lock: a panic cannot leave it half-updated.
    table.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection's open lanes: the reader delivers to them, each ceremony reads its own.
#[derive(Clone)]
pub struct Lanes {
    table: Table,
    out: mpsc::Sender<Outgoing>,
}

impl Lanes {
    /// The lanes of a connection whose writer reads `out`.
    pub fn new(out: mpsc::Sender<Outgoing>) -> Self {
        Self {
            table: Arc::default(),
            out,
        }
    }

    /// Open lane `id`.
    pub fn open(&self, id: LaneId) -> Result<Lane, LaneRefused> {
        let mut table = locked(&self.table);
        if table.contains_key(&id) {
            return Err(LaneRefused::InUse(id));
        }
        if table.len() >= MAX_LANES {
            return Err(LaneRefused::Full);
        }
        let (tx, rx) = mpsc::channel(LANE_BACKLOG);
        table.insert(id, tx);
        Ok(Lane {
            id,
            out: self.out.clone(),
            incoming: rx,
            table: self.table.clone(),
            answered: false,
            told: false,
        })
    }

    /// Hand `message` to lane `id`. A lane that is not open is ignored (late frames of a
    /// finished ceremony are normal); one whose backlog is full loses its place, which ends it.
    pub fn deliver(&self, id: LaneId, message: Incoming) {
        let mut table = locked(&self.table);
        let Some(tx) = table.get(&id) else { return };
        if tx.try_send(message).is_err() {
            table.remove(&id);
        }
    }

    /// Take one received message: a lane's frame goes to its lane; a control message is parsed
    /// as `T` for the reader to act on; a close, a frame too short to name its lane, or a text
    /// that is no control message ends the connection.
    pub fn receive<T: DeserializeOwned>(&self, message: WsRead<'_>) -> Received<T> {
        match message {
            WsRead::Binary(bytes) => match decode_frame(bytes) {
                Some((lane, body)) => {
                    self.deliver(lane, Incoming::Frame(body.to_vec()));
                    Received::Done
                }
                None => Received::End,
            },
            WsRead::Text(text) => match serde_json::from_str::<Control<T>>(text) {
                Ok(control) => Received::Control(control),
                Err(_) => Received::End,
            },
            WsRead::Close => Received::End,
            WsRead::Other => Received::Done,
        }
    }

    /// The connection is gone: every lane's next read fails.
    pub fn close_all(&self) {
        locked(&self.table).clear();
    }

    /// How many lanes are open.
    pub fn len(&self) -> usize {
        locked(&self.table).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Send a control message (e.g. a `create`) on the connection.
    pub async fn control<T: Serialize>(&self, lane: LaneId, message: T) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::control(lane, message))
            .await
            .map_err(|_| ProtoError::Transport("the batch connection is closed".into()))
    }
}

/// One ceremony's share of a batch connection: a [`FrameTransport`], so the runner drives a
/// ceremony over it exactly as over a WebSocket of its own. Closing or dropping it frees the
/// lane and tells the peer (a dropped lane, like a dropped socket, is an end the peer hears of,
/// whatever path dropped it).
pub struct Lane {
    id: LaneId,
    out: mpsc::Sender<Outgoing>,
    incoming: mpsc::Receiver<Incoming>,
    table: Table,
    /// A ceremony message arrived (so the peer answered the handshake).
    answered: bool,
    /// The peer was told the lane is over.
    told: bool,
}

impl Lane {
    /// Its id.
    pub fn id(&self) -> LaneId {
        self.id
    }

    /// The next thing the reader delivered; `None` once the lane or connection is gone.
    pub async fn next(&mut self) -> Option<Incoming> {
        let next = self.incoming.recv().await;
        if matches!(next, Some(Incoming::Closed | Incoming::Refused(_)) | None) {
            // The peer ended the lane (or the connection is gone): nothing to tell it.
            self.told = true;
        }
        next
    }

    /// End the lane with `message` (a refusal), which says all the peer needs to hear.
    pub async fn finish<T: Serialize>(mut self, message: T) -> Result<(), ProtoError> {
        self.told = true;
        self.control(message).await
    }

    /// Send a control message about this lane.
    pub async fn control<T: Serialize>(&self, message: T) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::control(self.id, message))
            .await
            .map_err(|_| ProtoError::Transport("the batch connection is closed".into()))
    }

    fn gone(&self) -> ProtoError {
        if self.answered {
            ProtoError::Transport("the peer closed the lane".into())
        } else {
            ProtoError::Transport(CLOSED_DURING_HANDSHAKE.into())
        }
    }
}

impl FrameTransport for Lane {
    async fn send(&mut self, message: Vec<u8>) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::Frame(self.id, message))
            .await
            .map_err(|_| ProtoError::Transport("the batch connection is closed".into()))
    }

    async fn recv(&mut self) -> Result<Vec<u8>, ProtoError> {
        match self.next().await {
            Some(Incoming::Frame(bytes)) => {
                self.answered = true;
                Ok(bytes)
            }
            Some(Incoming::Ticket(_) | Incoming::KeySetupTicket(_) | Incoming::Refused(_)) => Err(
                ProtoError::UnexpectedFrame("a control message inside a running ceremony"),
            ),
            Some(Incoming::Closed) | None => Err(self.gone()),
        }
    }

    async fn close(&mut self) {
        locked(&self.table).remove(&self.id);
        if !self.told {
            self.told = true;
            let _ = self.control(Closed::MESSAGE).await;
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        locked(&self.table).remove(&self.id);
        if !self.told {
            // Best effort, without waiting: a full queue means the connection is stuck anyway.
            let _ = self.out.try_send(Outgoing::control(self.id, Closed::MESSAGE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_read_as_documented() {
        let text = serde_json::to_string(&Control {
            lane: 7,
            message: ToServer::Create(serde_json::json!({"type": "SOLANA"})),
        })
        .unwrap();
        assert_eq!(text, r#"{"lane":7,"create":{"type":"SOLANA"}}"#);
        let closed: Control<ToClient> = serde_json::from_str(r#"{"lane":9,"closed":{}}"#).unwrap();
        assert_eq!(closed.lane, 9);
        assert_eq!(closed.message, ToClient::Closed(Closed {}));
        assert!(serde_json::from_str::<Control<ToServer>>(r#"{"lane":1,"ticket":{}}"#).is_err());
        let wallet = WalletId::random();
        let sign = Control {
            lane: 8,
            message: ToServer::Sign(SignOnLane {
                wallet_id: wallet,
                key_version: Some(2),
                route: SignRoute::Message,
                body: serde_json::json!({"messageBase64": "aGk="}),
            }),
        };
        let text = serde_json::to_string(&sign).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"lane":8,"sign":{{"walletId":"{wallet}","keyVersion":2,"route":"sign-message","body":{{"messageBase64":"aGk="}}}}}}"#
            )
        );
        assert_eq!(serde_json::from_str::<Control<ToServer>>(&text).unwrap(), sign);
        for route in [
            SignRoute::Message,
            SignRoute::Transaction,
            SignRoute::TypedData,
            SignRoute::Raw,
        ] {
            assert_eq!(serde_json::to_value(route).unwrap(), route.segment());
        }
        assert!(serde_json::from_str::<SignRoute>(r#""sign-anything""#).is_err());
        // ToServer::Closed and ToClient::Closed are spelled alike, so one Closed::MESSAGE serves both.
        assert_eq!(
            serde_json::to_value(ToServer::Closed(Closed {})).unwrap(),
            serde_json::to_value(ToClient::Closed(Closed {})).unwrap()
        );
    }

    #[test]
    fn frames_carry_their_lane() {
        let framed = encode_frame(0x0102_0304, b"abc");
        assert_eq!(decode_frame(&framed), Some((0x0102_0304, &b"abc"[..])));
        assert_eq!(decode_frame(&[1, 2, 3]), None);
    }

    #[tokio::test]
    async fn received_messages_go_to_their_lane_or_end_the_connection() {
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out);
        let mut lane = lanes.open(3).unwrap();
        let framed = encode_frame(3, b"round");
        assert_eq!(lanes.receive::<ToClient>(WsRead::Binary(&framed)), Received::Done);
        assert_eq!(lane.recv().await.unwrap(), b"round".to_vec());
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Text(r#"{"lane":3,"closed":{}}"#)),
            Received::Control(Control {
                lane: 3,
                message: ToClient::Closed(Closed {})
            })
        );
        // For no open lane: dropped, the connection goes on.
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&encode_frame(9, b"late"))),
            Received::Done
        );
        assert_eq!(lanes.receive::<ToClient>(WsRead::Other), Received::Done);
        assert_eq!(lanes.receive::<ToClient>(WsRead::Binary(&[0, 0, 3])), Received::End);
        assert_eq!(lanes.receive::<ToClient>(WsRead::Text("not json")), Received::End);
        assert_eq!(lanes.receive::<ToClient>(WsRead::Close), Received::End);
    }

    #[tokio::test]
    async fn a_flooding_peer_loses_its_lane_and_only_it() {
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out);
        let mut flooded = lanes.open(1).unwrap();
        let mut quiet = lanes.open(2).unwrap();
        assert_eq!(lanes.open(1).err(), Some(LaneRefused::InUse(1)));
        for _ in 0..=LANE_BACKLOG {
            lanes.deliver(1, Incoming::Frame(vec![0]));
        }
        lanes.deliver(2, Incoming::Frame(vec![2]));
        for _ in 0..LANE_BACKLOG {
            assert!(flooded.recv().await.is_ok());
        }
        assert!(matches!(flooded.recv().await, Err(ProtoError::Transport(_))));
        assert_eq!(quiet.recv().await.unwrap(), vec![2]);
        drop(quiet);
        assert!(lanes.is_empty());
    }

    #[tokio::test]
    async fn a_connection_runs_at_most_max_lanes() {
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out);
        let open: Vec<Lane> = (0..MAX_LANES as LaneId).map(|i| lanes.open(i).unwrap()).collect();
        assert_eq!(lanes.open(MAX_LANES as LaneId).err(), Some(LaneRefused::Full));
        drop(open);
        assert!(lanes.open(MAX_LANES as LaneId).is_ok());
    }
}
