//! The Dyad server: the cloud party of every 2-of-2 wallet.
//!
//! It authenticates apps by API key, starts ceremonies (key generation, signing) through REST,
//! runs the cloud side of each over one Noise-encrypted WebSocket, keeps cloud shares sealed at
//! rest behind the [`store::Store`] trait (SQLite by default), and writes an audit entry for every
//! create, identifier change and signature.
//!
//! It must never see or store a user share, never assemble a private key, never write a cloud
//! share unsealed, never resume an aborted ceremony, and never put a secret in a log or an error.

pub mod api_key;
pub mod audit;
pub mod ceremony;
pub mod clock;
pub mod config;
pub mod error;
pub mod lease;
pub mod routes;
pub mod seal;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use config::ServerConfig;
pub use error::ServerError;
pub use seal::MasterKey;
pub use state::AppState;
pub use store::{SqliteStore, Store};

/// Where an embedded server keeps its files: `dyad.db` (SQLite) and `master.key` (0600).
#[derive(Clone, Debug)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// Use `path`, creating it (mode 0700: it holds the master key and sealed shares) if needed.
    /// A folder that group or others can read, write or enter is refused, with the `chmod` that
    /// fixes it.
    pub fn new(path: impl AsRef<Path>) -> Result<Self, ServerError> {
        let p = path.as_ref().to_path_buf();
        if !p.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(&p)
                .map_err(|e| ServerError::Setup(format!("creating data folder {}: {e}", p.display())))?;
        }
        let meta = std::fs::metadata(&p)
            .map_err(|e| ServerError::Setup(format!("reading data folder {}: {e}", p.display())))?;
        if !meta.is_dir() {
            return Err(ServerError::Setup(format!(
                "data folder {} is not a folder",
                p.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ServerError::Setup(format!(
                    "data folder {} is open to group or others (mode {mode:o}) and holds the master key and sealed \
                     shares: run `chmod 700 {}`",
                    p.display(),
                    p.display()
                )));
            }
        }
        Ok(Self(p))
    }

    /// The SQLite file.
    pub fn database(&self) -> PathBuf {
        self.0.join("dyad.db")
    }

    /// The master key file.
    pub fn master_key(&self) -> PathBuf {
        self.0.join("master.key")
    }

    /// Open the store (creating the database on first use).
    pub async fn open_store(&self) -> Result<Arc<dyn Store>, ServerError> {
        Ok(Arc::new(SqliteStore::open(&self.database()).await?))
    }

    /// Load the master key: `DYAD_MASTER_KEY` (64 hex characters) if set, else the key file,
    /// created on first run.
    pub fn master_key_from_env_or_file(&self) -> Result<MasterKey, ServerError> {
        match std::env::var("DYAD_MASTER_KEY") {
            Ok(hex) if !hex.trim().is_empty() => MasterKey::from_hex(&hex),
            _ => MasterKey::load_or_create(&self.master_key()),
        }
    }
}

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
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let reaper = tokio::spawn(state.clone().reap_forever());
    let app = routes::router(state);
    let task = tokio::spawn(async move {
        let r = axum::serve(listener, app)
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
