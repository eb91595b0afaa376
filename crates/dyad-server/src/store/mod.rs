//! Persistence behind one trait, so the embedded SQLite file and a shared PostgreSQL serve the
//! same server code. Implementations see only sealed cloud shares, never plaintext.

mod sqlite;

pub use sqlite::{Durability, SqliteStore};

use async_trait::async_trait;
use dyad_chains::SignRequest;
use dyad_mpc::{PublicKey, Scheme};
use dyad_proto::{AppId, Environment, PregenId, WalletId, WalletStatus, WalletType, WalletView};

use crate::error::ServerError;

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, ServerError>;

/// The tenant boundary every query runs inside: one app in one environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The app.
    pub app_id: AppId,
    /// Its environment.
    pub environment: Environment,
}

/// An app (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRecord {
    /// Id.
    pub id: AppId,
    /// Human name.
    pub name: String,
    /// BETA or PROD.
    pub environment: Environment,
    /// Unix seconds.
    pub created_at: i64,
    /// What an operator has switched on or off for it.
    pub settings: AppSettings,
}

/// An app's operator settings. `Default` is what a new app gets: everything risky off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppSettings {
    /// `sign-raw` (a bare 32-byte digest, which can be the hash of anything) is allowed.
    pub allow_raw_signing: bool,
}

/// A stored API key: only a hash of its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part that finds the row.
    pub key_id: String,
    /// The app it authenticates.
    pub app_id: AppId,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    /// Unix seconds.
    pub created_at: i64,
    /// When it was revoked (Unix seconds); a revoked key authenticates nothing.
    pub revoked_at: Option<i64>,
}

/// A data key as stored: wrapped, and what it is wrapped with (`seal::WRAPPING` for keys this
/// version made; `"master-key"` for keys an earlier version wrapped with the master key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDataKey {
    /// `nonce ‖ ciphertext` of the 32-byte key.
    pub wrapped: Vec<u8>,
    /// The wrapping scheme's name.
    pub wrapped_with: String,
}

/// A wallet row. `public_key` and `address` are set when key generation commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletRecord {
    /// Id.
    pub id: WalletId,
    /// Its tenant.
    pub scope: Scope,
    /// Chain family.
    pub wallet_type: WalletType,
    /// MPC scheme.
    pub scheme: Scheme,
    /// Group public key, once generated.
    pub public_key: Option<PublicKey>,
    /// Chain address, once generated.
    pub address: Option<String>,
    /// Who it is for.
    pub pregen_id: PregenId,
    /// Lifecycle.
    pub status: WalletStatus,
    /// Current share generation.
    pub key_version: u32,
    /// Set when this share pair must never sign again (the peer cheated in a signature).
    pub locked: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl WalletRecord {
    /// Why this wallet may not sign now, if it may not.
    pub fn signing_refusal(&self) -> Option<ServerError> {
        if self.status == WalletStatus::Claimed {
            Some(ServerError::WalletClaimed)
        } else if self.locked {
            Some(ServerError::WalletLocked)
        } else {
            None
        }
    }

    /// The chain view of this wallet as a signer; fails for a wallet whose key is not committed.
    pub fn signer(&self) -> Result<dyad_chains::Account<'_>, ServerError> {
        match (&self.public_key, &self.address) {
            (Some(public_key), Some(address)) => Ok(dyad_chains::Account {
                wallet_type: self.wallet_type,
                public_key,
                address,
            }),
            _ => Err(ServerError::Internal("wallet without a committed key".into())),
        }
    }

    /// The public view of a committed wallet.
    pub fn view(&self) -> Result<WalletView, ServerError> {
        let (Some(pk), Some(address)) = (&self.public_key, &self.address) else {
            return Err(ServerError::Internal("committed wallet without a key".into()));
        };
        Ok(WalletView {
            id: self.id,
            wallet_type: self.wallet_type,
            scheme: self.scheme,
            address: address.clone(),
            public_key: format!("0x{}", hex::encode(pk.as_bytes())),
            pregen_id: self.pregen_id.clone(),
            status: self.status,
            key_version: self.key_version,
        })
    }
}

/// What a started ceremony will do, fixed when it is authorised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Key generation for a pending wallet.
    Dkg,
    /// Sign exactly this request (fixed, decoded and audited when it was authorised).
    Sign(AuthorisedSign),
}

/// A sign request as it was authorised: the request, and what it decoded to then (as the
/// `sign.requested` audit entry records it). The ceremony refuses to sign if the request now
/// decodes to anything else (say, a replica running other chain code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorisedSign {
    /// The request.
    pub request: SignRequest,
    /// `dyad_chains::describe_input` of what it decoded to when authorised.
    pub signs: String,
}

/// A started, not yet used ceremony.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// SHA-256 of the ceremony id.
    pub id_hash: [u8; 32],
    /// Its tenant.
    pub scope: Scope,
    /// The wallet.
    pub wallet_id: WalletId,
    /// What it does.
    pub kind: CeremonyKind,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// Unix seconds.
    pub at: i64,
    /// Its tenant.
    pub scope: Scope,
    /// The wallet concerned, if any.
    pub wallet_id: Option<WalletId>,
    /// What happened, e.g. `sign.completed`.
    pub action: String,
    /// Details (never secrets).
    pub detail: serde_json::Value,
}

/// What `create_pending_wallet` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The pending wallet and its ceremony were stored.
    Created,
    /// A wallet for this (type, identifier) exists already.
    Exists(WalletId, WalletStatus),
}

/// When a pending wallet counts as abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// Its ceremony never connected and it was created before this (the ticket expired).
    pub unstarted_before: i64,
    /// Created before this, started or not (longer than any ceremony can run).
    pub before: i64,
}

/// A ceremony lease as a holder asks for it (see [`Store::acquire_lease`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseRequest {
    /// Random, names the holder: only it can give the lease back.
    pub token: [u8; 16],
    /// Unix seconds now: a lease whose `until` is before this has expired.
    pub now: i64,
    /// Unix seconds until which the lease holds unless given back first.
    pub until: i64,
}

/// What [`Store::acquire_lease`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseAttempt {
    /// The lease is the caller's.
    Acquired,
    /// Another ceremony of this share pair holds it.
    Busy,
    /// The share pair is locked for good: no ceremony may run.
    Locked,
    /// No such live wallet.
    Gone,
}

/// A cloud share as stored: sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedShare {
    /// Which data key sealed it.
    pub data_key_id: i64,
    /// `nonce ‖ ciphertext`.
    pub sealed: Vec<u8>,
}

/// Everything the server persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Store a new app and its first API key, with their audit entries.
    async fn create_app(&self, app: &AppRecord, key: &ApiKeyRecord, audit: &[AuditRecord]) -> StoreResult<()>;
    /// Find an API key by its public id.
    async fn api_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Find an app.
    async fn app(&self, id: AppId) -> StoreResult<Option<AppRecord>>;
    /// All apps, oldest first.
    async fn apps(&self) -> StoreResult<Vec<AppRecord>>;
    /// Change an app's settings from `expected` to `new`, auditing it, in one transaction.
    /// `Ok(false)` (and nothing written) if the app does not exist or its settings are no longer
    /// `expected` (changed meanwhile).
    async fn update_app_settings(
        &self,
        id: AppId,
        expected: &AppSettings,
        new: &AppSettings,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// Store another API key for an existing app, auditing it.
    async fn create_api_key(&self, key: &ApiKeyRecord, audit: &AuditRecord) -> StoreResult<()>;
    /// An app's API keys (revoked ones too), oldest first.
    async fn api_keys(&self, app: AppId) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revoke an app's key at `at`, auditing it. `Ok(false)` (and nothing written) if the app has
    /// no such key or it is revoked already.
    async fn revoke_api_key(&self, app: AppId, key_id: &str, at: i64, audit: &AuditRecord) -> StoreResult<bool>;

    /// The data key with this id, if any.
    async fn data_key(&self, id: i64) -> StoreResult<Option<StoredDataKey>>;
    /// Store a data key unless one with this id exists; returns the stored one (so replicas
    /// starting together agree on one key).
    async fn put_data_key(&self, id: i64, key: &StoredDataKey) -> StoreResult<StoredDataKey>;

    /// Atomically: forget an abandoned pending wallet for the same (scope, type, identifier);
    /// then either report the existing wallet or insert `wallet` (pending), its ceremony and the
    /// audit entry.
    async fn create_pending_wallet(
        &self,
        wallet: &WalletRecord,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        abandoned: Abandoned,
    ) -> StoreResult<CreateOutcome>;
    /// Commit key generation: set key and address, store the sealed share, mark the wallet
    /// `pregen`, and audit, in one transaction. Fails unless the wallet is still pending.
    async fn activate_wallet(
        &self,
        id: WalletId,
        public_key: &PublicKey,
        address: &str,
        share: &SealedShare,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// Remove a pending wallet after a failed key generation (no-op for any other status),
    /// auditing the failure.
    async fn discard_pending_wallet(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()>;

    /// Visible (non-pending) wallets in `scope`, optionally for one identifier, oldest first.
    async fn wallets(&self, scope: Scope, pregen_id: Option<&PregenId>) -> StoreResult<Vec<WalletRecord>>;
    /// A wallet still waiting for its key generation to commit.
    async fn pending_wallet(&self, id: WalletId) -> StoreResult<Option<WalletRecord>>;
    /// One visible wallet in `scope`.
    async fn wallet(&self, scope: Scope, id: WalletId) -> StoreResult<Option<WalletRecord>>;
    /// Change the identifier of a `pregen` wallet, auditing it. `Ok(false)` if the wallet is not
    /// in `pregen` status; `Err(WalletExists)` if another wallet of its type has that identifier.
    async fn update_pregen_id(
        &self,
        scope: Scope,
        id: WalletId,
        pregen_id: &PregenId,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;

    /// Lock a wallet's current share pair for good (the peer cheated), auditing it.
    async fn lock_wallet(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()>;
    /// Take the ceremony lease of a live wallet's share pair, if it is free or expired and the
    /// wallet is not locked, in one atomic step: at most one holder at a time.
    async fn acquire_lease(&self, id: WalletId, lease: &LeaseRequest) -> StoreResult<LeaseAttempt>;
    /// Push back the expiry of a lease `token` holds; `false` if it no longer holds it.
    async fn extend_lease(&self, id: WalletId, token: &[u8; 16], until: i64) -> StoreResult<bool>;
    /// Give a lease back; a no-op if `token` no longer holds it (it expired and was taken).
    async fn release_lease(&self, id: WalletId, token: &[u8; 16]) -> StoreResult<()>;

    /// Store a ceremony authorised for a visible wallet, with its audit entry.
    async fn insert_ceremony(&self, ceremony: &CeremonyRecord, audit: &AuditRecord) -> StoreResult<()>;
    /// Mark a ceremony used and return it, if it exists, is unused and has not expired at `now`
    /// (for key generation, also mark its pending wallet started). Exactly one caller can win.
    async fn consume_ceremony(&self, id_hash: &[u8; 32], now: i64) -> StoreResult<Option<CeremonyRecord>>;

    /// The sealed cloud share of a wallet at a key version.
    async fn cloud_share(&self, id: WalletId, key_version: u32) -> StoreResult<Option<SealedShare>>;

    /// Append to the audit log.
    async fn audit(&self, record: &AuditRecord) -> StoreResult<()>;
    /// The audit log of a scope, oldest first.
    async fn audit_log(&self, scope: Scope) -> StoreResult<Vec<AuditRecord>>;

    /// Delete spent and expired ceremonies and abandoned pending wallets.
    async fn reap(&self, now: i64, abandoned: Abandoned) -> StoreResult<u64>;
}
