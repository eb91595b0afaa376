//! The agent's own state file: a SQLite database (created 0600, WAL, synced at every commit)
//! holding its idempotent answers (`idempotency`) and its audit log (`audit`). It holds no share
//! and no key: those are in the vault and the keys file.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::AgentError;

/// The opened state file.
#[derive(Clone, Debug)]
pub struct AgentState {
    pub(crate) pool: SqlitePool,
}

impl AgentState {
    /// Open (creating it 0600 if missing) the state file at `path` and bring its schema up to
    /// date.
    pub async fn open(path: &Path) -> Result<Self, AgentError> {
        let setup =
            |e: &dyn std::fmt::Display| AgentError::Setup(format!("opening the agent state {}: {e}", path.display()));
        if !path.exists() {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(setup(&e)),
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| setup(&e))?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| setup(&e))?;
        Ok(Self { pool })
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
