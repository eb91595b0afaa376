//! One ceremony per share pair at a time.
//!
//! DKLs signing reuses the OT correlation set up at key generation, and `dkls23` asks for a
//! permanent ban of a counterparty that cheats in the multiplication: a cheater who watches
//! whether each of many sessions aborts learns the other party's secret bit by bit. A ban is
//! only worth something if it lands before the next session with that peer starts, so every
//! ceremony of a wallet's share pair holds a lease in the database (shared by all replicas)
//! from before its first protocol message until its outcome — signature, failure or lock — is
//! written. Requests for a busy wallet wait their turn instead of failing.
//!
//! Inside one process, waiters for a wallet queue on a fair async mutex, so only the head of
//! the queue asks the database; across processes the database's lease decides, with a short
//! back-off. A lease carries an expiry so that one held by a process that died frees itself.
//!
//! If writing a lock fails, the wallet is locked anyway in this process (fail closed), its lease
//! is kept until it expires, and the lock is written again in the background until it sticks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use dyad_proto::WalletId;
use rand_core::{OsRng, RngCore};
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

use crate::clock;
use crate::error::ServerError;
use crate::store::{AuditRecord, LeaseAttempt, LeaseRequest, Store};

/// Back-off bounds while another process holds a wallet's lease.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);
const MAX_BACKOFF: Duration = Duration::from_millis(50);
/// How often a lock that failed to write is written again.
const LOCK_RETRY: Duration = Duration::from_secs(2);

/// The ceremony leases of this process: its wait queues and the wallets it locked without
/// managing to write the lock.
#[derive(Default)]
pub struct Leases {
    queues: Mutex<HashMap<WalletId, Weak<tokio::sync::Mutex<()>>>>,
    locked: Mutex<HashSet<WalletId>>,
}

/// A held lease. Give it back with [`LeaseGuard::release`] once the ceremony's outcome is
/// written; dropped without that, it is given back in the background.
pub struct LeaseGuard {
    store: Arc<dyn Store>,
    wallet_id: WalletId,
    token: [u8; 16],
    acquired_at_micros: i64,
    released: bool,
    _turn: OwnedMutexGuard<()>,
}

impl std::fmt::Debug for LeaseGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseGuard")
            .field("wallet_id", &self.wallet_id)
            .finish_non_exhaustive()
    }
}

impl LeaseGuard {
    /// When the lease was taken (unix microseconds): the ceremony's recorded start.
    pub fn acquired_at_micros(&self) -> i64 {
        self.acquired_at_micros
    }

    /// Give the lease back: the next waiter may start.
    pub async fn release(mut self) {
        self.released = true;
        if let Err(e) = self.store.release_lease(self.wallet_id, &self.token).await {
            // It expires on its own; until then the wallet's next ceremony waits.
            tracing::warn!(wallet = %self.wallet_id, error = %e, "giving back a ceremony lease failed");
        }
    }

    /// Keep the lease until it expires (the wallet's lock could not be written).
    fn keep_until_expiry(mut self) {
        self.released = true;
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (store, id, token) = (self.store.clone(), self.wallet_id, self.token);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = store.release_lease(id, &token).await;
            });
        }
    }
}

impl Leases {
    /// Wait for the wallet's turn and take its lease, holding it for at most `hold_for`.
    /// Gives up at `wait_until`. `WALLET_LOCKED` if the share pair is (or becomes, while
    /// waiting) locked.
    pub async fn acquire(
        &self,
        store: &Arc<dyn Store>,
        wallet_id: WalletId,
        hold_for: Duration,
        wait_until: Instant,
    ) -> Result<LeaseGuard, ServerError> {
        let queue = self.queue(wallet_id);
        let turn = tokio::time::timeout_at(wait_until, queue.lock_owned())
            .await
            .map_err(|_| waited_too_long())?;
        let mut token = [0u8; 16];
        OsRng.fill_bytes(&mut token);
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.is_locked_here(wallet_id) {
                return Err(ServerError::WalletLocked);
            }
            let now = clock::now();
            let request = LeaseRequest {
                token,
                now,
                until: now + i64::try_from(hold_for.as_secs()).unwrap_or(i64::MAX / 2),
            };
            match store.acquire_lease(wallet_id, &request).await? {
                LeaseAttempt::Acquired => {
                    return Ok(LeaseGuard {
                        store: store.clone(),
                        wallet_id,
                        token,
                        acquired_at_micros: clock::now_micros(),
                        released: false,
                        _turn: turn,
                    })
                }
                LeaseAttempt::Locked => return Err(ServerError::WalletLocked),
                LeaseAttempt::Gone => return Err(ServerError::WalletNotFound),
                LeaseAttempt::Busy => {
                    if Instant::now() + backoff > wait_until {
                        return Err(waited_too_long());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Lock the wallet's share pair for good while holding its lease, then give the lease back.
    /// If the lock cannot be written, the wallet is locked in this process all the same, the
    /// lease is kept until it expires, and the write is retried in the background.
    pub async fn lock(&self, lease: LeaseGuard, audit: AuditRecord) {
        let id = lease.wallet_id;
        match lease.store.lock_wallet(id, &audit).await {
            Ok(()) => lease.release().await,
            Err(e) => {
                tracing::error!(wallet = %id, error = %e, "writing a wallet lock failed: locked in this process, retrying");
                self.locked_here().insert(id);
                let store = lease.store.clone();
                lease.keep_until_expiry();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(LOCK_RETRY).await;
                        match store.lock_wallet(id, &audit).await {
                            Ok(()) => break,
                            Err(e) => tracing::error!(wallet = %id, error = %e, "writing a wallet lock failed again"),
                        }
                    }
                });
            }
        }
    }

    /// Whether this process locked the wallet without managing to write the lock yet.
    pub fn is_locked_here(&self, id: WalletId) -> bool {
        self.locked_here().contains(&id)
    }

    fn locked_here(&self) -> std::sync::MutexGuard<'_, HashSet<WalletId>> {
        // Only inserts and lookups happen under this lock: a panic cannot leave it half-updated.
        self.locked.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn queue(&self, id: WalletId) -> Arc<tokio::sync::Mutex<()>> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = queues.get(&id).and_then(Weak::upgrade) {
            return q;
        }
        // Forget the queues nobody waits in any more before adding one.
        queues.retain(|_, q| q.strong_count() > 0);
        let q = Arc::new(tokio::sync::Mutex::new(()));
        queues.insert(id, Arc::downgrade(&q));
        q
    }
}

fn waited_too_long() -> ServerError {
    ServerError::CeremonyAborted("waited too long for this wallet's previous ceremony to finish; retry".into())
}
