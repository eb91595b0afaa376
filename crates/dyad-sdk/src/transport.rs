//! A tokio-tungstenite WebSocket as a [`FrameTransport`]: binary messages only.

use dyad_proto::{FrameTransport, ProtoError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use dyad_proto::runner::CLOSED_DURING_HANDSHAKE;

/// The client end of a ceremony socket.
pub struct ClientSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// A message arrived from the server (so the handshake was answered).
    answered: bool,
}

impl ClientSocket {
    /// Connect to a `ws://` or `wss://` URL.
    pub async fn connect(url: &str) -> Result<Self, ProtoError> {
        // No Nagle: a ceremony is a ping-pong of small messages.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(resp) => {
                    let body = resp
                        .body()
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default();
                    ProtoError::Transport(format!("server refused the ceremony ({}): {body}", resp.status()))
                }
                other => ProtoError::Transport(other.to_string()),
            })?;
        Ok(Self { ws, answered: false })
    }

    fn closed(&self, what: String) -> ProtoError {
        if self.answered {
            ProtoError::Transport(what)
        } else {
            ProtoError::Transport(CLOSED_DURING_HANDSHAKE.into())
        }
    }
}

impl FrameTransport for ClientSocket {
    fn sealing(&self) -> dyad_proto::Sealing {
        dyad_proto::Sealing::PerCeremony
    }

    async fn send(&mut self, message: Vec<u8>) -> Result<(), ProtoError> {
        let sent = self.ws.send(Message::Binary(message.into())).await;
        sent.map_err(|e| self.closed(e.to_string()))
    }

    async fn recv(&mut self) -> Result<Vec<u8>, ProtoError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Binary(b))) => {
                    self.answered = true;
                    return Ok(b.to_vec());
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Text(_))) => {
                    return Err(ProtoError::UnexpectedFrame("text message on a ceremony socket"))
                }
                Some(Ok(Message::Close(_))) | None => return Err(self.closed("server closed the connection".into())),
                Some(Err(e)) => return Err(self.closed(e.to_string())),
            }
        }
    }

    async fn close(&mut self) {
        let _ = self.ws.close(None).await;
    }
}
