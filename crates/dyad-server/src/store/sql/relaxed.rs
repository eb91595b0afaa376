//! Commits that need not wait for the disk (SQLite only): those that write what a later synced
//! commit makes durable before anything depends on it.
//!
//! In WAL mode SQLite appends every commit to the one WAL file, in order. A commit at
//! `synchronous=NORMAL` is written to the file but not synced; the next commit at `FULL` syncs
//! the file, and with it every commit before it. A process that crashes loses nothing either
//! way (the writes are in the operating system's cache); only a power loss or a crash of the
//! machine can drop the unsynced commits at the file's end, and that also ends every process
//! that could have acted on them. So a relaxed commit may hold only what is void without
//! its synced successor and what nobody outside this machine was told of as made:
//! - a ceremony that begins at once on a batch lane ([`Begins::Now`]), with its request's audit
//!   entry, its lease and (without a pooled key setup) its pending wallet. Its ticket is stored
//!   used up, so it is never presented anywhere; it runs on the lane's connection, which the
//!   power loss ends too; and the client cannot finish it before the synced commit of its
//!   outcome (a signature's `sign.completed`, a key generation's activation).
//! - a lease taken for a ticket that was presented (`acquire_lease`): the process that held it
//!   is gone with the machine.
//!
//! Never relaxed ([`may_relax`]): a ticket answered `201 Created` before its run
//! ([`Begins::OnPresentation`]), which the client may present after a power loss; a key
//! setup's reservation, which must never serve two key generations; and whatever is answered as
//! made — a wallet, a signature's `sign.completed`, a claim, a lock, a consumed ticket.
//!
//! `synchronous` is a setting of the connection, not of a transaction. A relaxed transaction
//! sets it to `NORMAL` in its `BEGIN`; the pool's release hook sets it back before the
//! connection serves anyone else, whether the transaction committed, failed or its future was
//! dropped ([`reset_after_release`]). The store has one connection, so one mark says whether it
//! needs that.
//!
//! PostgreSQL is left as it is: there a lease is shared by replicas that outlive the database
//! server, so it must not be lost; every commit there is synchronous.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection, Executor, Transaction};

use dyad_proto::KeySetupId;

use super::open::Backend;
use super::SqlStore;
use crate::model::Begins;
use crate::store::StoreResult;

/// Whether storing a ceremony that `begins` so (with the pooled `key_setup` it reserves, if any)
/// may commit relaxed: only a batch lane's, which nobody can present after a power loss, and
/// only without a key setup (see the module docs).
pub(super) fn may_relax(begins: Begins, key_setup: Option<&KeySetupId>) -> bool {
    matches!(begins, Begins::Now(_)) && key_setup.is_none()
}

/// Whether the SQLite connection may be at `synchronous=NORMAL` on behalf of a relaxed
/// transaction, and how many relaxed holds there have been.
#[derive(Clone, Debug, Default)]
pub(super) struct RelaxedMark(Arc<Mark>);

#[derive(Debug, Default)]
struct Mark {
    /// Set when a relaxed hold begins; cleared by the release hook that sets it back.
    pending: AtomicBool,
    /// Relaxed holds since the store opened ([`SqlStore::relaxed_holds`]).
    holds: AtomicU64,
}

/// The `BEGIN` of a relaxed SQLite transaction: one trip to the connection's worker.
const RELAXED_BEGIN: &str = "PRAGMA synchronous = NORMAL; BEGIN";

/// A connection taken for a relaxed transaction ([`RelaxedConnection::begin`]).
pub(super) struct RelaxedConnection {
    conn: PoolConnection<Any>,
    relaxed: bool,
}

impl RelaxedConnection {
    /// Whether [`RelaxedConnection::begin`] begins a relaxed transaction.
    pub(super) fn is_relaxed(&self) -> bool {
        self.relaxed
    }

    /// The connection, for a statement outside the transaction.
    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.conn
    }

    /// Begin the transaction: relaxed on SQLite, an ordinary one on PostgreSQL.
    pub(super) async fn begin(&mut self) -> StoreResult<Transaction<'_, Any>> {
        Ok(if self.relaxed {
            self.conn.begin_with(RELAXED_BEGIN).await?
        } else {
            self.conn.begin().await?
        })
    }
}

impl SqlStore {
    /// A connection for a transaction whose commit need not wait for the disk (see the module
    /// docs for what may be written so). The mark is set only once the connection is held, so
    /// the release of the connection's previous holder cannot clear it first.
    pub(super) async fn relaxed(&self) -> StoreResult<RelaxedConnection> {
        self.relaxed_if(true).await
    }

    /// [`SqlStore::relaxed`] if `relax`, else a connection whose transaction is synced as any.
    pub(super) async fn relaxed_if(&self, relax: bool) -> StoreResult<RelaxedConnection> {
        let conn = self.pool.acquire().await?;
        let relaxed = relax && self.backend == Backend::Sqlite;
        if relaxed {
            self.relaxed.0.pending.store(true, Ordering::SeqCst);
            self.relaxed.0.holds.fetch_add(1, Ordering::Relaxed);
        }
        Ok(RelaxedConnection { conn, relaxed })
    }

    /// How many times this store has taken its connection for a transaction that commits
    /// without waiting for the disk (always 0 on PostgreSQL): what shows which writes are
    /// relaxed (`store.rs`' tests).
    pub fn relaxed_holds(&self) -> u64 {
        self.relaxed.0.holds.load(Ordering::Relaxed)
    }
}

/// The pool's release hook (SQLite): if a relaxed transaction held the connection, set its
/// `synchronous` back to `reset` (the store's own setting) before anyone else gets it. A reset
/// that fails closes the connection (`Err`): a new one starts at the store's setting.
pub(super) async fn reset_after_release(
    conn: &mut sqlx::AnyConnection,
    mark: &RelaxedMark,
    reset: &str,
) -> Result<bool, sqlx::Error> {
    if mark.0.pending.swap(false, Ordering::SeqCst) {
        conn.execute(reset).await?;
    }
    Ok(true)
}
