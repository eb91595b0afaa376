//! `dyad agent`: the user party of Dyad's 2-of-2 wallets as a small HTTP service an app runs
//! beside its backend, answering plain JSON in the shapes of Para's REST API v1, so a backend
//! in any language uses Dyad without linking the SDK.
//!
//! It keeps every user share in the encrypted share vault (`dyad-vault`) and runs each
//! ceremony with the Dyad server through the SDK: a wallet's share is in the vault before the
//! wallet is confirmed to the server, and is read from it for each signature.
//!
//! It must never see or ask for a cloud share, never write a share, a key or a secret to a log
//! or an error, never answer a caller without its agent key, and never listen beyond loopback
//! unless told to explicitly.

pub mod agent_key;
pub mod audit;
pub mod error;
pub mod idempotency;
pub mod listen;
pub mod openapi;
pub mod para;
mod routes;
pub mod state;
pub mod wallets;

use std::net::SocketAddr;
use std::sync::Arc;

pub use agent_key::{AgentKey, AgentKeys};
pub use audit::Audit;
pub use error::AgentError;
pub use idempotency::Idempotency;
pub use listen::Exposure;
pub use state::AgentState;
pub use wallets::Agent;

/// A running agent (its address, and a way to stop it).
pub struct RunningAgent {
    addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningAgent {
    /// The address it listens on.
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
            .map_err(|e| std::io::Error::other(format!("agent task failed: {e}")))?
    }

    /// Serve until `stop` fires, then stop taking calls and give the running ones `drain` to
    /// finish (after it they are cut off, which is safe: a create's share is kept before its
    /// confirmation, and a claimed idempotency key is freed at the next start). A `stop` whose
    /// sender is dropped never fires.
    pub async fn wait_or_stop(
        self,
        stop: tokio::sync::oneshot::Receiver<()>,
        drain: std::time::Duration,
    ) -> std::io::Result<()> {
        let RunningAgent { shutdown, mut task, .. } = self;
        let joined = |r: Result<std::io::Result<()>, tokio::task::JoinError>| {
            r.map_err(|e| std::io::Error::other(format!("agent task failed: {e}")))?
        };
        tokio::select! {
            r = &mut task => return joined(r),
            Ok(()) = stop => {}
        }
        let _ = shutdown.send(());
        match tokio::time::timeout(drain, &mut task).await {
            Ok(r) => joined(r),
            Err(_) => {
                task.abort();
                Ok(())
            }
        }
    }

    /// Wait until the agent stops (it stops on its own only on error).
    pub async fn wait(self) -> std::io::Result<()> {
        let RunningAgent { shutdown, task, .. } = self;
        let r = task
            .await
            .map_err(|e| std::io::Error::other(format!("agent task failed: {e}")))?;
        drop(shutdown);
        r
    }
}

/// Bind `addr` (refused beyond loopback unless `exposure` is [`Exposure::Public`]) and serve
/// `agent` to callers holding one of `keys`, keeping idempotent answers in `idempotency`.
pub async fn spawn(
    agent: Agent,
    keys: AgentKeys,
    idempotency: Idempotency,
    addr: SocketAddr,
    exposure: Exposure,
) -> Result<RunningAgent, AgentError> {
    listen::check(addr, exposure)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| AgentError::Setup(format!("binding {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AgentError::Setup(format!("binding {addr}: {e}")))?;
    let app = routes::router(Arc::new(agent), Arc::new(keys), idempotency);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningAgent {
        addr,
        shutdown: tx,
        task,
    })
}
