//! The Dyad server: the cloud party of every 2-of-2 wallet.
//!
//! It authenticates apps by API key and people by session (logins in [`auth`]), starts
//! ceremonies (key generation, signing, claiming) through REST,
//! runs the cloud side of each over one Noise-encrypted WebSocket, keeps cloud shares sealed at
//! rest behind the [`store::Store`] trait (SQLite by default), and writes an audit entry for every
//! create, identifier change and signature.
//!
//! Layers, top to bottom: `routes` (HTTP ↔ domain calls) and `ceremony` (WebSocket ↔ protocol
//! runs) call the flows — [`keygen`], [`signing`], [`pregen`], [`claim`], [`grant`], [`auth`],
//! [`api_key`] — which decide, audit
//! and persist through [`store::Store`] on the [`model`]. Errors follow the layers: the store
//! answers [`StoreError`], start-up [`SetupError`], sealing [`seal::SealError`], the flows
//! [`ServerError`]; only `error.rs` maps them to HTTP.
//!
//! It must never see or store a user share, never assemble a private key, never write a cloud
//! share unsealed, never resume an aborted ceremony, and never put a secret in a log or an error.

pub mod api_key;
pub mod audit;
pub mod auth;
pub mod ceremony;
pub mod claim;
pub mod clock;
pub mod config;
pub mod error;
pub mod grant;
pub mod key_setup;
pub mod keygen;
pub mod lease;
pub mod model;
pub mod notify;
pub mod pregen;
pub mod routes;
pub mod seal;
pub mod setup;
pub mod share;
pub mod signing;
pub mod state;
pub mod store;

use std::net::SocketAddr;

pub use config::ServerConfig;
pub use error::ServerError;
pub use seal::MasterKey;
pub use setup::{DataDir, SetupError};
pub use state::AppState;
pub use store::{Backend, DatabaseUrl, SqlStore, Store, StoreError};

/// A server listening on a socket, for the CLI and for tests.
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, finish in-flight requests, and wait.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task
            .await
            .map_err(|e| std::io::Error::other(format!("server task failed: {e}")))?
    }

    /// Wait until the server stops (it stops on its own only on error).
    pub async fn wait(self) -> std::io::Result<()> {
        let RunningServer { shutdown, task, .. } = self;
        let r = task
            .await
            .map_err(|e| std::io::Error::other(format!("server task failed: {e}")))?;
        drop(shutdown);
        r
    }
}

/// Bind `addr` and serve `state` until shut down. Also starts the reaper of stale pending
/// wallets and expired ceremonies.
pub async fn spawn(state: AppState, addr: &str) -> std::io::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // Ceremonies are ping-pongs of small messages, and a batch connection carries hundreds of
    // them at once: Nagle's algorithm would hold each behind the peer's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set: {e}");
        }
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let reaper = tokio::spawn(state.clone().reap_forever());
    let app = routes::router(state);
    let task = tokio::spawn(async move {
        // The peer address feeds the per-address limit of one-time codes.
        let r = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        reaper.abort();
        r
    });
    Ok(RunningServer {
        addr,
        shutdown: tx,
        task,
    })
}
