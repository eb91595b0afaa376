//! The warm setup pool, user side: DKLs key setups made ahead of time with the server, so a
//! key generation finds most of its work done (`Dyad::builder(..).setup_pool(n)`).
//!
//! A pooled setup is this client's half of a setup the server stored for this app. It is as
//! secret as a share, lives only in this process's memory (never written anywhere: a process
//! that ends takes its halves with it, and the server reaps its own after `key_setup_ttl`), and
//! is taken out of the pool before it is named in a create request, so no half is ever offered
//! to two key generations. The security argument is ARCHITECTURE.md's "The warm setup pool".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use dyad_mpc::{KeySetup, Role};
use dyad_proto::batch::{Incoming, KeySetupOnLane, ToServer};
use dyad_proto::{session_id, CeremonyChannel, CeremonyKey, Frame, KeySetupId, Outcome, ProtoError, Run};

use crate::batch::Connection;
use crate::error::SdkError;
use crate::http::Api;

/// One pooled setup: the id the server stored its half under, and this client's half.
/// **Secret**: must not be sent, logged or used twice; `Debug` shows only the id.
pub(crate) struct Pooled {
    pub(crate) id: KeySetupId,
    pub(crate) half: KeySetup,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A client's pool: up to `target` ready setups, refilled one refill at a time.
pub(crate) struct SetupPool {
    target: usize,
    ready: Mutex<Vec<Pooled>>,
    /// One refill at a time: a background refill and an explicit fill never run side by side.
    refill: tokio::sync::Mutex<()>,
    /// Whether a background refill is queued or running.
    refilling: AtomicBool,
}

impl std::fmt::Debug for SetupPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupPool")
            .field("target", &self.target)
            .field("ready", &self.len())
            .finish()
    }
}

impl SetupPool {
    /// An empty pool that refills up to `target`.
    pub(crate) fn new(target: usize) -> Arc<SetupPool> {
        Arc::new(SetupPool {
            target,
            ready: Mutex::new(Vec::new()),
            refill: tokio::sync::Mutex::new(()),
            refilling: AtomicBool::new(false),
        })
    }

    fn ready(&self) -> std::sync::MutexGuard<'_, Vec<Pooled>> {
        // Only push and pop run under the lock: a panic cannot leave it half-updated.
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many setups are ready.
    pub(crate) fn len(&self) -> usize {
        self.ready().len()
    }

    /// Take one ready setup out of the pool: from here on it is the caller's alone, to use
    /// once or drop.
    pub(crate) fn take(&self) -> Option<Pooled> {
        self.ready().pop()
    }

    /// Forget every ready setup (the server no longer knows them, say).
    pub(crate) fn clear(&self) {
        self.ready().clear();
    }

    /// Make setups with the server until the pool holds `target`; gives how many are ready.
    /// Waits for a refill already running instead of running a second.
    pub(crate) async fn fill(&self, api: &Api, server_key: CeremonyKey) -> Result<usize, SdkError> {
        let _one_at_a_time = self.refill.lock().await;
        if self.len() >= self.target {
            return Ok(self.len());
        }
        let connection = Connection::open(api, server_key).await?;
        while self.len() < self.target {
            let pooled = make(&connection, server_key).await?;
            self.ready().push(pooled);
        }
        Ok(self.len())
    }

    /// Refill on a task of its own, unless one is queued or running already. A failed refill
    /// is logged and left for the next create to start again.
    pub(crate) fn refill_in_background(self: &Arc<Self>, api: &Api, server_key: CeremonyKey) {
        if self.len() >= self.target || self.refilling.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, api) = (Arc::clone(self), api.clone());
        tokio::spawn(async move {
            if let Err(e) = pool.fill(&api, server_key).await {
                tracing::info!(error = %e, "refilling the key setup pool failed");
            }
            pool.refilling.store(false, Ordering::Release);
        });
    }
}

/// One key setup over a lane of `connection`: the server's ticket, the setup run, and the
/// server's word that its half is stored.
async fn make(connection: &Connection, server_key: CeremonyKey) -> Result<Pooled, SdkError> {
    let (_slot, first, lane) = connection.open_lane(ToServer::KeySetup(KeySetupOnLane {})).await?;
    let Incoming::KeySetupTicket(ticket) = first else {
        return Err(ProtoError::UnexpectedFrame("a ceremony ticket for a key setup").into());
    };
    let mut channel = CeremonyChannel::connect(lane, &server_key, &ticket.ceremony_id).await?;
    let made = async {
        let half = channel
            .run(dyad_proto::key_setup(Role::User, &ticket.ceremony_id))
            .await?;
        if half.id() != session_id(&ticket.ceremony_id, Run::KeySetup) {
            return Err(SdkError::Mismatch("the key setup is not this ceremony's"));
        }
        match channel.recv().await? {
            Frame::Done(Outcome::KeySetupStored(id)) if id == ticket.key_setup_id => Ok(Pooled { id, half }),
            _ => Err(ProtoError::UnexpectedFrame("expected the stored key setup").into()),
        }
    };
    let made = tokio::time::timeout(crate::ceremony::CEREMONY_DEADLINE, made)
        .await
        .unwrap_or(Err(SdkError::Ceremony(ProtoError::Timeout)));
    crate::ceremony::goodbye(channel, &made).await;
    made
}
