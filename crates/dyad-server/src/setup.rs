//! Starting a server: where an embedded server keeps its files ([`DataDir`]) and everything
//! that can stop it from starting ([`SetupError`]). A start-up failure is for the operator, not a
//! client: it never becomes an HTTP status.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::seal::{MasterKey, SealError};
use crate::store::{DatabaseUrl, SqlStore, Store, StoreError};

/// Why a server cannot start on this data. Each message is one line saying what is wrong and,
/// where there is one, the fix. Never holds secrets.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The data folder is missing, unusable or open to others.
    #[error("{0}")]
    DataFolder(String),
    /// The master key cannot be read, created or used.
    #[error("{0}")]
    MasterKey(String),
    /// The database cannot be opened, secured or migrated, or holds data this version refuses.
    #[error("{0}")]
    Database(String),
    /// The settings contradict each other.
    #[error("invalid server settings: {0}")]
    Config(&'static str),
    /// Reading what start-up needs from the store failed.
    #[error("reading the database at start-up: {0}")]
    Store(#[from] StoreError),
    /// The data key could not be made.
    #[error("making the data key: {0}")]
    Seal(#[from] SealError),
}

/// Where an embedded server keeps its files: `dyad.db` (SQLite) and `master.key` (0600).
#[derive(Clone, Debug)]
pub struct DataDir(PathBuf);

impl DataDir {
    /// Use `path`, creating it (mode 0700: it holds the master key and sealed shares) if needed.
    /// A folder that group or others can read, write or enter is refused, with the `chmod` that
    /// fixes it.
    pub fn new(path: impl AsRef<Path>) -> Result<Self, SetupError> {
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
                .map_err(|e| SetupError::DataFolder(format!("creating data folder {}: {e}", p.display())))?;
        }
        let meta = std::fs::metadata(&p)
            .map_err(|e| SetupError::DataFolder(format!("reading data folder {}: {e}", p.display())))?;
        if !meta.is_dir() {
            return Err(SetupError::DataFolder(format!(
                "data folder {} is not a folder",
                p.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SetupError::DataFolder(format!(
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

    /// Open the folder's SQLite file (creating it on first use).
    pub async fn open_store(&self) -> Result<Arc<dyn Store>, SetupError> {
        self.open_store_at(None).await
    }

    /// Open the store at `url`, or the folder's SQLite file if none (creating the database on
    /// first use).
    pub async fn open_store_at(&self, url: Option<&DatabaseUrl>) -> Result<Arc<dyn Store>, SetupError> {
        Ok(Arc::new(match url {
            None => SqlStore::open(&self.database()).await?,
            Some(url) => SqlStore::open_url(url).await?,
        }))
    }

    /// Load the master key: `DYAD_MASTER_KEY` (64 hex characters) if set, else the key file,
    /// created on first run.
    pub fn master_key_from_env_or_file(&self) -> Result<MasterKey, SetupError> {
        match std::env::var("DYAD_MASTER_KEY") {
            Ok(hex) if !hex.trim().is_empty() => MasterKey::from_hex(&hex),
            _ => MasterKey::load_or_create(&self.master_key()),
        }
    }
}
