//! The batch connection, user side: many key generations over one WebSocket
//! (`dyad_proto::batch`), so bulk creation pays neither an HTTP request nor a WebSocket per
//! wallet. Each wallet is still its own ceremony: its own ticket, Noise handshake, session ids
//! and outcome, run by the same [`ceremony::generate`] as a wallet created alone, and ending the
//! same way (kept before its confirmation; [`SdkError::Unconfirmed`] with the share loaded if the
//! server's word is lost after it).

use std::sync::atomic::{AtomicU32, Ordering};

use dyad_proto::batch::{
    decode_frame, encode_frame, Control, Incoming, LaneId, Lanes, Outgoing, Refusal, ToClient, ToServer, BATCH_PATH,
    MAX_LANES,
};
use dyad_proto::rest::CreateWalletRequest;
use dyad_proto::{CeremonyKey, PregenId, ProtoError, WalletType};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::ceremony::{self, KeepShare};
use crate::error::SdkError;
use crate::{Dyad, Wallet};

/// How many outgoing messages may queue for the socket before lanes wait for it.
const OUTGOING_BACKLOG: usize = 1024;

/// One batch connection of a [`Dyad`] client: create wallets over it concurrently (it runs at
/// most [`MAX_LANES`] at once; more wait their turn). Dropping it closes the connection; any
/// ceremony still running on it then fails as on a dropped socket.
pub struct Batch<'a> {
    dyad: &'a Dyad,
    server_key: CeremonyKey,
    lanes: Lanes,
    next_lane: AtomicU32,
    slots: Semaphore,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("open_lanes", &self.lanes.len()).finish()
    }
}

impl Dyad {
    /// Open a batch connection (`GET /v1/ceremonies/batch`, authenticated by this client's API
    /// key): for creating many wallets without an HTTP request and a WebSocket each.
    pub async fn batch(&self) -> Result<Batch<'_>, SdkError> {
        let server_key = self.server_key().await?;
        let request = self.api.ws_request(BATCH_PATH)?;
        let (ws, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                let body = resp.body().clone().unwrap_or_default();
                crate::http::api_error(resp.status(), &body)
            }
            other => SdkError::Ceremony(ProtoError::Transport(other.to_string())),
        })?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut outgoing) = mpsc::channel::<Outgoing>(OUTGOING_BACKLOG);
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                let message = match message {
                    Outgoing::Frame(lane, bytes) => Message::Binary(encode_frame(lane, &bytes).into()),
                    Outgoing::Text(text) => Message::Text(text.into()),
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let lanes = Lanes::new(out);
        let reading = lanes.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                match message {
                    Message::Binary(bytes) => match decode_frame(&bytes) {
                        Some((lane, body)) => reading.deliver(lane, Incoming::Frame(body.to_vec())),
                        None => break,
                    },
                    Message::Text(text) => match serde_json::from_str::<Control<ToClient>>(text.as_str()) {
                        Ok(Control { lane, message }) => reading.deliver(
                            lane,
                            match message {
                                ToClient::Ticket(ticket) => Incoming::Ticket(ticket),
                                ToClient::Refused(refusal) => Incoming::Refused(refusal),
                                ToClient::Closed(_) => Incoming::Closed,
                            },
                        ),
                        Err(_) => break,
                    },
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                }
            }
            reading.close_all();
        });
        Ok(Batch {
            dyad: self,
            server_key,
            lanes,
            next_lane: AtomicU32::new(0),
            slots: Semaphore::new(MAX_LANES),
            reader,
            writer,
        })
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
    /// this side confirms the key, and is not loaded.
    pub async fn create_pregen_wallet_kept(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: KeepShare<'_>,
    ) -> Result<Wallet, SdkError> {
        self.create(wallet_type, pregen_id, Some(keep)).await
    }

    async fn create(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: Option<KeepShare<'_>>,
    ) -> Result<Wallet, SdkError> {
        let closed = || SdkError::Ceremony(ProtoError::Transport("the batch connection is closed".into()));
        // Closed only when the connection is dropped, which cannot happen while `self` lives.
        let _slot = self.slots.acquire().await.map_err(|_| closed())?;
        let id: LaneId = self.next_lane.fetch_add(1, Ordering::Relaxed);
        let mut lane = self
            .lanes
            .open(id)
            .map_err(|e| SdkError::Ceremony(ProtoError::Transport(e.to_string())))?;
        let body = serde_json::to_value(CreateWalletRequest {
            wallet_type,
            pregen_id: pregen_id.clone(),
        })
        .map_err(|e| SdkError::Http(format!("encoding the request: {e}")))?;
        lane.control(ToServer::Create(body)).await?;
        let ticket = match lane.next().await {
            Some(Incoming::Ticket(ticket)) => ticket,
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
        let load = keep.is_none();
        let generated = ceremony::generate(
            std::future::ready(Ok(lane)),
            self.server_key,
            wallet_type,
            pregen_id,
            &ticket,
            keep,
        )
        .await;
        self.dyad.created(generated, load, &self.server_key)
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
        self.lanes.close_all();
    }
}
