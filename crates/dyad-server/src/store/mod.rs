//! Persistence behind one trait, so the embedded SQLite file and a shared PostgreSQL serve the
//! same server code. Implementations see only sealed cloud shares, never plaintext, and answer
//! in their own error type: what a failure means to a client is decided in `error.rs`.

mod sql;

pub use sql::{Backend, CopyReport, DatabaseUrl, Durability, SqlStore};

use async_trait::async_trait;
use dyad_mpc::PublicKey;
use dyad_proto::{AppId, Environment, KeySetupId, PregenId, UserId, WalletId};

use crate::audit::AuditRecord;
use crate::model::{
    ApiKeyRecord, AppRecord, AppSettings, Begins, CeremonyHash, CeremonyRecord, CodeChallenge, CodeLimits, CodeStart,
    CreateOutcome, Grant, NonceRecord, OAuthStateRecord, OutboxMessage, PendingWallet, Scope, SessionRecord,
    VerifiedId, Wallet,
};
use dyad_proto::auth::OAuthProvider;

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (connection, I/O, a constraint not named below).
    #[error("storage backend failed: {0}")]
    Backend(#[from] sqlx::Error),
    /// A stored value does not parse: the database was changed outside Dyad, or is damaged.
    #[error("stored {0} does not parse")]
    Corrupt(&'static str),
    /// Another wallet of the same type already has the identifier.
    #[error("another wallet of this type has this identifier")]
    IdentifierTaken(WalletId),
    /// The row a write expected is no longer in the state it expected.
    #[error("{0}")]
    Conflict(&'static str),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A data key as stored: wrapped, and what it is wrapped with (`seal::WRAPPING` for keys this
/// version made; `"master-key"` for keys an earlier version wrapped with the master key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDataKey {
    /// `nonce ‖ ciphertext` of the 32-byte key.
    pub wrapped: Vec<u8>,
    /// The wrapping scheme's name.
    pub wrapped_with: String,
}

/// When a pending wallet counts as abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// Its ceremony never connected and it was created before this (the ticket expired).
    pub unstarted_before: i64,
    /// Created before this, started or not (longer than any ceremony can run).
    pub before: i64,
    /// A key setup no create request reserved, made before this, is reaped (the pool's time
    /// to live).
    pub key_setups_before: i64,
}

/// The cloud's half of a key setup made ahead of time (the warm setup pool), sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKeySetup {
    /// Its id.
    pub id: KeySetupId,
    /// The app (and environment) it was made with: only it may use it.
    pub scope: Scope,
    /// The half, sealed for this id and scope.
    pub sealed: SealedShare,
    /// Unix seconds.
    pub created_at: i64,
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

/// A verified login as the store records it: the identifier proved, the session to open (for
/// whichever account the store finds or makes), and (when a logged-in person verifies one more
/// identifier) whom to link it to.
#[derive(Clone, Debug)]
pub struct Login {
    /// The app the login went through; its environment is the account's.
    pub scope: Scope,
    /// What was proved.
    pub identifier: VerifiedId,
    /// Link to this account instead of finding or making one.
    pub link_to: Option<UserId>,
    /// The id a new account gets, if one is made.
    pub new_user: UserId,
    /// SHA-256 of the new session's token.
    pub token_hash: [u8; 32],
    /// Unix seconds: when the login happened.
    pub at: i64,
    /// Unix seconds after which the session is refused.
    pub expires_at: i64,
}

/// What [`Store::login`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// The identifier was the account's already.
    Existing(UserId),
    /// A new account was made for it.
    Created(UserId),
    /// It was linked to the logged-in account.
    Linked(UserId),
    /// It belongs to another account: nothing was written.
    OwnedByAnother,
}

impl LoginOutcome {
    /// The account logged in, if any.
    pub fn user(self) -> Option<UserId> {
        match self {
            LoginOutcome::Existing(u) | LoginOutcome::Created(u) | LoginOutcome::Linked(u) => Some(u),
            LoginOutcome::OwnedByAnother => None,
        }
    }
}

/// What [`Store::start_claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStart {
    /// The claim ceremony is stored and holds the wallet until it ends.
    Started,
    /// Another claim of the wallet is running.
    InProgress,
    /// The wallet is no longer a pregenerated wallet at the expected key version.
    NotPregen,
}

/// A claim as it commits: in one transaction the new cloud share is stored, every older one
/// deleted, and the wallet changes owner, status and key version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimCommit {
    /// The wallet.
    pub wallet_id: WalletId,
    /// The key version the claim rotated from (the commit refuses if it changed).
    pub from_version: u32,
    /// The new owner.
    pub owner: UserId,
    /// The new cloud share, sealed for `from_version + 1`.
    pub share: SealedShare,
    /// Argon2id hash (PHC string) of the recovery secret.
    pub recovery_hash: String,
}

/// Everything the server persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Store a new app and its first API key, with their audit entries.
    async fn create_app(&self, app: &AppRecord, key: &ApiKeyRecord, audit: &[AuditRecord]) -> StoreResult<()>;
    /// Find an API key by its public id, with the scope of the app it belongs to (one
    /// statement: every authenticated request asks this).
    async fn api_key(&self, key_id: &str) -> StoreResult<Option<(ApiKeyRecord, Scope)>>;
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
    /// then either report the existing wallet or insert `wallet`, its ceremony (used up already
    /// if it [`Begins::Now`]) and the audit entry. With `key_setup`, the same transaction
    /// reserves that setup for the wallet, or, if it is not one of the scope's unreserved and
    /// unexpired setups, writes nothing and answers [`CreateOutcome::NoKeySetup`].
    async fn create_pending_wallet(
        &self,
        wallet: &PendingWallet,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        abandoned: Abandoned,
        begins: Begins,
        key_setup: Option<KeySetupId>,
    ) -> StoreResult<CreateOutcome>;
    /// Store the cloud's sealed half of a key setup (the warm setup pool).
    async fn put_key_setup(&self, setup: &StoredKeySetup) -> StoreResult<()>;
    /// Delete and give back the key setup reserved for the pending wallet `wallet`, if any: a
    /// setup is read once, by the key generation it serves, and is gone whatever that run's
    /// outcome.
    async fn take_key_setup(&self, wallet: WalletId) -> StoreResult<Option<StoredKeySetup>>;
    /// How many unreserved key setups `scope` has.
    async fn key_setups_available(&self, scope: Scope) -> StoreResult<u64>;
    /// Commit key generation: set key and address, store the sealed share, mark the wallet
    /// `pregen`, and audit, in one transaction. [`StoreError::Conflict`] unless the wallet is
    /// still pending.
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

    /// Live wallets in `scope`, optionally for one identifier, oldest first.
    async fn wallets(&self, scope: Scope, pregen_id: Option<&PregenId>) -> StoreResult<Vec<Wallet>>;
    /// One page of the live wallets in `scope`, by creation time then the order they were
    /// stored in (`seq`), starting after `after` (`created_at`, `seq`); at most `limit`. Each
    /// with its `seq`.
    async fn wallets_page(
        &self,
        scope: Scope,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Wallet)>>;
    /// A wallet still waiting for its key generation to commit.
    async fn pending_wallet(&self, id: WalletId) -> StoreResult<Option<PendingWallet>>;
    /// One live wallet in `scope`.
    async fn wallet(&self, scope: Scope, id: WalletId) -> StoreResult<Option<Wallet>>;
    /// Change the identifier of a `pregen` wallet, auditing it. `Ok(false)` if the wallet is not
    /// in `pregen` status; [`StoreError::IdentifierTaken`] if another wallet of its type has that
    /// identifier.
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
    /// Write a ceremony's outcome (`audit`) and give its lease back, in one transaction: the
    /// next ceremony of the wallet can start exactly when the outcome is durable. On an error
    /// neither happened.
    async fn release_lease_recorded(&self, id: WalletId, token: &[u8; 16], audit: &AuditRecord) -> StoreResult<()>;

    /// [`Store::insert_ceremony`], and in the same transaction take the wallet's lease for
    /// `lease` if it is free now (as [`Store::acquire_lease`] would): whether it was taken. The
    /// ceremony and its entry are stored either way.
    async fn insert_ceremony_leased(
        &self,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        begins: Begins,
        lease: &LeaseRequest,
    ) -> StoreResult<bool>;
    /// Store a ceremony authorised for a live wallet, with its audit entry; used up at once if
    /// it [`Begins::Now`] (a batch lane runs it).
    async fn insert_ceremony(&self, ceremony: &CeremonyRecord, audit: &AuditRecord, begins: Begins) -> StoreResult<()>;
    /// Mark a ceremony used and return it, if it exists, is unused and has not expired at `now`
    /// (for key generation, also mark its pending wallet started). Exactly one caller can win.
    async fn consume_ceremony(&self, id_hash: &CeremonyHash, now: i64) -> StoreResult<Option<CeremonyRecord>>;

    /// The sealed cloud share of a wallet at a key version.
    async fn cloud_share(&self, id: WalletId, key_version: u32) -> StoreResult<Option<SealedShare>>;

    /// Record a verified login in one transaction: find the identifier's account (or make one,
    /// or link it to `login.link_to`), open the session, and append `audit(user, outcome)`.
    async fn login(
        &self,
        login: &Login,
        audit: &(dyn Fn(UserId, LoginOutcome) -> Vec<AuditRecord> + Send + Sync),
    ) -> StoreResult<LoginOutcome>;
    /// A session by the hash of its token (expired and revoked ones too).
    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRecord>>;
    /// Everything an account has verified in `environment`.
    async fn user_identifiers(&self, environment: Environment, user: UserId) -> StoreResult<Vec<VerifiedId>>;
    /// Push a live session's expiry to `until`, auditing it; `false` if it is not live at `now`.
    async fn extend_session(
        &self,
        token_hash: &[u8; 32],
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;
    /// End a session at `at`, auditing it; `false` if it was not live.
    async fn revoke_session(&self, token_hash: &[u8; 32], at: i64, audit: &AuditRecord) -> StoreResult<bool>;

    /// Store a one-time code unless `limits` are reached, voiding the identifier's open code,
    /// with its audit entry.
    async fn start_code(
        &self,
        code: &CodeChallenge,
        limits: &CodeLimits,
        audit: &AuditRecord,
    ) -> StoreResult<CodeStart>;
    /// The identifier's newest unused code in `scope` (expired or not).
    async fn open_code(&self, scope: Scope, identifier: &PregenId) -> StoreResult<Option<CodeChallenge>>;
    /// Count one try of a code; its tries so far, or `None` if it is used or had `max` already.
    async fn spend_code_try(&self, id: &str, max: u32) -> StoreResult<Option<u32>>;
    /// Mark a code used; `false` if it was used already (exactly one caller wins).
    async fn consume_code(&self, id: &str, now: i64) -> StoreResult<bool>;
    /// Keep a message in the outbox.
    async fn write_outbox(&self, message: &OutboxMessage) -> StoreResult<()>;
    /// The outbox, oldest first.
    async fn outbox(&self) -> StoreResult<Vec<OutboxMessage>>;
    /// Keep a started OAuth login until it is finished or expires.
    async fn insert_oauth_state(&self, state: &OAuthStateRecord) -> StoreResult<()>;
    /// Mark the OAuth login whose state hashes to `state_hash` finished and return it, if it
    /// exists, is unfinished and unexpired at `now`, and was started through `scope`'s app for
    /// `provider`; `None` otherwise (and then nothing changes). Exactly one caller can win.
    async fn consume_oauth_state(
        &self,
        state_hash: &[u8; 32],
        scope: Scope,
        provider: OAuthProvider,
        now: i64,
    ) -> StoreResult<Option<OAuthStateRecord>>;
    /// Keep an issued Sign In With Farcaster nonce until it is used or expires.
    async fn insert_nonce(&self, nonce: &NonceRecord) -> StoreResult<()>;
    /// Mark `nonce` used if it was issued through `scope`'s app, is unused and unexpired at
    /// `now`; `false` otherwise. Exactly one caller can win.
    async fn consume_nonce(&self, scope: Scope, nonce: &str, now: i64) -> StoreResult<bool>;

    /// Any live wallet by id, whatever its app (callers check what the caller may see).
    async fn wallet_by_id(&self, id: WalletId) -> StoreResult<Option<Wallet>>;
    /// The live wallets a person owns, oldest first.
    async fn owned_wallets(&self, user: UserId) -> StoreResult<Vec<Wallet>>;
    /// Store a claim ceremony if the wallet is still pregenerated at `key_version` and no other
    /// claim holds it at `now`; the claim then holds it until `until`. With its audit entry.
    async fn start_claim(
        &self,
        ceremony: &CeremonyRecord,
        key_version: u32,
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<ClaimStart>;
    /// Commit a claim (see [`ClaimCommit`]), with its audit entry. [`StoreError::Conflict`] if
    /// the wallet is no longer pregenerated at `from_version`.
    async fn commit_claim(&self, claim: &ClaimCommit, audit: &AuditRecord) -> StoreResult<()>;
    /// A claim ended without committing: the wallet is free for another, audited.
    async fn abandon_claim(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()>;

    /// Store a grant, with its audit entry.
    async fn create_grant(&self, grant: &Grant, audit: &AuditRecord) -> StoreResult<()>;
    /// A person's live grants to the app of `scope`, oldest first.
    async fn grants(&self, user: UserId, scope: Scope) -> StoreResult<Vec<Grant>>;
    /// Revoke a person's grant to the app of `scope`, auditing it; `false` if there is no
    /// such live grant.
    async fn revoke_grant(
        &self,
        user: UserId,
        scope: Scope,
        id: uuid::Uuid,
        at: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool>;

    /// Append to the audit log.
    async fn audit(&self, record: &AuditRecord) -> StoreResult<()>;
    /// The audit log of a scope, oldest first.
    async fn audit_log(&self, scope: Scope) -> StoreResult<Vec<AuditRecord>>;

    /// Delete spent and expired ceremonies, OAuth states and nonces, and abandoned pending
    /// wallets.
    async fn reap(&self, now: i64, abandoned: Abandoned) -> StoreResult<u64>;
}
