//! The vault file and its records.

use std::path::Path;
use std::str::FromStr;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{AeadCore, Nonce};
use dyad_proto::{PregenId, WalletId, WalletType};
use dyad_sdk::UserShare;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use zeroize::Zeroizing;

use crate::{VaultError, VaultKey};

/// What the vault says about a record, without opening it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultRecord {
    /// The wallet.
    pub wallet_id: WalletId,
    /// The share's key version (a claim or refresh makes a new one).
    pub key_version: u32,
    /// Chain family.
    pub wallet_type: WalletType,
    /// Who the wallet is for (as the share recorded it).
    pub identifier: PregenId,
    /// The wallet's address.
    pub address: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A share vault: a SQLite file or a PostgreSQL database, and the key its records are sealed
/// with.
pub struct ShareVault {
    pool: AnyPool,
    postgres: bool,
    key: VaultKey,
}

impl std::fmt::Debug for ShareVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareVault")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// `"dyad/v1/vault" ‖ wallet id ‖ be32(key version) ‖ be32(len(kind)) ‖ kind ‖ value`.
fn aad(r: &VaultRecord) -> Vec<u8> {
    let kind = r.identifier.kind();
    let mut out = b"dyad/v1/vault".to_vec();
    out.extend_from_slice(r.wallet_id.0.as_bytes());
    out.extend_from_slice(&r.key_version.to_be_bytes());
    out.extend_from_slice(&(kind.len() as u32).to_be_bytes());
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(r.identifier.value().as_bytes());
    out
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn record_from_row(row: &AnyRow) -> Result<VaultRecord, VaultError> {
    let id: String = row.try_get("wallet_id")?;
    let version: i64 = row.try_get("key_version")?;
    let wt: String = row.try_get("wallet_type")?;
    let kind: String = row.try_get("pregen_kind")?;
    let value: String = row.try_get("pregen_value")?;
    Ok(VaultRecord {
        wallet_id: id.parse().map_err(|_| VaultError::Corrupt("wallet id"))?,
        key_version: u32::try_from(version).map_err(|_| VaultError::Corrupt("key version"))?,
        wallet_type: WalletType::from_str(&wt).map_err(|_| VaultError::Corrupt("wallet type"))?,
        identifier: PregenId::parse(&kind, &value).map_err(|_| VaultError::Corrupt("identifier"))?,
        address: row.try_get("address")?,
        created_at: row.try_get("created_at")?,
    })
}

const COLUMNS: &str =
    "wallet_id, key_version, wallet_type, pregen_kind, pregen_value, address, key_id, sealed, created_at";

impl ShareVault {
    /// Open `location`: a PostgreSQL URL (`postgres://…`, see [`connect`](Self::connect)) or a
    /// file path ([`open`](Self::open)).
    pub async fn open_at(location: &str, key: VaultKey) -> Result<Self, VaultError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Self::connect(location, key).await
        } else {
            Self::open(Path::new(location), key).await
        }
    }

    /// Open (creating it, 0600, if missing) the vault file at `path` with `key`. A vault whose
    /// records were sealed with another key is refused, naming both fingerprints.
    pub async fn open(path: &Path, key: VaultKey) -> Result<Self, VaultError> {
        sqlx::any::install_default_drivers();
        create_private(path)?;
        let absolute = std::path::absolute(path)
            .map_err(|e| VaultError::Io(format!("opening the vault {}: {e}", path.display())))?;
        // sqlx reads the path percent-decoded and ends it at the first '?'.
        let escaped = absolute
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        let url = format!("sqlite://{escaped}?mode=rwc");
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;")
                        .await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Self::ready(pool, false, key).await
    }

    /// Connect to a vault in a PostgreSQL database (its table is made if missing). Writes are
    /// durable when the server's `synchronous_commit` is on (its default).
    pub async fn connect(url: &str, key: VaultKey) -> Result<Self, VaultError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new().max_connections(8).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Self::ready(pool, true, key).await
    }

    async fn ready(pool: AnyPool, postgres: bool, key: VaultKey) -> Result<Self, VaultError> {
        let other: Option<String> = sqlx::query_scalar("SELECT key_id FROM shares WHERE key_id <> $1 LIMIT 1")
            .bind(key.id())
            .fetch_optional(&pool)
            .await?;
        if let Some(other) = other {
            return Err(VaultError::Key(format!(
                "this vault's records are sealed with vault key {other}, not {} (check DYAD_VAULT_KEY / --vault-key-file)",
                key.id()
            )));
        }
        Ok(Self { pool, postgres, key })
    }

    /// Keep one wallet's share (a share string of exactly one wallet, as
    /// `Dyad::get_user_share_of` gives it). Synced before it returns. Storing the same share
    /// again is a no-op; another share for the same wallet and key version is refused.
    pub async fn put(&self, share: &UserShare) -> Result<VaultRecord, VaultError> {
        let mut wallets = UserShare::decode(share.expose()).map_err(|e| VaultError::Share(e.to_string()))?;
        let wallet = match (wallets.pop(), wallets.is_empty()) {
            (Some(w), true) => w,
            _ => return Err(VaultError::Share("give the share of exactly one wallet".into())),
        };
        let record = VaultRecord {
            wallet_id: wallet.view.id,
            key_version: wallet.view.key_version,
            wallet_type: wallet.view.wallet_type,
            identifier: wallet.view.pregen_id.clone(),
            address: wallet.view.address.clone(),
            created_at: now(),
        };
        let sealed = self.seal(&record, share.expose().as_bytes())?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO shares ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (wallet_id, key_version) DO NOTHING"
        ))
        .bind(record.wallet_id.to_string())
        .bind(i64::from(record.key_version))
        .bind(record.wallet_type.as_str())
        .bind(record.identifier.kind())
        .bind(record.identifier.value())
        .bind(&record.address)
        .bind(self.key.id())
        .bind(&sealed)
        .bind(record.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            let (existing, text) = self
                .get_version(record.wallet_id, record.key_version)
                .await?
                .ok_or(VaultError::Conflict(record.wallet_id))?;
            if text.as_str() != share.expose() {
                return Err(VaultError::Conflict(record.wallet_id));
            }
            return Ok(existing);
        }
        Ok(record)
    }

    /// The newest share of `wallet` (its highest key version), opened: the text to hand to
    /// `set_user_share`. Secret.
    pub async fn get(&self, wallet: WalletId) -> Result<Option<(VaultRecord, Zeroizing<String>)>, VaultError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM shares WHERE wallet_id = $1 ORDER BY key_version DESC LIMIT 1"
        ))
        .bind(wallet.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.open_row(&r)).transpose()
    }

    /// [`get`](Self::get) for a share that is to take part in a ceremony or be handed on: a
    /// share marked [retired](Self::retire) is [`VaultError::Retired`]. The one place that
    /// check lives, for every caller that signs or claims.
    pub async fn usable(&self, wallet: WalletId) -> Result<Option<(VaultRecord, Zeroizing<String>)>, VaultError> {
        let Some((record, share)) = self.get(wallet).await? else {
            return Ok(None);
        };
        if self.is_retired(wallet, record.key_version).await? {
            return Err(VaultError::Retired(wallet));
        }
        Ok(Some((record, share)))
    }

    /// The newest record of `wallet`, without opening its share.
    pub async fn record(&self, wallet: WalletId) -> Result<Option<VaultRecord>, VaultError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM shares WHERE wallet_id = $1 ORDER BY key_version DESC LIMIT 1"
        ))
        .bind(wallet.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    async fn get_version(
        &self,
        wallet: WalletId,
        version: u32,
    ) -> Result<Option<(VaultRecord, Zeroizing<String>)>, VaultError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM shares WHERE wallet_id = $1 AND key_version = $2"
        ))
        .bind(wallet.to_string())
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.open_row(&r)).transpose()
    }

    /// Mark the share of `wallet` at `key_version` as one that must not sign again (the SDK
    /// caught the server cheating with it). Synced before it returns; marking twice is a no-op.
    pub async fn retire(&self, wallet: WalletId, key_version: u32) -> Result<(), VaultError> {
        sqlx::query(
            "INSERT INTO retired (wallet_id, key_version, retired_at) VALUES ($1, $2, $3) \
             ON CONFLICT (wallet_id, key_version) DO NOTHING",
        )
        .bind(wallet.to_string())
        .bind(i64::from(key_version))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the share of `wallet` at `key_version` was [retired](Self::retire).
    pub async fn is_retired(&self, wallet: WalletId, key_version: u32) -> Result<bool, VaultError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT retired_at FROM retired WHERE wallet_id = $1 AND key_version = $2")
                .bind(wallet.to_string())
                .bind(i64::from(key_version))
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Every record, oldest first, without opening any.
    pub async fn list(&self) -> Result<Vec<VaultRecord>, VaultError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM shares ORDER BY created_at, rowid"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Every record with its share, opened (to move to another vault or system). Secret.
    pub async fn export(&self) -> Result<Vec<(VaultRecord, Zeroizing<String>)>, VaultError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM shares ORDER BY created_at, rowid"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.open_row(r)).collect()
    }

    /// Re-seal every record under `new` in one transaction, and use it from now on. Killed at
    /// any point, the vault holds every share under the old key (not committed) or every share
    /// under the new one (committed): never a mix.
    pub async fn rekey(self, new: VaultKey) -> Result<ShareVault, VaultError> {
        // No write may slip in between the read and the re-seal (it would stay under the old key).
        let mut tx = if self.postgres {
            let mut tx = self.pool.begin().await?;
            sqlx::query("LOCK TABLE shares IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
            tx
        } else {
            self.pool.begin_with("BEGIN IMMEDIATE").await?
        };
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM shares"))
            .fetch_all(&mut *tx)
            .await?;
        let next = ShareVault {
            pool: self.pool.clone(),
            postgres: self.postgres,
            key: new,
        };
        for row in &rows {
            let (record, text) = self.open_row(row)?;
            let sealed = next.seal(&record, text.as_bytes())?;
            sqlx::query("UPDATE shares SET key_id = $1, sealed = $2 WHERE wallet_id = $3 AND key_version = $4")
                .bind(next.key.id())
                .bind(&sealed)
                .bind(record.wallet_id.to_string())
                .bind(i64::from(record.key_version))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(next)
    }

    /// Close the file (waits until every connection is closed and the WAL checkpointed).
    pub async fn close(self) {
        self.pool.close().await;
    }

    fn seal(&self, record: &VaultRecord, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut rand_core::OsRng);
        let aad = aad(record);
        let ct = self
            .key
            .cipher()
            .encrypt(&nonce, Payload { msg: plain, aad: &aad })
            .map_err(|_| VaultError::Share("sealing the share failed".into()))?;
        Ok([nonce.as_slice(), &ct].concat())
    }

    fn open_row(&self, row: &AnyRow) -> Result<(VaultRecord, Zeroizing<String>), VaultError> {
        let record = record_from_row(row)?;
        let key_id: String = row.try_get("key_id")?;
        if key_id != self.key.id() {
            return Err(VaultError::Key(format!(
                "wallet {}'s record is sealed with vault key {key_id}, not {}",
                record.wallet_id,
                self.key.id()
            )));
        }
        let sealed: Vec<u8> = row.try_get("sealed")?;
        if sealed.len() < 12 {
            return Err(VaultError::Sealed(record.wallet_id));
        }
        let (nonce, ct) = sealed.split_at(12);
        let aad = aad(&record);
        let plain = Zeroizing::new(
            self.key
                .cipher()
                .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
                .map_err(|_| VaultError::Sealed(record.wallet_id))?,
        );
        let text = Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Sealed(record.wallet_id))?);
        Ok((record, text))
    }
}

/// Create the vault file 0600 before SQLite opens it (its `-wal`/`-shm` get the same mode).
fn create_private(path: &Path) -> Result<(), VaultError> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(VaultError::Io(format!("creating the vault {}: {e}", path.display()))),
    }
}
