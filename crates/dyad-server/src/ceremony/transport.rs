//! An axum WebSocket as a [`FrameTransport`]: binary messages only.

use axum::extract::ws::{Message, WebSocket};
use dyad_proto::{FrameTransport, ProtoError};
use futures_util::StreamExt;

/// The server end of a ceremony socket.
pub struct AxumSocket(WebSocket);

impl AxumSocket {
    /// Wrap an upgraded socket.
    pub fn new(socket: WebSocket) -> Self {
        Self(socket)
    }
}

impl FrameTransport for AxumSocket {
    fn sealing(&self) -> dyad_proto::Sealing {
        dyad_proto::Sealing::PerCeremony
    }

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
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Text(_))) => {
                    return Err(ProtoError::UnexpectedFrame("text message on a ceremony socket"))
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(ProtoError::Transport("peer closed the connection".into()))
                }
                Some(Err(e)) => return Err(ProtoError::Transport(e.to_string())),
            }
        }
    }

    async fn close(&mut self) {
        let _ = self.0.send(Message::Close(None)).await;
    }
}
