//! The batch connection: many ceremonies (key generations, signatures, key setups) multiplexed
//! over one WebSocket, authenticated once by the app's API key on the upgrade
//! (`GET /v1/ceremonies/batch`) and sealed once, in one Noise channel for the whole connection.
//!
//! Multiplexing changes how ceremonies travel, never what they are. Each ceremony is a **lane**:
//! the client asks for it with a `create` (the body of `POST /v1/wallets`), a `sign` (a wallet,
//! the sign route's name and its body) or a `keySetup`, the server answers with the same ticket
//! that route gives (or the same error body), and the lane then carries that ceremony's frames.
//! Every ceremony keeps its own single-use id, its own session ids (derived from that id) and
//! its own outcome; one lane failing (a bad frame, an abort) ends that lane only.
//!
//! On the wire:
//! - the client's first message is a binary Noise `NK` handshake message to the server's
//!   ceremony key, under the connection's own prologue; the server's first message answers it
//!   (`channel::Initiator::start_connection`). A server that cannot answer closes the socket.
//! - After that, every message either side sends is one binary WebSocket message sealed in that
//!   channel (the same chunked format a ceremony's own channel uses), whose plaintext is a
//!   **record**: `0x00 ‖ JSON` for a [`Control`] (`{"lane": 7, "create": {...}}`,
//!   `{"lane": 8, "sign": {"walletId": "…", "keyVersion": 1, "route": "sign-message", "body":
//!   {...}}}` from the client; `{"lane": 7, "ticket": {...}}`, `{"lane": 7, "refused":
//!   {"status": 409, "error": {...}}}` or `{"lane": 7, "closed": {}}` from the server), or
//!   `0x01 ‖ be32(lane) ‖ frame` for one frame of a lane's ceremony (`frame::Frame`, unsealed:
//!   the connection seals it). A text message, or a message that fails to open, ends the
//!   connection, and with it every lane.
//!
//! Why one channel keeps each ceremony's guarantees (ARCHITECTURE.md, "The batch connection's
//! one channel"): every record is authenticated and ordered by the channel's nonces, so no
//! frame can be changed, dropped, replayed or moved to another lane without the connection
//! failing; the lane→ceremony binding is the server's ticket, which now travels in the same
//! channel; and each ceremony's session ids still come from its own single-use ceremony id.
//!
//! A lane's id is the client's choice; the SDK never reuses one on a connection (the server
//! refuses only an id in use: a client that reuses a finished one confuses only its own lanes,
//! late frames of the old lane going to the new one). The server runs at most
//! [`MAX_LANES`] at once per connection and ignores frames for lanes it does not know (late
//! frames of a finished ceremony are normal).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{Sink, SinkExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::ceremony_key::CeremonyKey;
use crate::channel::{ConnectionOpener, ConnectionSealer, MAX_FRAME};
use crate::error::{ErrorBody, ProtoError};
use crate::ids::WalletId;
use crate::rest::CeremonyTicket;
use crate::runner::{FrameTransport, Sealing};
use zeroize::Zeroizing;

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

/// The answer to a `keySetup`: the ceremony id the lane's session id comes from, and the id the
/// setup will be stored under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySetupTicket {
    /// The ceremony (not stored: it lives as long as the lane); its session ids are derived
    /// from it.
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

/// A record's first byte: a control message.
const RECORD_CONTROL: u8 = 0x00;
/// A record's first byte: a lane's frame.
const RECORD_FRAME: u8 = 0x01;
/// A frame record's header: its kind and its lane.
const RECORD_FRAME_HEADER: usize = 1 + 4;

/// What the connection's writer sends: a lane's frame, or a control text. `Debug` shows a
/// frame's lane and length only (a frame is plaintext now; some rounds carry secrets).
pub enum Outgoing {
    /// One frame of this lane's ceremony (wiped once sealed: some rounds carry secrets).
    Frame(LaneId, Zeroizing<Vec<u8>>),
    /// One JSON control message.
    Text(String),
}

impl Outgoing {
    /// A control message, encoded.
    pub fn control<T: Serialize>(lane: LaneId, message: T) -> Self {
        // Serialising these plain types to JSON cannot fail.
        Outgoing::Text(serde_json::to_string(&Control { lane, message }).unwrap_or_default())
    }

    /// How long its record is.
    fn record_len(&self) -> usize {
        match self {
            Outgoing::Frame(_, bytes) => RECORD_FRAME_HEADER + bytes.len(),
            Outgoing::Text(text) => 1 + text.len(),
        }
    }

    /// It, if its record can be sealed (at most [`MAX_FRAME`]): one too large fails the caller
    /// alone, not the connection the writer would end on it.
    fn fits(self) -> Result<Self, ProtoError> {
        if self.record_len() > MAX_FRAME {
            return Err(ProtoError::FrameTooLarge);
        }
        Ok(self)
    }

    /// The record's plaintext: `0x00 ‖ JSON` or `0x01 ‖ be32(lane) ‖ frame`.
    pub fn record(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.record_len()));
        match self {
            Outgoing::Frame(lane, bytes) => {
                out.push(RECORD_FRAME);
                out.extend_from_slice(&lane.to_be_bytes());
                out.extend_from_slice(bytes);
            }
            Outgoing::Text(text) => {
                out.push(RECORD_CONTROL);
                out.extend_from_slice(text.as_bytes());
            }
        }
        out
    }
}

/// What a record says, parsed from its plaintext. `Debug` shows a frame's lane and length only.
#[derive(PartialEq, Eq)]
pub enum Record<'a> {
    /// A control message's JSON.
    Control(&'a str),
    /// A lane's frame.
    Frame(LaneId, &'a [u8]),
}

impl<'a> Record<'a> {
    /// Parse a record's plaintext; `None` if it is neither kind.
    pub fn parse(plain: &'a [u8]) -> Option<Self> {
        match plain.split_first()? {
            (&RECORD_CONTROL, json) => std::str::from_utf8(json).ok().map(Record::Control),
            (&RECORD_FRAME, rest) => {
                let (lane, frame) = rest.split_first_chunk::<4>()?;
                Some(Record::Frame(LaneId::from_be_bytes(*lane), frame))
            }
            _ => None,
        }
    }
}

/// A WebSocket message the connection read, whichever WebSocket library carries it (axum's on
/// the server, tungstenite's in the SDK).
#[derive(Debug, PartialEq, Eq)]
pub enum WsRead<'a> {
    /// A binary message: one sealed record.
    Binary(&'a [u8]),
    /// A text message: never sent on a sealed connection.
    Text,
    /// The peer closes the socket.
    Close,
    /// Anything else (pings, pongs): nothing to the lanes.
    Other,
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

/// Seal what the lanes queue on `outgoing` and send it to `sink`, each sealed record made a
/// binary WebSocket message by `message`, until every sender is gone or the socket fails; then
/// close the socket. Records are sealed in the order they are sent, which is the order the
/// peer opens them in. What is queued together is flushed together: with many lanes running,
/// one write carries many lanes' messages.
pub async fn write<S, M>(
    mut outgoing: mpsc::Receiver<Outgoing>,
    mut sink: S,
    mut sealer: ConnectionSealer,
    message: impl Fn(Vec<u8>) -> M,
) where
    S: Sink<M> + Unpin,
{
    let mut wire = |next: Outgoing| sealer.seal(&next.record()).map(&message).ok();
    'socket: while let Some(next) = outgoing.recv().await {
        let Some(sealed) = wire(next) else { break };
        if sink.feed(sealed).await.is_err() {
            break;
        }
        while let Ok(next) = outgoing.try_recv() {
            let Some(sealed) = wire(next) else { break 'socket };
            if sink.feed(sealed).await.is_err() {
                break 'socket;
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
    let _ = sink.close().await;
}

/// What reaches a lane from the connection's reader. `Debug` shows a frame's length only.
pub enum Incoming {
    /// One frame of the lane's ceremony, opened by the connection.
    Frame(Zeroizing<Vec<u8>>),
    /// The server's ticket (client side).
    Ticket(CeremonyTicket),
    /// The server's key setup ticket (client side).
    KeySetupTicket(KeySetupTicket),
    /// The server's refusal (client side).
    Refused(Refusal),
    /// The peer is done with the lane.
    Closed,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outgoing::Frame(lane, bytes) => write!(f, "Frame(lane {lane}, {} bytes)", bytes.len()),
            Outgoing::Text(text) => f.debug_tuple("Text").field(text).finish(),
        }
    }
}

impl std::fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Record::Frame(lane, bytes) => write!(f, "Frame(lane {lane}, {} bytes)", bytes.len()),
            Record::Control(text) => f.debug_tuple("Control").field(text).finish(),
        }
    }
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Incoming::Frame(bytes) => write!(f, "Frame({} bytes)", bytes.len()),
            Incoming::Ticket(t) => f.debug_tuple("Ticket").field(t).finish(),
            Incoming::KeySetupTicket(t) => f.debug_tuple("KeySetupTicket").field(t).finish(),
            Incoming::Refused(r) => f.debug_tuple("Refused").field(r).finish(),
            Incoming::Closed => f.write_str("Closed"),
        }
    }
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
    /// The connection is gone (its reader ended): no lane opens on it again.
    #[error("the batch connection is closed")]
    Closed,
}

/// The open lanes, or `None` once the connection is gone (no lane opens on it again).
type Table = Arc<Mutex<Option<HashMap<LaneId, mpsc::Sender<Incoming>>>>>;

fn locked(table: &Table) -> std::sync::MutexGuard<'_, Option<HashMap<LaneId, mpsc::Sender<Incoming>>>> {
    // Only inserts and removes happen under the lock: a panic cannot leave it half-updated.
    table.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection's open lanes: the reader delivers to them, each ceremony reads its own.
#[derive(Clone)]
pub struct Lanes {
    table: Table,
    out: mpsc::Sender<Outgoing>,
    server: CeremonyKey,
}

impl Lanes {
    /// The lanes of a connection whose writer reads `out`, sealed in a channel with the server
    /// whose ceremony key is `server`.
    pub fn new(out: mpsc::Sender<Outgoing>, server: CeremonyKey) -> Self {
        Self {
            table: Arc::new(Mutex::new(Some(HashMap::new()))),
            out,
            server,
        }
    }

    /// Open lane `id`.
    pub fn open(&self, id: LaneId) -> Result<Lane, LaneRefused> {
        let mut guard = locked(&self.table);
        let table = guard.as_mut().ok_or(LaneRefused::Closed)?;
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
            server: self.server,
            told: false,
        })
    }

    /// Hand `message` to lane `id`. A lane that is not open is ignored (late frames of a
    /// finished ceremony are normal); one whose backlog is full loses its place, which ends it.
    pub fn deliver(&self, id: LaneId, message: Incoming) {
        let mut guard = locked(&self.table);
        let Some(table) = guard.as_mut() else { return };
        let Some(tx) = table.get(&id) else { return };
        if tx.try_send(message).is_err() {
            table.remove(&id);
        }
    }

    /// Take one received message, opened by `opener`: a lane's frame goes to its lane; a
    /// control message is parsed as `T` for the reader to act on; a close, a text message, a
    /// message that fails to open, or a record that is neither kind ends the connection.
    pub fn receive<T: DeserializeOwned>(&self, message: WsRead<'_>, opener: &mut ConnectionOpener) -> Received<T> {
        let sealed = match message {
            WsRead::Binary(sealed) => sealed,
            WsRead::Text | WsRead::Close => return Received::End,
            WsRead::Other => return Received::Done,
        };
        let Ok(plain) = opener.open(sealed) else {
            return Received::End;
        };
        match Record::parse(&plain) {
            Some(Record::Frame(lane, _)) => {
                // The frame stays where it was opened: its record's header is cut off in place.
                let mut frame = plain;
                frame.drain(..RECORD_FRAME_HEADER);
                self.deliver(lane, Incoming::Frame(frame));
                Received::Done
            }
            Some(Record::Control(text)) => match serde_json::from_str::<Control<T>>(text) {
                Ok(control) => Received::Control(control),
                Err(_) => Received::End,
            },
            None => Received::End,
        }
    }

    /// The connection is gone: every lane's next read fails, and no lane opens again.
    pub fn close_all(&self) {
        *locked(&self.table) = None;
    }

    /// How many lanes are open.
    pub fn len(&self) -> usize {
        locked(&self.table).as_ref().map_or(0, HashMap::len)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Send a control message (e.g. a `create`) on the connection.
    pub async fn control<T: Serialize>(&self, lane: LaneId, message: T) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::control(lane, message).fits()?)
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
    /// The ceremony key of the server the connection's channel is with.
    server: CeremonyKey,
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

    /// Take this lane out of its connection's table: the reader delivers nothing more to it.
    fn leave_table(&self) {
        if let Some(table) = locked(&self.table).as_mut() {
            table.remove(&self.id);
        }
    }

    /// Send a control message about this lane.
    pub async fn control<T: Serialize>(&self, message: T) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::control(self.id, message).fits()?)
            .await
            .map_err(|_| ProtoError::Transport("the batch connection is closed".into()))
    }
}

impl FrameTransport for Lane {
    /// `message` is a frame in the clear (see [`Sealing::ByConnection`]): the connection seals
    /// it, and wipes it then.
    async fn send(&mut self, message: Vec<u8>) -> Result<(), ProtoError> {
        self.out
            .send(Outgoing::Frame(self.id, Zeroizing::new(message)).fits()?)
            .await
            .map_err(|_| ProtoError::Transport("the batch connection is closed".into()))
    }

    async fn recv(&mut self) -> Result<Vec<u8>, ProtoError> {
        match self.next().await {
            // Moved out, not copied: the runner wipes it in turn.
            Some(Incoming::Frame(mut bytes)) => Ok(std::mem::take(&mut *bytes)),
            Some(Incoming::Ticket(_) | Incoming::KeySetupTicket(_) | Incoming::Refused(_)) => Err(
                ProtoError::UnexpectedFrame("a control message inside a running ceremony"),
            ),
            Some(Incoming::Closed) | None => Err(ProtoError::Transport("the peer closed the lane".into())),
        }
    }

    async fn close(&mut self) {
        self.leave_table();
        if !self.told {
            self.told = true;
            let _ = self.control(Closed::MESSAGE).await;
        }
    }

    fn sealing(&self) -> Sealing {
        Sealing::ByConnection(self.server)
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.leave_table();
        if !self.told {
            // Best effort, without waiting: a full queue means the connection is stuck anyway.
            let _ = self.out.try_send(Outgoing::control(self.id, Closed::MESSAGE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{ConnectionChannel, Initiator, Responder, ServerStaticKey};

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

    /// Both ends of a connection's channel: (client, server).
    fn connection() -> (ConnectionChannel, ConnectionChannel, CeremonyKey) {
        let key = ServerStaticKey::from_secret([5u8; 32]).unwrap();
        let (init, m1) = Initiator::start_connection(&key.public()).unwrap();
        let (server, m2) = Responder::respond_connection(&key, &m1).unwrap();
        (init.finish(&m2).unwrap(), server, key.public())
    }

    fn frame(lane: LaneId, bytes: &[u8]) -> Outgoing {
        Outgoing::Frame(lane, Zeroizing::new(bytes.to_vec()))
    }

    #[test]
    fn records_carry_their_kind_and_lane() {
        let record = frame(0x0102_0304, b"abc").record();
        assert_eq!(&record[..], &[1, 1, 2, 3, 4, b'a', b'b', b'c']);
        assert_eq!(Record::parse(&record), Some(Record::Frame(0x0102_0304, &b"abc"[..])));
        let control = Outgoing::control(7, Closed::MESSAGE).record();
        assert_eq!(
            Record::parse(&control),
            Some(Record::Control(r#"{"lane":7,"closed":{}}"#))
        );
        for bad in [&[][..], &[1, 0, 0, 3][..], &[2, 0][..], &[0, 0xff][..]] {
            assert_eq!(Record::parse(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn received_messages_go_to_their_lane_or_end_the_connection() {
        let (mut client, mut server, key) = connection();
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out, key);
        let mut lane = lanes.open(3).unwrap();
        assert_eq!(lane.sealing(), Sealing::ByConnection(key));
        let mut seal = |o: Outgoing| client.sealer.seal(&o.record()).unwrap();
        let opener = &mut server.opener;
        let sealed = seal(frame(3, b"round"));
        assert!(!sealed.windows(5).any(|w| w == b"round"), "the frame is sealed");
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&sealed), opener),
            Received::Done
        );
        assert_eq!(lane.recv().await.unwrap(), b"round".to_vec());
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&seal(Outgoing::control(3, Closed::MESSAGE))), opener),
            Received::Control(Control {
                lane: 3,
                message: ToClient::Closed(Closed {})
            })
        );
        // For no open lane: dropped, the connection goes on.
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&seal(frame(9, b"late"))), opener),
            Received::Done
        );
        assert_eq!(lanes.receive::<ToClient>(WsRead::Other, opener), Received::Done);
        assert_eq!(lanes.receive::<ToClient>(WsRead::Text, opener), Received::End);
        assert_eq!(lanes.receive::<ToClient>(WsRead::Close, opener), Received::End);
        let not_json = seal(Outgoing::Text("not json".into()));
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&not_json), opener),
            Received::End
        );
        let no_kind = client.sealer.seal(&[9, 0, 0, 0, 3]).unwrap();
        assert_eq!(
            lanes.receive::<ToClient>(WsRead::Binary(&no_kind), opener),
            Received::End
        );
    }

    #[tokio::test]
    async fn a_changed_replayed_or_reordered_record_ends_the_connection_for_good() {
        let (out, _rx) = mpsc::channel(16);
        let run = |tamper: fn(Vec<Vec<u8>>) -> Vec<Vec<u8>>| {
            let (mut client, mut server, key) = connection();
            let lanes = Lanes::new(out.clone(), key);
            let mut lane = lanes.open(1).unwrap();
            let sealed: Vec<Vec<u8>> = (0..3u8)
                .map(|i| client.sealer.seal(&frame(1, &[i]).record()).unwrap())
                .collect();
            let received: Vec<_> = tamper(sealed)
                .iter()
                .map(|m| lanes.receive::<ToServer>(WsRead::Binary(m), &mut server.opener))
                .collect();
            let mut delivered = Vec::new();
            drop(lanes);
            while let Ok(Incoming::Frame(f)) = lane.incoming.try_recv() {
                delivered.push(f[0]);
            }
            (received, delivered)
        };
        // As sent: each delivered in order.
        let (received, delivered) = run(|s| s);
        assert_eq!(received, vec![Received::Done, Received::Done, Received::Done]);
        assert_eq!(delivered, vec![0, 1, 2]);
        // A flipped bit in the second: it and everything after it are refused.
        let (received, delivered) = run(|mut s| {
            let last = s[1].len() - 1;
            s[1][last] ^= 1;
            s
        });
        assert_eq!(received, vec![Received::Done, Received::End, Received::End]);
        assert_eq!(delivered, vec![0]);
        // The first again, in place of the second.
        let (received, delivered) = run(|s| vec![s[0].clone(), s[0].clone(), s[1].clone()]);
        assert_eq!(received, vec![Received::Done, Received::End, Received::End]);
        assert_eq!(delivered, vec![0]);
        // The third before the second.
        let (received, delivered) = run(|s| vec![s[0].clone(), s[2].clone(), s[1].clone()]);
        assert_eq!(received, vec![Received::Done, Received::End, Received::End]);
        assert_eq!(delivered, vec![0]);
    }

    #[tokio::test]
    async fn a_flooding_peer_loses_its_lane_and_only_it() {
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out, CeremonyKey::new([1; 32]));
        let mut flooded = lanes.open(1).unwrap();
        let mut quiet = lanes.open(2).unwrap();
        assert_eq!(lanes.open(1).err(), Some(LaneRefused::InUse(1)));
        for _ in 0..=LANE_BACKLOG {
            lanes.deliver(1, Incoming::Frame(Zeroizing::new(vec![0])));
        }
        lanes.deliver(2, Incoming::Frame(Zeroizing::new(vec![2])));
        for _ in 0..LANE_BACKLOG {
            assert!(flooded.recv().await.is_ok());
        }
        assert!(matches!(flooded.recv().await, Err(ProtoError::Transport(_))));
        assert_eq!(quiet.recv().await.unwrap(), vec![2]);
        drop(quiet);
        assert!(lanes.is_empty());
    }

    #[tokio::test]
    async fn a_record_too_large_fails_its_lane_alone_and_a_closed_connection_opens_no_lane() {
        let (out, mut rx) = mpsc::channel(16);
        let lanes = Lanes::new(out, CeremonyKey::new([1; 32]));
        let mut lane = lanes.open(1).unwrap();
        // The largest frame a ceremony's own channel takes is 5 bytes too many in a record.
        let err = lane.send(vec![0; MAX_FRAME - 4]).await.unwrap_err();
        assert!(matches!(err, ProtoError::FrameTooLarge), "{err:?}");
        assert!(rx.try_recv().is_err(), "nothing reached the writer");
        lane.send(vec![0; MAX_FRAME - 5]).await.unwrap();
        assert!(matches!(rx.try_recv(), Ok(Outgoing::Frame(1, f)) if f.len() == MAX_FRAME - 5));
        let huge = ToServer::Create(serde_json::json!({ "pad": "x".repeat(MAX_FRAME) }));
        assert!(matches!(
            lane.control(huge.clone()).await,
            Err(ProtoError::FrameTooLarge)
        ));
        assert!(matches!(lanes.control(2, huge).await, Err(ProtoError::FrameTooLarge)));
        assert!(rx.try_recv().is_err(), "nothing reached the writer");
        // Debug never shows a frame's bytes.
        let shown = format!("{:?}", Outgoing::Frame(3, Zeroizing::new(b"secret round".to_vec())));
        assert_eq!(shown, "Frame(lane 3, 12 bytes)");
        assert!(!format!("{:?}", Incoming::Frame(Zeroizing::new(b"secret".to_vec()))).contains("115"));

        lanes.close_all();
        assert!(matches!(lane.recv().await, Err(ProtoError::Transport(_))));
        assert_eq!(lanes.open(2).err(), Some(LaneRefused::Closed));
    }

    #[tokio::test]
    async fn a_connection_runs_at_most_max_lanes() {
        let (out, _rx) = mpsc::channel(16);
        let lanes = Lanes::new(out, CeremonyKey::new([1; 32]));
        let open: Vec<Lane> = (0..MAX_LANES as LaneId).map(|i| lanes.open(i).unwrap()).collect();
        assert_eq!(lanes.open(MAX_LANES as LaneId).err(), Some(LaneRefused::Full));
        drop(open);
        assert!(lanes.open(MAX_LANES as LaneId).is_ok());
    }
}
