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
//! Fail closed: if writing a lock fails, the wallet is locked anyway in this process, and its
//! lease is renewed while the lock is written again in the background until it sticks; a lease
//! whose holder vanished without writing its outcome is kept until it expires.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dyad_proto::{Turn, Turns, WalletId};
use rand_core::{OsRng, RngCore};
use tokio::time::Instant;

use crate::audit::AuditRecord;
use crate::clock;
use crate::error::ServerError;
use crate::model::{Begins, CeremonyRecord};
use crate::store::{LeaseAttempt, LeaseRequest, Store};

/// Back-off bounds while another process holds a wallet's lease.
const FIRST_BACKOFF: Duration = Duration::from_millis(2);
const MAX_BACKOFF: Duration = Duration::from_millis(50);
/// How often a lock that failed to write is written again.
const LOCK_RETRY: Duration = Duration::from_secs(2);
/// How long each renewal keeps the lease of a wallet whose lock is still to be written.
const LOCK_HOLD: Duration = Duration::from_secs(60);

/// The ceremony leases of this process: its wait queues and the wallets it locked without
/// managing to write the lock.
#[derive(Default)]
pub struct Leases {
    turns: Turns<WalletId>,
    locked: Mutex<HashSet<WalletId>>,
}

/// A held lease. Give it back with [`LeaseGuard::release`] once the ceremony's outcome is
/// written. Dropped without that (a panic, a cancelled task) it is *not* given back: the wallet
/// stays unusable until the lease expires, since the outcome — perhaps a lock — may be missing.
pub struct LeaseGuard {
    store: Arc<dyn Store>,
    wallet_id: WalletId,
    token: [u8; 16],
    acquired_at_micros: i64,
    _turn: Turn,
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

    /// Record the ceremony's outcome and give the lease back, in one commit (one sync fewer
    /// than writing the outcome and then releasing). On failure nothing was written and the
    /// lease is handed back, still held.
    pub async fn release_recorded(self, audit: &AuditRecord) -> Result<(), (crate::store::StoreError, LeaseGuard)> {
        match self
            .store
            .release_lease_recorded(self.wallet_id, &self.token, audit)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => Err((e, self)),
        }
    }

    /// Give the lease back: the next waiter may start.
    pub async fn release(self) {
        if let Err(e) = self.store.release_lease(self.wallet_id, &self.token).await {
            // It expires on its own; until then the wallet's next ceremony waits.
            tracing::warn!(wallet = %self.wallet_id, error = %e, "giving back a ceremony lease failed");
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
        let turn = tokio::time::timeout_at(wait_until, self.turns.take(&wallet_id))
            .await
            .map_err(|_| waited_too_long())?;
        let token = new_token();
        let mut backoff = FIRST_BACKOFF;
        loop {
            if self.is_locked_here(wallet_id) {
                return Err(ServerError::WalletLocked);
            }
            match store.acquire_lease(wallet_id, &request(token, hold_for)).await? {
                LeaseAttempt::Acquired => return Ok(LeaseGuard::held(store, wallet_id, token, turn)),
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

    /// Store `ceremony` (a signature that begins now, on a batch lane) and, in the same commit,
    /// take its wallet's lease if this process's turn and the database's lease are both free
    /// right now: one commit instead of two (relaxed on SQLite: `store/sql/relaxed.rs`).
    /// Anything else stores the ceremony alone and gives `None`; the ceremony then waits its
    /// turn with [`Leases::acquire`] as any other.
    pub async fn insert_ceremony_leased(
        &self,
        store: &Arc<dyn Store>,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        begins: Begins,
        hold_for: Duration,
    ) -> Result<Option<LeaseGuard>, ServerError> {
        let wallet_id = ceremony.wallet_id;
        let turn = (!self.is_locked_here(wallet_id))
            .then(|| self.turns.try_take(&wallet_id))
            .flatten();
        let Some(turn) = turn else {
            store.insert_ceremony(ceremony, audit, begins).await?;
            return Ok(None);
        };
        let token = new_token();
        if !store
            .insert_ceremony_leased(ceremony, audit, begins, &request(token, hold_for))
            .await?
        {
            return Ok(None);
        }
        Ok(Some(LeaseGuard::held(store, wallet_id, token, turn)))
    }

    /// Lock the wallet's share pair for good while holding its lease, then give the lease back.
    /// If the lock cannot be written, the wallet is locked in this process all the same, and a
    /// background task keeps renewing the lease (so no other replica starts a ceremony with the
    /// cheater) and writing the lock until it sticks; only then is the lease given back.
    pub async fn lock(&self, lease: LeaseGuard, audit: AuditRecord) {
        let id = lease.wallet_id;
        if let Err(e) = lease.store.lock_wallet(id, &audit).await {
            tracing::error!(wallet = %id, error = %e, "writing a wallet lock failed: locked in this process, retrying");
            self.locked_here().insert(id);
            let LeaseGuard { store, token, .. } = lease;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LOCK_RETRY).await;
                    let until = clock::now() + LOCK_HOLD.as_secs() as i64;
                    if let Err(e) = store.extend_lease(id, &token, until).await {
                        tracing::error!(wallet = %id, error = %e, "renewing the lease of a wallet to lock failed");
                    }
                    match store.lock_wallet(id, &audit).await {
                        Ok(()) => {
                            let _ = store.release_lease(id, &token).await;
                            break;
                        }
                        Err(e) => tracing::error!(wallet = %id, error = %e, "writing a wallet lock failed again"),
                    }
                }
            });
            return;
        }
        lease.release().await;
    }

    /// Whether this process locked the wallet without managing to write the lock yet.
    pub fn is_locked_here(&self, id: WalletId) -> bool {
        self.locked_here().contains(&id)
    }

    fn locked_here(&self) -> std::sync::MutexGuard<'_, HashSet<WalletId>> {
        // Only inserts and lookups happen under this lock: a panic cannot leave it half-updated.
        self.locked.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fresh random lease token.
fn new_token() -> [u8; 16] {
    let mut token = [0u8; 16];
    OsRng.fill_bytes(&mut token);
    token
}

/// The lease `token` asks for now, held for `hold_for`.
fn request(token: [u8; 16], hold_for: Duration) -> LeaseRequest {
    let now = clock::now();
    LeaseRequest {
        token,
        now,
        until: now + i64::try_from(hold_for.as_secs()).unwrap_or(i64::MAX / 2),
    }
}

impl LeaseGuard {
    /// The guard of a lease `token` just took, with this process's turn.
    fn held(store: &Arc<dyn Store>, wallet_id: WalletId, token: [u8; 16], turn: Turn) -> LeaseGuard {
        LeaseGuard {
            store: store.clone(),
            wallet_id,
            token,
            acquired_at_micros: clock::now_micros(),
            _turn: turn,
        }
    }
}

fn waited_too_long() -> ServerError {
    ServerError::WalletBusy
}
