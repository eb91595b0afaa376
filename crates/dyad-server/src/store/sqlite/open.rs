//! Opening the SQLite file: private file modes, WAL, durability, migrations. Failures here
//! stop the server from starting ([`SetupError::Database`]).

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::SqliteStore;
use crate::setup::SetupError;

/// How long a commit waits for the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is synced on every commit, so a wallet answered as created
    /// survives power loss. What the server always uses.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a power loss can drop the last commits. Only for measuring what
    /// `Full` costs (`dyad-bench`); nothing in the server or the CLI selects it.
    Normal,
}

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date, with
    /// `synchronous=FULL`. The file is created 0600 (SQLite gives its `-wal` and `-shm` files the
    /// same mode), and an existing file and its `-wal`/`-shm` are tightened to 0600.
    pub async fn open(path: &Path) -> Result<Self, SetupError> {
        Self::open_with(path, Durability::Full).await
    }

    /// [`SqliteStore::open`] with a chosen [`Durability`] (benchmarks only).
    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self, SetupError> {
        make_private(path)?;
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await
            .map_err(|e| SetupError::Database(format!("opening database {}: {e}", path.display())))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| SetupError::Database(format!("migrating database {}: {e}", path.display())))?;
        // SQLite made -wal/-shm now, with the database file's mode; tighten any left from before.
        make_private(path)?;
        Ok(Self { pool })
    }
}

/// The database file and its `-wal`/`-shm`/`-journal` companions: readable by the owner only.
/// A missing database file is created empty with mode 0600 before SQLite opens it (an empty
/// file is an empty database), so nothing is ever created wider.
fn make_private(path: &Path) -> Result<(), SetupError> {
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io =
            |e: std::io::Error, p: &Path| SetupError::Database(format!("securing database file {}: {e}", p.display()));
        if !path.exists() {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                // Another process created it meanwhile: tightened below like any existing file.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e, path)),
            }
        }
        let name = path.as_os_str().to_owned();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = name.clone();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            let mode = match std::fs::metadata(&p) {
                Ok(m) => m.permissions().mode(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(e, &p)),
            };
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).map_err(|e| io(e, &p))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
