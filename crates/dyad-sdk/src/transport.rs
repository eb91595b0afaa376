//! A tokio-tungstenite WebSocket as a [`FrameTransport`]: binary messages only.

use dyad_proto::{FrameTransport, ProtoError};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The client end of a ceremony socket.
pub struct ClientSocket(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl ClientSocket {
    /// Connect to a `ws://` or `wss://` URL.
    pub async fn connect(url: &str) -> Result<Self, ProtoError> {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| match e {
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
        Ok(Self(ws))
    }

    /// Close politely (best effort).
    pub async fn close(mut self) {
        let _ = self.0.close(None).await;
    }
}

impl FrameTransport for ClientSocket {
    async fn send(&mut self, message: Vec<u8>) -> Result<(), ProtoError> {
        self.0
            .send(Message::Binary(message.into()))
            .await
            .map_err(|e| ProtoError::Transport(e.to_string()))
    }

    async fn recv(&mut self) -> Result<Vec<u8>, ProtoError> {
        loop {
            match self.0.next().await {
                Some(Ok(Message::Binary(b))) => return Ok(b.to_vec()),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Text(_))) => {
                    return Err(ProtoError::UnexpectedFrame("text message on a ceremony socket"))
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(ProtoError::Transport("server closed the connection".into()))
                }
                Some(Err(e)) => return Err(ProtoError::Transport(e.to_string())),
            }
        }
    }
}
