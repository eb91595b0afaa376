//! Where the CLI keeps user shares: a share file (the whole share string, 0600) or a share
//! vault (one sealed record per wallet and key version, under the app's vault key).

use std::path::{Path, PathBuf};

use dyad_proto::WalletId;
use dyad_sdk::Dyad;
use dyad_vault::{ShareVault, VaultKey};

use crate::args::{Keep, VaultArgs, VaultKeyFile};
use crate::commands::{load_share, save_share};
use crate::{share_file, CliError};

/// An opened place for shares.
pub enum Kept {
    /// A share file.
    File(PathBuf),
    /// A share vault.
    Vault(ShareVault),
}

/// The vault key: `--vault-key-file`, else `DYAD_VAULT_KEY`.
pub fn vault_key(file: Option<&Path>) -> Result<VaultKey, CliError> {
    let key = match file {
        Some(path) => VaultKey::from_file(path),
        None => match std::env::var("DYAD_VAULT_KEY") {
            Ok(text) => VaultKey::from_base64(&text),
            Err(_) => {
                return Err(CliError::Usage(
                    "a vault needs its key: set DYAD_VAULT_KEY (base64 of 32 bytes) or pass --vault-key-file".into(),
                ))
            }
        },
    };
    key.map_err(|e| CliError::Usage(e.to_string()))
}

/// Open the vault `args` names.
pub async fn open_vault(args: &VaultArgs) -> Result<ShareVault, CliError> {
    let key = vault_key(args.vault_key_file.as_deref())?;
    ShareVault::open_at(&location(&args.vault)?, key)
        .await
        .map_err(vault_error)
}

/// What `--vault` names, as [`ShareVault::open_at`] takes it: a file path or a PostgreSQL URL.
fn location(vault: &Path) -> Result<String, CliError> {
    vault
        .to_str()
        .map(str::to_string)
        .ok_or_else(|| CliError::Usage(format!("the vault path {} is not UTF-8", vault.display())))
}

/// A vault failure, for the one-line error.
pub fn vault_error(e: dyad_vault::VaultError) -> CliError {
    CliError::Io(format!("vault: {e}"))
}

impl Kept {
    /// Open what `keep` names.
    pub async fn open(keep: &Keep, key: &VaultKeyFile) -> Result<Self, CliError> {
        match (&keep.share_file, &keep.vault) {
            (Some(path), None) => Ok(Kept::File(path.clone())),
            (None, Some(vault)) => {
                let key = vault_key(key.vault_key_file.as_deref())?;
                Ok(Kept::Vault(
                    ShareVault::open_at(&location(vault)?, key).await.map_err(vault_error)?,
                ))
            }
            _ => Err(CliError::Usage("give --share-file or --vault".into())),
        }
    }

    /// Before creating wallets: load what a share file holds (new wallets accumulate in it) and
    /// check it can be written, so a new wallet's share is never lost for want of a place.
    pub async fn prepare_create(&self, dyad: &Dyad) -> Result<(), CliError> {
        if let Kept::File(path) = self {
            load_share(dyad, path, false).await?;
            share_file::check_writable(path)?;
        }
        Ok(())
    }

    /// Load the share of `wallet` (a share file loads all its wallets).
    pub async fn load(&self, dyad: &Dyad, wallet: WalletId) -> Result<(), CliError> {
        match self {
            Kept::File(path) => load_share(dyad, path, true).await,
            Kept::Vault(vault) => {
                let (_, text) = vault
                    .usable(wallet)
                    .await
                    .map_err(vault_error)?
                    .ok_or_else(|| CliError::Usage(format!("the vault holds no share of wallet {wallet}")))?;
                Ok(dyad.set_user_share(&text).await?)
            }
        }
    }

    /// Keep every share loaded in `dyad`: the file rewritten, or one vault record per wallet
    /// (synced before this returns).
    pub async fn save(&self, dyad: &Dyad) -> Result<(), CliError> {
        match self {
            Kept::File(path) => save_share(dyad, path),
            Kept::Vault(vault) => {
                for w in dyad.loaded_wallets() {
                    vault.put(&dyad.get_user_share_of(w.id)?).await.map_err(vault_error)?;
                }
                Ok(())
            }
        }
    }
}
