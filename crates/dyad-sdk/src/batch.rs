//! The batch connection, user side: many key generations and signatures over one WebSocket
//! (`dyad_proto::batch`), so neither bulk creation nor a stream of signatures pays an HTTP
//! request, a WebSocket and a Noise handshake per ceremony: the connection's one handshake, to the
//! server's pinned ceremony key, seals every ceremony on it. Each is still its own ceremony: its
//! own ticket, session ids and outcome. A wallet is created by the same [`ceremony::generate`] as
//! one created alone, and ends the same way (kept before its confirmation;
//! [`SdkError::Unconfirmed`] with the share loaded if the server's word is lost after it); a
//! signature is made by the same [`ceremony::sign`], after the same checks (one ceremony per
//! share at a time, none once the server was caught cheating). Each key generation runs on a
//! task of its own, so a caller that awaits many creates at once (a `join_all`, a buffered
//! stream) computes them on every core of a multi-threaded runtime.

use std::sync::atomic::{AtomicU32, Ordering};

use dyad_proto::batch::{
    self, Control, Incoming, LaneId, Lanes, Outgoing, Received, Refusal, ToClient, ToServer, WsRead, BATCH_PATH,
    MAX_LANES,
};
use dyad_proto::batch::{Lane, SignOnLane, SignRoute};
use dyad_proto::channel::{ConnectionChannel, Initiator};
use dyad_proto::rest::{CeremonyTicket, CreateWalletRequest};
use dyad_proto::{CeremonyKey, PregenId, ProtoError, WalletId, WalletType};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore, SemaphorePermit};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

use crate::ceremony::{self, KeepShare};
use crate::error::SdkError;
use crate::signing::SignCall;
use crate::{Digest, Dyad, SignResult, SignedTransactionResult, TransactionRequest, Wallet};

/// How many outgoing messages may queue for the socket before lanes wait for it.
const OUTGOING_BACKLOG: usize = 1024;

/// One batch connection of a [`Dyad`] client: create wallets and sign with loaded ones over it
/// concurrently (it runs at most [`MAX_LANES`] ceremonies at once; more wait their turn). Dropping it closes the connection; any
/// ceremony still running on it then fails as on a dropped socket.
pub struct Batch<'a> {
    dyad: &'a Dyad,
    server_key: CeremonyKey,
    connection: Connection,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("open_lanes", &self.connection.lanes.len())
            .finish()
    }
}

/// The connection itself: its lanes and the tasks that read and write its socket. Owns nothing
/// of a client, so the setup pool's refill can hold one on a task of its own.
pub(crate) struct Connection {
    lanes: Lanes,
    next_lane: AtomicU32,
    slots: Semaphore,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Dyad {
    /// Open a batch connection (`GET /v1/ceremonies/batch`, authenticated by this client's API
    /// key): for creating many wallets, or signing many times, without an HTTP request and a
    /// WebSocket each.
    pub async fn batch(&self) -> Result<Batch<'_>, SdkError> {
        let server_key = self.server_key().await?;
        Ok(Batch {
            dyad: self,
            server_key,
            connection: Connection::open(&self.api, server_key).await?,
        })
    }
}

impl Connection {
    /// Connect to `api`'s batch route and handshake with the server whose ceremony key is
    /// `server_key`; a server that cannot answer for it is [`SdkError::HandshakeFailed`].
    pub(crate) async fn open(api: &crate::http::Api, server_key: CeremonyKey) -> Result<Connection, SdkError> {
        let request = api.ws_request(BATCH_PATH)?;
        // No Nagle: hundreds of ceremonies' small messages share this socket.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(resp) => {
                    let body = resp.body().clone().unwrap_or_default();
                    crate::http::api_error(resp.status(), &body)
                }
                other => SdkError::Ceremony(ProtoError::Transport(other.to_string())),
            })?;
        let (mut sink, mut stream) = ws.split();
        let ConnectionChannel { sealer, mut opener } =
            tokio::time::timeout(dyad_proto::PEER_TIMEOUT, handshake(&mut sink, &mut stream, &server_key))
                .await
                .unwrap_or(Err(ProtoError::Timeout))
                .map_err(|e| crate::handshake_failure(SdkError::Ceremony(e), &server_key))?;
        let (out, outgoing) = mpsc::channel::<Outgoing>(OUTGOING_BACKLOG);
        let writer = tokio::spawn(batch::write(outgoing, sink, sealer, |sealed| {
            Message::Binary(sealed.into())
        }));
        let lanes = Lanes::new(out, server_key);
        let reading = lanes.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let read = match &message {
                    Message::Binary(bytes) => WsRead::Binary(bytes),
                    Message::Text(_) => WsRead::Text,
                    Message::Close(_) => WsRead::Close,
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => WsRead::Other,
                };
                match reading.receive::<ToClient>(read, &mut opener) {
                    Received::Done => {}
                    Received::Control(Control { lane, message }) => reading.deliver(
                        lane,
                        match message {
                            ToClient::Ticket(ticket) => Incoming::Ticket(ticket),
                            ToClient::KeySetupTicket(ticket) => Incoming::KeySetupTicket(ticket),
                            ToClient::Refused(refusal) => Incoming::Refused(refusal),
                            ToClient::Closed(_) => Incoming::Closed,
                        },
                    ),
                    Received::End => break,
                }
            }
            reading.close_all();
        });
        Ok(Connection {
            lanes,
            next_lane: AtomicU32::new(0),
            slots: Semaphore::new(MAX_LANES),
            reader,
            writer,
        })
    }

    /// Take a slot, open a lane, send `message` on it and wait for the server's first word: a
    /// ticket of either kind; a refusal comes back as the route's error.
    pub(crate) async fn open_lane(&self, message: ToServer) -> Result<(SemaphorePermit<'_>, Incoming, Lane), SdkError> {
        let closed = || SdkError::Ceremony(ProtoError::Transport("the batch connection is closed".into()));
        // Closed only when the connection is dropped, which cannot happen while `self` lives.
        let slot = self.slots.acquire().await.map_err(|_| closed())?;
        let id: LaneId = self.next_lane.fetch_add(1, Ordering::Relaxed);
        // Refused once the reader has ended (the server closed the connection, or a message
        // failed to open): a lane opened then would wait for a ticket for ever.
        let mut lane = self
            .lanes
            .open(id)
            .map_err(|e| SdkError::Ceremony(ProtoError::Transport(e.to_string())))?;
        lane.control(message).await?;
        let first = match lane.next().await {
            Some(ticket @ (Incoming::Ticket(_) | Incoming::KeySetupTicket(_))) => ticket,
            Some(Incoming::Refused(Refusal { status, error })) => {
                return Err(SdkError::Api {
                    status,
                    code: error.code,
                    message: error.message,
                    wallet_id: error.wallet_id,
                })
            }
            Some(Incoming::Frame(_)) => {
                return Err(ProtoError::UnexpectedFrame("a ceremony frame before the ticket").into())
            }
            Some(Incoming::Closed) | None => return Err(closed()),
        };
        Ok((slot, first, lane))
    }
}

/// The connection's handshake with the server whose ceremony key is `server_key`: the hello,
/// then the server's answer (a server that cannot answer for the key closes the socket).
async fn handshake<S, R>(
    sink: &mut S,
    stream: &mut R,
    server_key: &CeremonyKey,
) -> Result<ConnectionChannel, ProtoError>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
    R: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let (init, hello) = Initiator::start_connection(server_key)?;
    sink.send(Message::Binary(hello.into()))
        .await
        .map_err(|e| ProtoError::Transport(e.to_string()))?;
    loop {
        match stream.next().await {
            Some(Ok(Message::Binary(answer))) => return init.finish(&answer),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            _ => {
                return Err(ProtoError::Transport(
                    dyad_proto::runner::CLOSED_DURING_HANDSHAKE.into(),
                ))
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
        self.lanes.close_all();
    }
}

impl Batch<'_> {
    /// [`Dyad::create_pregen_wallet`] over this connection: the share is loaded into the client.
    pub async fn create_pregen_wallet(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
    ) -> Result<Wallet, SdkError> {
        self.create(wallet_type, pregen_id, None).await
    }

    /// [`Dyad::create_pregen_wallet_kept`] over this connection: the share goes to `keep` before
    /// this side confirms the key, and is not loaded. `keep` outlives the call (`'static`), as
    /// the ceremony runs on a task of its own.
    pub async fn create_pregen_wallet_kept(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: KeepShare<'static>,
    ) -> Result<Wallet, SdkError> {
        self.create(wallet_type, pregen_id, Some(keep)).await
    }

    async fn create(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: Option<KeepShare<'static>>,
    ) -> Result<Wallet, SdkError> {
        let ((_slot, ticket, lane), setup) = self
            .dyad
            .start_keygen(wallet_type, |key_setup_id| async move {
                let body = serde_json::to_value(CreateWalletRequest {
                    wallet_type,
                    pregen_id: pregen_id.clone(),
                    key_setup_id,
                })
                .map_err(|e| SdkError::Http(format!("encoding the request: {e}")))?;
                self.open_lane(ToServer::Create(body)).await
            })
            .await?;
        let load = keep.is_none();
        let (server_key, pregen_id) = (self.server_key, pregen_id.clone());
        // On a task of its own (a FROST step is computed in place, see `dyad_proto::RunStart`);
        // in a set, so that dropping this call aborts the ceremony as it would abort one run in
        // place.
        let mut task = JoinSet::new();
        task.spawn(async move {
            ceremony::generate(
                std::future::ready(Ok(lane)),
                server_key,
                wallet_type,
                &pregen_id,
                &ticket,
                keep,
                setup,
            )
            .await
        });
        let generated = match task.join_next().await {
            Some(Ok(generated)) => generated,
            // The task panicked (a bug); whatever it held went with it.
            Some(Err(_)) | None => {
                return Err(SdkError::Ceremony(ProtoError::Transport(
                    "the ceremony task failed".into(),
                )))
            }
        };
        self.dyad.refill_pool(self.server_key);
        self.dyad.created(generated, load, &self.server_key)
    }
}

impl Batch<'_> {
    /// [`Dyad::sign_message`] over this connection.
    pub async fn sign_message(&self, wallet_id: WalletId, message: &[u8]) -> Result<SignResult, SdkError> {
        let signed = self
            .dyad
            .sign(wallet_id, SignCall::message(message)?, Some(self))
            .await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// [`Dyad::sign_transaction`] over this connection.
    pub async fn sign_transaction(
        &self,
        wallet_id: WalletId,
        request: &TransactionRequest,
    ) -> Result<SignedTransactionResult, SdkError> {
        let signed = self
            .dyad
            .sign(wallet_id, SignCall::transaction(request)?, Some(self))
            .await?;
        Ok(SignedTransactionResult::of(wallet_id, signed))
    }

    /// [`Dyad::sign_typed_data`] over this connection.
    pub async fn sign_typed_data(
        &self,
        wallet_id: WalletId,
        typed_data: &serde_json::Value,
    ) -> Result<SignResult, SdkError> {
        let signed = self
            .dyad
            .sign(wallet_id, SignCall::typed_data(typed_data)?, Some(self))
            .await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// [`Dyad::sign_raw`] over this connection.
    pub async fn sign_raw(&self, wallet_id: WalletId, digest: impl Into<Digest>) -> Result<SignResult, SdkError> {
        let signed = self
            .dyad
            .sign(wallet_id, SignCall::raw(digest.into())?, Some(self))
            .await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// The ceremony key of the server this connection's channel is with.
    pub(crate) fn server_key(&self) -> CeremonyKey {
        self.server_key
    }

    /// Ask for a signature on a new lane: the ticket, and the lane its ceremony runs on. The
    /// lane's slot is held by the lane's ceremony: it is given back when the lane is dropped.
    pub(crate) async fn sign_lane(
        &self,
        wallet_id: WalletId,
        key_version: u32,
        route: SignRoute,
        body: serde_json::Value,
    ) -> Result<(CeremonyTicket, SlotLane<'_>), SdkError> {
        let (slot, ticket, lane) = self
            .open_lane(ToServer::Sign(SignOnLane {
                wallet_id,
                key_version: Some(key_version),
                route,
                body,
            }))
            .await?;
        Ok((ticket, SlotLane { lane, _slot: slot }))
    }

    /// Take a slot, open a lane, ask for `message`'s ceremony on it and wait for its ticket; a
    /// refusal comes back as the route's error.
    async fn open_lane(&self, message: ToServer) -> Result<(SemaphorePermit<'_>, CeremonyTicket, Lane), SdkError> {
        match self.connection.open_lane(message).await? {
            (slot, Incoming::Ticket(ticket), lane) => Ok((slot, ticket, lane)),
            _ => Err(ProtoError::UnexpectedFrame("a key setup ticket for a ceremony").into()),
        }
    }
}

/// A lane holding its connection slot for as long as its ceremony runs.
pub(crate) struct SlotLane<'a> {
    lane: Lane,
    _slot: SemaphorePermit<'a>,
}

impl dyad_proto::FrameTransport for SlotLane<'_> {
    async fn send(&mut self, message: Vec<u8>) -> Result<(), ProtoError> {
        self.lane.send(message).await
    }

    async fn recv(&mut self) -> Result<Vec<u8>, ProtoError> {
        self.lane.recv().await
    }

    async fn close(&mut self) {
        self.lane.close().await
    }

    fn sealing(&self) -> dyad_proto::Sealing {
        self.lane.sealing()
    }
}
