//! Opening a database: the SQLite file (private file modes, WAL, durability) or a PostgreSQL
//! server, each brought up to date by its own versioned migrations. Failures here stop the
//! server from starting ([`SetupError::Database`]); their messages never carry a password.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::Executor;

use super::relaxed::{reset_after_release, RelaxedMark};
use super::SqlStore;
use crate::setup::SetupError;

/// How long a commit waits for the disk (SQLite; a PostgreSQL server's durability is its own
/// `synchronous_commit`, which Dyad does not change).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is synced on every commit (but a relaxed one, which a later
    /// synced commit makes durable: `relaxed.rs`), so a wallet answered as created survives
    /// power loss. What the server always uses.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a power loss can drop the last commits. Only for measuring what
    /// `Full` costs (`dyad-bench`); nothing in the server or the CLI selects it.
    Normal,
}

/// Which database engine a [`SqlStore`] talks to. The SQL is the same; what differs is how a
/// transaction that reads before it writes is serialised, and the migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file, one writer at a time.
    Sqlite,
    /// A PostgreSQL server, shared by any number of replicas.
    Postgres,
}

/// Where the store lives, parsed from `--database-url` / `DYAD_DATABASE_URL`: `sqlite:PATH`
/// (or `sqlite://PATH`) or `postgres://…` / `postgresql://…`. `Debug` and `Display` hide a
/// PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(url::Url),
}

impl FromStr for DatabaseUrl {
    type Err = SetupError;

    fn from_str(s: &str) -> Result<Self, SetupError> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            if path.is_empty() || path.contains('?') {
                return Err(SetupError::Database(
                    "a SQLite database URL is sqlite:PATH, a file path with no query".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            let url = url::Url::parse(s)
                .map_err(|e| SetupError::Database(format!("the PostgreSQL URL does not parse: {e}")))?;
            return Ok(DatabaseUrl::Postgres(url));
        }
        Err(SetupError::Database(
            "the database URL must start with sqlite: or postgres://".into(),
        ))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DatabaseUrl::Postgres(u) => {
                let mut shown = u.clone();
                if shown.password().is_some() {
                    // Cannot fail for a URL that has a password (it has a host).
                    let _ = shown.set_password(Some("***"));
                }
                write!(f, "{shown}")
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl SqlStore {
    /// Open the store at `url` (creating a SQLite file, or PostgreSQL tables, on first use) and
    /// bring its schema up to date.
    pub async fn open_url(url: &DatabaseUrl) -> Result<Self, SetupError> {
        match url {
            DatabaseUrl::Sqlite(path) => Self::open(path).await,
            DatabaseUrl::Postgres(raw) => Self::connect_postgres(raw, url).await,
        }
    }

    /// Open (creating if needed) a SQLite database file and bring its schema up to date, with
    /// `synchronous=FULL`. The file is created 0600 (SQLite gives its `-wal` and `-shm` files the
    /// same mode), and an existing file and its `-wal`/`-shm` are tightened to 0600.
    pub async fn open(path: &Path) -> Result<Self, SetupError> {
        Self::open_with(path, Durability::Full).await
    }

    /// [`SqlStore::open`] with a chosen [`Durability`] (benchmarks only).
    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self, SetupError> {
        sqlx::any::install_default_drivers();
        make_private(path)?;
        let absolute = std::path::absolute(path)
            .map_err(|e| SetupError::Database(format!("opening database {}: {e}", path.display())))?;
        let file = url::Url::from_file_path(&absolute)
            .map_err(|()| SetupError::Database(format!("database path {} is not usable", path.display())))?;
        // Per connection (SQLite keeps these per connection, except the journal mode, which stays
        // with the file): WAL, durability, foreign keys, and a writer waits up to 10 s for
        // the lock of another process on the file (the CLI's admin commands).
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        let pragmas: std::sync::Arc<str> = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 10000;"
        )
        .into();
        let reset: std::sync::Arc<str> = format!("PRAGMA synchronous = {synchronous}").into();
        let relaxed = RelaxedMark::default();
        let mark = relaxed.clone();
        // One connection: SQLite has one writer at a time anyway, and writers on several
        // connections wait for each other's lock in SQLite's busy handler, which sleeps and
        // retries (under a bulk load, statements waited over a second for it). On one
        // connection they queue in the pool instead, first come first served, and a commit's
        // lock is never contended.
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            // Under a bulk load the queue for it is long; a query waits at most this long for
            // its turn (sqlx's default is 30 s), still less than a ceremony's peer timeout.
            .acquire_timeout(Duration::from_secs(45))
            // The connection is a file opened by this process: there is no link to go stale,
            // and sqlx's test before each acquire is one more trip to the connection's worker
            // thread for every statement outside a transaction.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    conn.execute(&*pragmas).await?;
                    Ok(())
                })
            })
            // A relaxed transaction's `synchronous=NORMAL` never outlives its hold.
            .after_release(move |conn, _| {
                let (mark, reset) = (mark.clone(), reset.clone());
                Box::pin(async move { reset_after_release(conn, &mark, &reset).await })
            })
            .connect(&format!("sqlite://{}?mode=rwc", file.path()))
            .await
            .map_err(|e| SetupError::Database(format!("opening database {}: {e}", path.display())))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| SetupError::Database(format!("migrating database {}: {e}", path.display())))?;
        // SQLite made -wal/-shm now, with the database file's mode; tighten any left from before.
        make_private(path)?;
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
            relaxed,
        })
    }

    /// Connect to a PostgreSQL server and bring its schema up to date. Replicas starting
    /// together are safe: the migrations run under PostgreSQL's advisory lock.
    /// `shown` is `raw` as errors name it (without its password).
    async fn connect_postgres(raw: &url::Url, shown: &DatabaseUrl) -> Result<Self, SetupError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(raw.as_str())
            .await
            // sqlx's error names the host, never the password; the URL is shown redacted.
            .map_err(|e| SetupError::Database(format!("connecting to {shown}: {e}")))?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| SetupError::Database(format!("migrating database {shown}: {e}")))?;
        Ok(Self {
            pool,
            backend: Backend::Postgres,
            relaxed: RelaxedMark::default(),
        })
    }

    /// The engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Wait for every connection to finish and close them.
    pub async fn close(&self) {
        self.pool.close().await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse_at_the_edge_and_never_show_a_password() {
        let sqlite: DatabaseUrl = "sqlite:./data/dyad.db".parse().unwrap();
        assert_eq!(sqlite, DatabaseUrl::Sqlite(PathBuf::from("./data/dyad.db")));
        assert_eq!(
            "sqlite://x.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        let pg: DatabaseUrl = "postgres://dyad:hunter2@db.internal:5432/dyad".parse().unwrap();
        for shown in [pg.to_string(), format!("{pg:?}")] {
            assert!(
                !shown.contains("hunter2") && shown.contains("***@db.internal"),
                "{shown}"
            );
        }
        assert!(matches!("postgresql://db/dyad".parse(), Ok(DatabaseUrl::Postgres(_))));
        for bad in [
            "mysql://db/x",
            "sqlite:",
            "sqlite:x.db?mode=ro",
            "dyad.db",
            "postgres://[::1",
        ] {
            let e = bad.parse::<DatabaseUrl>().unwrap_err();
            assert!(matches!(e, SetupError::Database(_)), "{bad}: {e}");
        }
    }
}
