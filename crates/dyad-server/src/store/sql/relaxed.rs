//! Commits that need not wait for the disk (SQLite only): those that write what a later synced
//! commit makes durable before anything depends on it.
//!
//! In WAL mode SQLite appends every commit to the one WAL file, in order. A commit at
//! `synchronous=NORMAL` is written to the file but not synced; the next commit at `FULL` syncs
//! the file, and with it every commit before it. A process that crashes loses nothing either
//! way (the writes are in the operating system's cache); only a power loss or a crash of the
//! machine can drop the unsynced commits at the file's end, and that also ends every process
//! that could have acted on them. So a relaxed commit may hold only what is void without
//! its synced successor: a ceremony not yet run, its request's audit entry, a lease (the
//! machine that held it is down with it). What is answered as made — a wallet, a signature's
//! `sign.completed`, a claim, a lock, a consumed ticket — is never written relaxed.
//!
//! `synchronous` is a setting of the connection, not of a transaction. A relaxed transaction
//! sets it to `NORMAL` in its `BEGIN`; the pool's release hook sets it back before the
//! connection serves anyone else, whether the transaction committed, failed or its future was
//! dropped ([`reset_after_release`]). The store has one connection, so one mark says whether it
//! needs that.
//!
//! PostgreSQL is left as it is: there a lease is shared by replicas that outlive the database
//! server, so it must not be lost; every commit there is synchronous.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, Connection, Executor, Transaction};

use super::open::Backend;
use super::SqlStore;
use crate::store::StoreResult;

/// Set while the SQLite connection may be at `synchronous=NORMAL` on behalf of a relaxed
/// transaction; cleared by the release hook that sets it back.
#[derive(Clone, Debug, Default)]
pub(super) struct RelaxedMark(Arc<AtomicBool>);

/// The `BEGIN` of a relaxed SQLite transaction: one trip to the connection's worker.
const RELAXED_BEGIN: &str = "PRAGMA synchronous = NORMAL; BEGIN";

/// A connection taken for a relaxed transaction ([`RelaxedConnection::begin`]).
pub(super) struct RelaxedConnection {
    conn: PoolConnection<Any>,
    relaxed: bool,
}

impl RelaxedConnection {
    /// The connection, for a statement after the transaction.
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
            self.relaxed.0.store(true, Ordering::SeqCst);
        }
        Ok(RelaxedConnection { conn, relaxed })
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
    if mark.0.swap(false, Ordering::SeqCst) {
        conn.execute(reset).await?;
    }
    Ok(true)
}
