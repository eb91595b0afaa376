//! Signing, as a flow: [`authorise`] turns a request for a wallet into a ceremony that will sign
//! exactly what it decoded to (or a refusal, audited as `sign.denied`); under the wallet's lease
//! the ceremony asks [`ready`] for the share and the input, [`decide`]s on the signature the
//! protocol produced, and records how it ended ([`completed`], [`failed`], [`locked`]).
//!
//! The route and the ceremony run the same checks through [`decode`]: the wallet may sign, and
//! the request decodes, for this wallet, to what will be signed.

use dyad_chains::{describe_input, Prepared, SignRequest, SignedTransaction};
use dyad_mpc::{KeyShare, SignInput, Signature};
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{CeremonyId, WalletId};
use dyad_types::hex0x;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditAction, AuditRecord};
use crate::clock;
use crate::error::ServerError;
use crate::lease::LeaseGuard;
use crate::model::{
    Actor, AuthorisedSign, Begins, Caller, CeremonyHash, CeremonyKind, CeremonyRecord, Grant, Scope, Wallet,
};
use crate::pregen;
use crate::state::AppState;

/// Whether `sign-raw` is on for the app. Read on every request: switching it off takes effect
/// at once.
pub async fn raw_signing_allowed(state: &AppState, scope: Scope) -> Result<bool, ServerError> {
    Ok(state
        .store
        .app(scope.app_id)
        .await?
        .is_some_and(|app| app.settings.allow_raw_signing))
}

/// Why `actor` may not sign with `wallet` through `scope` now, if it may not: an app only while
/// it holds the wallet, a person only once they own it; neither while it is locked in the
/// store or in this process (a lock not yet written).
fn refusal(state: &AppState, actor: Actor, scope: Scope, wallet: &Wallet, grants: &[Grant]) -> Option<ServerError> {
    actor.signing_refusal(scope, wallet, grants).or_else(|| {
        state
            .leases
            .is_locked_here(wallet.id)
            .then_some(ServerError::WalletLocked)
    })
}

/// What `request` signs for `wallet`, refusing what does not decode, is unsupported, names
/// another chain or does not need this wallet.
pub fn decode(wallet: &Wallet, request: &SignRequest) -> Result<Prepared, ServerError> {
    Ok(request.prepare(wallet.account())?)
}

/// How a sign request's body becomes a [`SignRequest`], and whether that is light enough to run
/// on the async worker that asks (a small body whose decoding is linear in its size) rather than
/// on the blocking pool.
pub struct Parse<F> {
    light: bool,
    run: F,
}

impl<F> Parse<F>
where
    F: FnOnce() -> Result<SignRequest, ServerError> + Send + 'static,
{
    /// `run` parses the body; `light` says it may run in place.
    pub fn new(light: bool, run: F) -> Self {
        Parse { light, run }
    }
}

/// Authorise a sign request of `caller` for wallet `id`: the wallet must be visible to the
/// caller, the caller may sign with it, the caller's share is of its current key version (when
/// the caller says which it holds), and the request (`parse` turns the body into it, once the
/// wallet is known, so every refusal of a real wallet's request, down to a malformed body, is
/// audited) must decode. Then the request and what it decoded to are stored in a single-use
/// ceremony and `sign.requested` is audited. Parsing and decoding run on the blocking pool
/// unless [`Parse`] says they are light: a large Cosmos document or EIP-712 payload must not
/// hold up an async worker that other tenants' requests share.
///
/// A ceremony that [`Begins::Now`] is stored used up (a batch lane runs it at once); its record
/// is returned for the lane to run.
pub async fn authorise(
    state: &AppState,
    caller: &Caller,
    id: WalletId,
    key_version: Option<u32>,
    parse: Parse<impl FnOnce() -> Result<SignRequest, ServerError> + Send + 'static>,
    begins: Begins,
) -> Result<(CeremonyTicket, CeremonyRecord, Option<LeaseGuard>), ServerError> {
    let scope = caller.scope();
    let wallet = pregen::get(state, caller, id).await?;
    let deny = |e: ServerError| audit::denied(state.store.as_ref(), scope, id, AuditAction::SignDenied, e);
    if let Some(refusal) = refusal(state, caller.actor(), scope, &wallet, caller.grants()) {
        return Err(deny(refusal).await);
    }
    if let Some(have) = key_version.filter(|v| *v != wallet.key_version) {
        return Err(deny(ServerError::ShareOutdated {
            have,
            current: wallet.key_version,
        })
        .await);
    }
    let decoding = wallet.clone();
    let Parse { light, run } = parse;
    let work = move || {
        let request = run()?;
        let prepared = decode(&decoding, &request)?;
        Ok::<_, ServerError>((request, prepared))
    };
    let decoded = if light {
        work()
    } else {
        tokio::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|_| Err(ServerError::Internal("decoding a sign request failed".into())))
    };
    let (request, prepared) = match decoded {
        Ok(d) => d,
        Err(e) => return Err(deny(e).await),
    };
    if let Some(refusal) = caller
        .actor()
        .operation_refusal(scope, &wallet, caller.grants(), request.operation())
    {
        return Err(deny(refusal).await);
    }
    let signs = describe_input(&prepared.input);
    let ceremony_id = CeremonyId::random();
    let expires_at = clock::now() + state.config.ceremony_ttl.as_secs() as i64;
    let entry = audit::entry(
        scope,
        Some(id),
        AuditAction::SignRequested,
        json!({
            "operation": request.operation(),
            "type": wallet.wallet_type,
            "summary": prepared.summary,
            "signs": signs,
            "requestSha256": hex0x::encode(Sha256::digest(request_bytes(&request))),
        }),
    );
    let record = CeremonyRecord {
        id_hash: CeremonyHash::of(&ceremony_id),
        scope,
        actor: caller.actor(),
        wallet_id: id,
        kind: CeremonyKind::Sign(AuthorisedSign { request, signs }),
        expires_at,
    };
    // A ceremony that begins now (a batch lane) takes its wallet's lease in the same commit
    // when it is free: one commit fewer per signature.
    let lease = match begins {
        Begins::Now(_) => {
            state
                .leases
                .insert_ceremony_leased(
                    &state.store,
                    &record,
                    &entry,
                    begins,
                    crate::ceremony::lease_hold(&state.config),
                )
                .await?
        }
        Begins::OnPresentation => {
            state.store.insert_ceremony(&record, &entry, begins).await?;
            None
        }
    };
    Ok((
        CeremonyTicket {
            ceremony_id,
            wallet_id: id,
            expires_at,
            summary: Some(prepared.summary),
        },
        record,
        lease,
    ))
}

/// The bytes the app sent, for the audit line's fingerprint.
fn request_bytes(request: &SignRequest) -> Vec<u8> {
    match request {
        SignRequest::Message(m) => m.clone(),
        SignRequest::Transaction(t) => t.bytes.clone(),
        SignRequest::TypedData(s) => s.as_bytes().to_vec(),
        SignRequest::Raw(d) => d.as_bytes().to_vec(),
    }
}

/// What a sign ceremony holding the wallet's lease signs with: the wallet as it is now, the
/// input this server decoded, and the opened cloud share. Must not be sent or logged (`Debug`
/// names the wallet only).
pub struct Ready {
    /// The wallet, read after the lease was taken.
    pub wallet: Wallet,
    /// What the protocol signs.
    pub input: SignInput,
    /// The cloud share, opened.
    pub share: KeyShare,
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready")
            .field("wallet", &self.wallet.id)
            .finish_non_exhaustive()
    }
}

/// Everything the ceremony needs to sign `authorised`, checked again now that it holds the
/// lease: a lock decided while it waited is seen here, and a request that no longer decodes to
/// what was authorised (say, on a replica running other chain code) is refused.
pub async fn ready(
    state: &AppState,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
) -> Result<Ready, ServerError> {
    let wallet = state
        .store
        .wallet_by_id(record.wallet_id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    // Grants are read again: one revoked while the ceremony waited no longer counts.
    let grants = match record.actor {
        Actor::App => Vec::new(),
        Actor::User(user) => state.store.grants(user, record.scope).await?,
    };
    if let Some(refusal) = refusal(state, record.actor, record.scope, &wallet, &grants).or_else(|| {
        record
            .actor
            .operation_refusal(record.scope, &wallet, &grants, authorised.request.operation())
    }) {
        return Err(refusal);
    }
    let prepared = decode(&wallet, &authorised.request)?;
    if describe_input(&prepared.input) != authorised.signs {
        return Err(ServerError::CeremonyAborted(
            "the request no longer decodes to what was authorised; start a new one".into(),
        ));
    }
    let share = crate::share::open(state, &wallet).await?;
    // The sign run verifies its signature under the share's key; that must be the wallet's.
    if share.public_key() != wallet.public_key {
        return Err(ServerError::Internal(
            "the stored cloud share does not match its wallet".into(),
        ));
    }
    Ok(Ready {
        wallet,
        input: prepared.input,
        share,
    })
}

/// A verified signature in the chain's forms, not yet recorded.
#[derive(Debug)]
pub struct Decided {
    /// The chain forms.
    pub signed: SignedTransaction,
    operation: &'static str,
}

/// Assemble the chain's forms of the protocol's `signature`. The sign run gave it only after
/// its last step verified it with the standard verifier (`PublicKey::verify`) under the share's
/// key, which [`ready`] checked is the wallet's, for [`Ready::input`], the input this server
/// decoded: it is not verified a second time here (an ECDSA verification with its recovery id is
/// three scalar multiplications, on every signature's critical path). `finish` refuses a
/// signature the chain's form cannot hold.
pub fn decide(wallet: &Wallet, authorised: &AuthorisedSign, signature: &Signature) -> Result<Decided, ServerError> {
    let request = &authorised.request;
    Ok(Decided {
        signed: request.finish(wallet.account(), signature)?,
        operation: request.operation(),
    })
}

/// The `sign.completed` entry of a decided signature, with the ceremony's turn (microseconds).
pub fn completed(record: &CeremonyRecord, decided: &Decided, started_at: i64, finished_at: i64) -> AuditRecord {
    audit::entry(
        record.scope,
        Some(record.wallet_id),
        AuditAction::SignCompleted,
        json!({
            "operation": decided.operation,
            "signature": hex0x::encode(&decided.signed.signature),
            "signedTransactionSha256": decided
                .signed
                .signed_transaction
                .as_ref()
                .map(|t| hex0x::encode(Sha256::digest(t))),
            "startedAtMicros": started_at,
            "finishedAtMicros": finished_at,
        }),
    )
}

/// The `wallet.locked` entry for a peer that cheated in the multiplication.
pub fn locked(record: &CeremonyRecord, reason: &str) -> AuditRecord {
    audit::entry(
        record.scope,
        Some(record.wallet_id),
        AuditAction::WalletLocked,
        json!({ "reason": reason }),
    )
}

/// Record a sign ceremony that failed (`sign.failed` with the code the peer is told), before
/// the peer hears of it.
pub async fn failed(state: &AppState, record: &CeremonyRecord, e: &ServerError, code: dyad_proto::ErrorCode) {
    let entry = audit::entry(
        record.scope,
        Some(record.wallet_id),
        AuditAction::SignFailed,
        json!({ "error": e.to_string(), "code": code }),
    );
    audit::record_or_log(state.store.as_ref(), &entry).await;
}
