//! Claiming, as a flow: a logged-in person takes over a pregenerated wallet whose identifier
//! they verified. [`start`] checks ownership and stores a claim ceremony (one claim of a wallet
//! at a time); under the wallet's lease the ceremony asks [`ready`] for the current cloud share,
//! runs the complete refresh and a test signature of the new pair, and [`commit`]s: in one
//! transaction the new cloud share is stored, every older one deleted, and the wallet becomes
//! the person's (status `claimed`, owner, key version + 1, the recovery secret's Argon2id hash).
//! From then on the app's API key cannot sign with it and the old user share is outdated.
//!
//! Until the commit the old pair still signs, so a claim cut short anywhere leaves one pair
//! that works: the old one before the commit, the new one after.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use dyad_mpc::KeyShare;
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{CeremonyId, RecoverySecret, UserId, WalletId};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::{Actor, CeremonyHash, CeremonyKind, CeremonyRecord, LiveStatus, Person, Wallet};
use crate::state::AppState;
use crate::store::{ClaimCommit, ClaimStart, SealedShare, StoreError};

/// Start a claim of wallet `id` by `person`: the wallet must be pregenerated in the session's
/// app and for an identifier the person verified, and no other claim may be running.
pub async fn start(state: &AppState, person: &Person, id: WalletId) -> Result<CeremonyTicket, ServerError> {
    let scope = person.scope;
    let wallet = state
        .store
        .wallet(scope, id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    let deny = |e: ServerError| audit::denied(state.store.as_ref(), scope, id, AuditAction::ClaimDenied, e);
    if let Some(refusal) = refusal(person, &wallet) {
        return Err(deny(refusal).await);
    }
    let ceremony_id = CeremonyId::random();
    let now = clock::now();
    let expires_at = now + state.config.ceremony_ttl.as_secs() as i64;
    let record = CeremonyRecord {
        id_hash: CeremonyHash::of(&ceremony_id),
        scope,
        actor: Actor::User(person.user_id),
        wallet_id: id,
        kind: CeremonyKind::Claim,
        expires_at,
    };
    // The claim holds the wallet for as long as its ceremony can live, or until it ends.
    let holds_until = expires_at + (state.config.turn_wait + state.config.ceremony_deadline).as_secs() as i64 + 60;
    let entry = audit::entry(
        scope,
        Some(id),
        AuditAction::ClaimRequested,
        json!({ "userId": person.user_id, "identifier": wallet.pregen_id, "keyVersion": wallet.key_version }),
    );
    match state
        .store
        .start_claim(&record, wallet.key_version, now, holds_until, &entry)
        .await?
    {
        ClaimStart::Started => {}
        ClaimStart::InProgress => return Err(deny(ServerError::ClaimInProgress).await),
        ClaimStart::NotPregen => return Err(deny(ServerError::AlreadyClaimed).await),
    }
    Ok(CeremonyTicket {
        ceremony_id,
        wallet_id: id,
        expires_at,
        summary: None,
    })
}

/// Why `person` may not claim `wallet`, if they may not.
fn refusal(person: &Person, wallet: &Wallet) -> Option<ServerError> {
    if !person.verified_for(wallet) && !person.owns(wallet) {
        Some(ServerError::ClaimNotAllowed)
    } else if wallet.status == LiveStatus::Claimed {
        Some(ServerError::AlreadyClaimed)
    } else if wallet.locked {
        Some(ServerError::WalletLocked)
    } else {
        None
    }
}

/// What a claim ceremony holding the wallet's lease rotates: the wallet as it is now, the person
/// and the opened cloud share. Must not be sent or logged (`Debug` names the wallet only).
pub struct Ready {
    /// The wallet, read after the lease was taken.
    pub wallet: Wallet,
    /// Who claims it.
    pub user: UserId,
    /// The current cloud share, opened.
    pub share: KeyShare,
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("wallet", &self.wallet.id)
            .finish_non_exhaustive()
    }
}

/// Everything the ceremony needs, checked again under the lease: still pregenerated, still for
/// an identifier the person verified, not locked.
pub async fn ready(state: &AppState, record: &CeremonyRecord) -> Result<Ready, ServerError> {
    let Actor::User(user) = record.actor else {
        return Err(ServerError::Internal("a claim ceremony without its person".into()));
    };
    let wallet = state
        .store
        .wallet(record.scope, record.wallet_id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    let person = Person {
        user_id: user,
        scope: record.scope,
        identifiers: state.store.user_identifiers(record.scope.environment, user).await?,
        grants: Vec::new(),
        session_expires_at: 0,
    };
    if let Some(refusal) = refusal(&person, &wallet) {
        return Err(refusal);
    }
    if state.leases.is_locked_here(wallet.id) {
        return Err(ServerError::WalletLocked);
    }
    let share = crate::share::open(state, &wallet).await?;
    Ok(Ready { wallet, user, share })
}

/// The Argon2id hash (PHC string, random salt) of a recovery secret. CPU-heavy: call it on the
/// blocking pool.
pub fn hash_recovery_secret(secret: &RecoverySecret) -> Result<String, ServerError> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(secret.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ServerError::Internal("hashing the recovery secret failed".into()))
}

/// Commit a claim whose new pair both parties confirmed. Returns the wallet as it is now.
pub async fn commit(
    state: &AppState,
    record: &CeremonyRecord,
    ready: &Ready,
    new_share: &KeyShare,
    recovery_hash: String,
) -> Result<Wallet, ServerError> {
    let wallet = &ready.wallet;
    let to = wallet.key_version + 1;
    let sealed = state.data_key.seal_share(&wallet.id, to, &new_share.to_bytes())?;
    let claim = ClaimCommit {
        wallet_id: wallet.id,
        from_version: wallet.key_version,
        owner: ready.user,
        share: SealedShare {
            data_key_id: state.data_key.id(),
            sealed,
        },
        recovery_hash,
    };
    let entry = audit::entry(
        record.scope,
        Some(wallet.id),
        AuditAction::WalletClaimed,
        json!({ "userId": ready.user, "fromKeyVersion": wallet.key_version, "keyVersion": to }),
    );
    match state.store.commit_claim(&claim, &entry).await {
        Ok(()) => {}
        Err(StoreError::Conflict(why)) => return Err(ServerError::CeremonyAborted(why.into())),
        Err(e) => return Err(e.into()),
    }
    Ok(Wallet {
        status: LiveStatus::Claimed,
        owner: Some(ready.user),
        key_version: to,
        ..wallet.clone()
    })
}

/// A claim ceremony ended without committing: the wallet is free for another claim (the old
/// shares still sign), audited `claim.failed` before the client hears of it.
pub async fn failed(state: &AppState, record: &CeremonyRecord, e: &ServerError) {
    let entry = audit::entry(
        record.scope,
        Some(record.wallet_id),
        AuditAction::ClaimFailed,
        json!({ "error": e.to_string(), "code": e.body().code }),
    );
    if let Err(e) = state.store.abandon_claim(record.wallet_id, &entry).await {
        tracing::error!(error = %e, "recording a failed claim");
    }
}
