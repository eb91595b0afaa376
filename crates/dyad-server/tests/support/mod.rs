//! A real server on port 0 over a temporary SQLite data folder, apps on it, requests made by
//! hand, and a client side of a ceremony driven by hand (to misbehave). What is not about a
//! running server (verifiers, published vectors, identifiers) is in `dyad-test-support`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use dyad_proto::rest::{ceremony_path, CeremonyTicket};
use dyad_proto::{CeremonyId, CeremonyKey, Environment, ErrorCode, Frame, Initiator, SecureChannel, WalletId};
use dyad_server::{AppState, DataDir, RunningServer, ServerConfig, Store};
use dyad_test_support::private_tempdir;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

pub struct TestServer {
    pub server: RunningServer,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
}

/// Start a server on `dir` (its SQLite file and master key are created on first use).
pub async fn serve(dir: &Path) -> (RunningServer, Arc<dyn Store>) {
    serve_with(dir, ServerConfig::default()).await
}

/// The same with other settings.
pub async fn serve_with(dir: &Path, config: ServerConfig) -> (RunningServer, Arc<dyn Store>) {
    let data = DataDir::new(dir).unwrap();
    let store = data.open_store().await.unwrap();
    let master = data.master_key_from_env_or_file().unwrap();
    let state = AppState::new(store.clone(), &master, config).await.unwrap();
    (dyad_server::spawn(state, "127.0.0.1:0").await.unwrap(), store)
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> Self {
        let dir = private_tempdir();
        let (server, store) = serve_with(dir.path(), config).await;
        Self { server, store, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The scope of the first app created on this server.
    pub async fn first_scope(&self) -> dyad_server::model::Scope {
        let app = self.store.apps().await.unwrap()[0].clone();
        dyad_server::model::Scope {
            app_id: app.id,
            environment: app.environment,
        }
    }

    /// The audit log of the first app.
    pub async fn audit_log(&self) -> Vec<dyad_server::audit::AuditRecord> {
        self.store.audit_log(self.first_scope().await).await.unwrap()
    }

    /// How many entries of the first app's audit log have `action`.
    pub async fn audited(&self, action: &str) -> usize {
        self.audit_log().await.iter().filter(|r| r.action == action).count()
    }

    /// A `SELECT COUNT(*) …` straight against the SQLite file, as an outside reader sees it.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.data_dir().join("dyad.db").display()))
            .await
            .unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&db).await.unwrap();
        db.close().await;
        n
    }

    /// Run one statement straight against the SQLite file (to make the server's writes fail).
    pub async fn execute(&self, sql: &str) {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.data_dir().join("dyad.db").display()))
            .await
            .unwrap();
        sqlx::query(sql).execute(&db).await.unwrap();
        db.close().await;
    }

    /// A new BETA app; its API key.
    pub async fn app(&self, name: &str) -> String {
        let (_, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// A new BETA app on which an operator enabled `sign-raw` (off by default); its API key.
    pub async fn app_allowing_raw_signing(&self, name: &str) -> String {
        let (app, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        dyad_server::api_key::set_allow_raw_signing(self.store.as_ref(), app.id, true)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// `GET {path}` by hand, with the API key `key`.
    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/wallets` by hand: start a key generation of `wallet_type` (`"EVM"`, …) for the
    /// email `who`.
    pub async fn post_wallet(&self, key: &str, who: &str, wallet_type: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/v1/wallets", self.url()))
            .header("x-api-key", key)
            .json(&json!({ "type": wallet_type, "pregenId": { "email": who } }))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/wallets/{id}/sign-message` by hand.
    pub async fn post_sign_message(&self, key: &str, wallet: WalletId, message: &[u8]) -> reqwest::Response {
        let message = base64::engine::general_purpose::STANDARD.encode(message);
        reqwest::Client::new()
            .post(format!("{}/v1/wallets/{wallet}/sign-message", self.url()))
            .header("x-api-key", key)
            .json(&json!({ "messageBase64": message }))
            .send()
            .await
            .unwrap()
    }
}

/// A client WebSocket.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open the WebSocket of ceremony `id` on the server at `url` (refused with a plain HTTP error
/// when the id is unknown or spent).
pub async fn connect_ceremony(
    url: &str,
    id: &CeremonyId,
) -> Result<(Ws, tokio_tungstenite::tungstenite::handshake::client::Response), tokio_tungstenite::tungstenite::Error> {
    let ws_url = format!("{}{}", url.replace("http://", "ws://"), ceremony_path(id));
    tokio_tungstenite::connect_async(ws_url).await
}

/// The server's ceremony key, as `/v1/info` gives it.
pub async fn server_key(url: &str) -> CeremonyKey {
    let info: serde_json::Value = reqwest::get(format!("{url}/v1/info"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    info["ceremonyPublicKey"].as_str().unwrap().parse().unwrap()
}

/// A client's side of a ceremony driven by hand (to misbehave): the socket and the open Noise
/// channel.
pub struct Manual {
    pub ws: Ws,
    pub channel: SecureChannel,
}

impl Manual {
    /// Connect to the ceremony of `ticket` on the server at `url` and finish the handshake.
    pub async fn connect(url: &str, ticket: &CeremonyTicket) -> Self {
        let server_key = server_key(url).await;
        let (mut ws, _) = connect_ceremony(url, &ticket.ceremony_id).await.unwrap();
        let (init, m1) = Initiator::start(&server_key, &ticket.ceremony_id).unwrap();
        ws.send(Message::Binary(m1.into())).await.unwrap();
        let m2 = match ws.next().await.unwrap().unwrap() {
            Message::Binary(b) => b,
            other => panic!("expected the handshake, got {other:?}"),
        };
        Self {
            ws,
            channel: init.finish(&m2).unwrap(),
        }
    }

    /// Seal and send a frame.
    pub async fn send(&mut self, frame: &Frame) {
        let sealed = self.channel.seal(&frame.to_bytes()).unwrap();
        self.send_sealed(sealed).await;
    }

    /// Send bytes as they are (tampered, truncated, ...).
    pub async fn send_sealed(&mut self, sealed: Vec<u8>) {
        self.ws.send(Message::Binary(sealed.into())).await.unwrap();
    }

    /// The next frame, or `None` once the server closed without one.
    pub async fn recv(&mut self) -> Option<Frame> {
        while let Some(msg) = self.ws.next().await {
            match msg {
                Ok(Message::Binary(b)) => return Some(Frame::from_bytes(&self.channel.open(&b).unwrap()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
        None
    }

    /// The next frame, which must be a protocol round.
    pub async fn recv_protocol(&mut self) -> Vec<u8> {
        match self.recv().await {
            Some(Frame::Protocol(b)) => b.as_bytes().to_vec(),
            other => panic!("expected a protocol round, got {other:?}"),
        }
    }

    /// Read until the server's `Abort`, skipping protocol rounds; its code.
    pub async fn abort_code(&mut self) -> ErrorCode {
        loop {
            match self.recv().await {
                Some(Frame::Abort { code, message }) => {
                    assert!(!message.is_empty());
                    return code;
                }
                Some(Frame::Protocol(_)) => continue,
                other => panic!("expected an Abort, got {other:?}"),
            }
        }
    }

    /// The very next frame must be the server's `Abort` (no protocol round before it); its code.
    pub async fn abort_code_at_once(&mut self) -> ErrorCode {
        match self.recv().await {
            Some(Frame::Abort { code, .. }) => code,
            other => panic!("expected an Abort at once, got {other:?}"),
        }
    }
}
