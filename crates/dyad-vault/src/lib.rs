//! The share vault: an app's user shares encrypted at rest (AES-256-GCM) under a key the app
//! holds, one record per wallet and key version, in a SQLite file (writes synced before they
//! are acknowledged: WAL, `synchronous=FULL`) or a PostgreSQL database (`--vault postgres://…`). Para tells apps to encrypt user shares and
//! keep the key out of the database; Dyad ships it.
//!
//! Each record's associated data binds the wallet id, the key version and the identifier, so a
//! row copied onto another wallet, version or person does not open. Rekeying re-seals every
//! record in one transaction: a rekey killed at any point leaves every share readable with the
//! old key or (once committed) the new one.
//!
//! It must never store the vault key, never write a share unsealed, never log a share or the
//! key, and never overwrite a record with another share.

pub mod bulk;
mod key;
mod vault;

pub use key::VaultKey;
pub use vault::{ShareVault, VaultRecord};

/// What a vault call can fail with. Never holds a share or the key.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key is missing, malformed, or not the one the vault's records were sealed with.
    #[error("{0}")]
    Key(String),
    /// A record did not open: it was sealed for another wallet, version or identifier, or was
    /// changed.
    #[error("the vault record of wallet {0} does not open with this key and wallet (moved or changed?)")]
    Sealed(dyad_proto::WalletId),
    /// The share given is not one wallet's share, or not the wallet it claims.
    #[error("{0}")]
    Share(String),
    /// A record for this wallet and key version exists with another share.
    #[error("the vault already holds another share for wallet {0} at this key version")]
    Conflict(dyad_proto::WalletId),
    /// The share was marked retired: the server was caught cheating in one of its ceremonies.
    #[error("the vault's share of wallet {0} is retired (the Dyad server was caught cheating with it): it takes part in no ceremony again")]
    Retired(dyad_proto::WalletId),
    /// A stored value does not parse.
    #[error("stored {0} does not parse")]
    Corrupt(&'static str),
    /// The database failed.
    #[error("vault storage failed: {0}")]
    Backend(#[from] sqlx::Error),
    /// The database could not be brought up to date.
    #[error("vault migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Files.
    #[error("{0}")]
    Io(String),
}
