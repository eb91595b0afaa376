//! Starting sign ceremonies: `sign-message`, `sign-transaction`, `sign-typed-data`, `sign-raw`.
//! Each parses its body into a [`SignRequest`], and one path authorises, decodes, audits and
//! stores it. What the ceremony will sign is fixed here: it signs exactly what was decoded and
//! audited, and input that does not decode is refused (and the refusal audited) before any
//! ceremony exists.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dyad_chains::{describe_input, SignRequest, TransactionRequest};
use dyad_proto::rest::{
    decode_base64, decode_digest, decode_hex_or_base64, typed_data_text, CeremonyTicket, SignMessageRequest,
    SignRawRequest, SignTransactionRequest, SignTypedDataRequest,
};
use dyad_proto::CeremonyId;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::wallets::wallet_id;
use super::{parse_json, Auth, Body, Segment};
use crate::audit;
use crate::ceremony::ceremony_hash;
use crate::clock;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{AuthorisedSign, CeremonyKind, CeremonyRecord, Scope};

type Started = Result<(StatusCode, Json<CeremonyTicket>), ServerError>;

/// `POST /v1/wallets/{id}/sign-message {messageBase64}`.
pub async fn sign_message(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    let max = state.config.max_message_bytes;
    start(&state, scope, &id, move || {
        let req: SignMessageRequest = parse_json(&body)?;
        let message = decode_base64(&req.message_base64)
            .ok_or_else(|| ServerError::InvalidRequest("messageBase64 is not valid base64".into()))?;
        if message.len() > max {
            return Err(ServerError::InvalidRequest(format!(
                "message is larger than {max} bytes"
            )));
        }
        Ok(SignRequest::Message(message))
    })
    .await
}

/// `POST /v1/wallets/{id}/sign-transaction {transaction, chainId?, networkPassphrase?, signMode?}`.
pub async fn sign_transaction(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, scope, &id, move || {
        let req: SignTransactionRequest = parse_json(&body)?;
        let bytes = decode_hex_or_base64(&req.transaction)
            .ok_or_else(|| ServerError::InvalidRequest("transaction must be 0x-prefixed hex or base64".into()))?;
        Ok(SignRequest::Transaction(TransactionRequest {
            bytes,
            chain_id: req.chain_id,
            network_passphrase: req.network_passphrase,
            cosmos_sign_mode: req.sign_mode,
        }))
    })
    .await
}

/// `POST /v1/wallets/{id}/sign-typed-data {typedData}`.
pub async fn sign_typed_data(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, scope, &id, move || {
        let req: SignTypedDataRequest = parse_json(&body)?;
        Ok(SignRequest::TypedData(typed_data_text(&req.typed_data)))
    })
    .await
}

/// `POST /v1/wallets/{id}/sign-raw {digest}`: kept apart because a raw digest can be anything's
/// hash (a transaction the decoders would refuse, an EIP-7702 authorization), so it is off unless
/// an operator enabled it for the app; otherwise `RAW_SIGNING_DISABLED`, audited as `sign.denied`.
pub async fn sign_raw(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    // Read on every request: switching it off takes effect at once.
    let allowed = state
        .store
        .app(scope.app_id)
        .await?
        .is_some_and(|app| app.settings.allow_raw_signing);
    start(&state, scope, &id, move || {
        if !allowed {
            return Err(ServerError::RawSigningDisabled);
        }
        let req: SignRawRequest = parse_json(&body)?;
        let digest = decode_digest(&req.digest)
            .ok_or_else(|| ServerError::InvalidRequest("digest must be 32 bytes of 0x-prefixed hex".into()))?;
        Ok(SignRequest::Raw(digest))
    })
    .await
}

/// Authorise, decode, audit and store a sign request; the ticket for its ceremony. `parse`
/// turns the body into the request once the wallet is known, so that every refusal of a real
/// wallet's request, down to a malformed body, is audited. Parsing and decoding run on the
/// blocking pool: a large Cosmos document or EIP-712 payload must not hold up an async worker
/// that other tenants' requests share.
async fn start(
    state: &AppState,
    scope: Scope,
    id: &str,
    parse: impl FnOnce() -> Result<SignRequest, ServerError> + Send + 'static,
) -> Started {
    let id = wallet_id(id)?;
    let wallet = state
        .store
        .wallet(scope, id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    let deny = |e: ServerError| audit::denied(state.store.as_ref(), scope, id, "sign.denied", e);
    let refusal = match wallet.signing_refusal() {
        Some(refusal) => Some(refusal),
        None if state.leases.is_locked_here(id) => Some(ServerError::WalletLocked),
        None => None,
    };
    if let Some(refusal) = refusal {
        return Err(deny(refusal).await);
    }
    let decoding = wallet.clone();
    let decoded = tokio::task::spawn_blocking(move || {
        let request = parse()?;
        let prepared = request.prepare(decoding.signer()?)?;
        Ok::<_, ServerError>((request, prepared))
    })
    .await
    .unwrap_or_else(|_| Err(ServerError::Internal("decoding a sign request failed".into())));
    let (request, prepared) = match decoded {
        Ok(d) => d,
        Err(e) => return Err(deny(e).await),
    };
    let signs = describe_input(&prepared.input);
    let ceremony_id = CeremonyId::random();
    let expires_at = clock::now() + state.config.ceremony_ttl.as_secs() as i64;
    let entry = audit::entry(
        scope,
        Some(id),
        "sign.requested",
        json!({
            "operation": request.operation(),
            "type": wallet.wallet_type,
            "summary": prepared.summary,
            "signs": signs,
            "requestSha256": format!("0x{}", hex::encode(Sha256::digest(request_bytes(&request)))),
        }),
    );
    let record = CeremonyRecord {
        id_hash: ceremony_hash(&ceremony_id),
        scope,
        wallet_id: id,
        kind: CeremonyKind::Sign(AuthorisedSign { request, signs }),
        expires_at,
    };
    state.store.insert_ceremony(&record, &entry).await?;
    Ok((
        StatusCode::CREATED,
        Json(CeremonyTicket {
            ceremony_id,
            wallet_id: id,
            expires_at,
            summary: Some(prepared.summary),
        }),
    ))
}

/// The bytes the app sent, for the audit line's fingerprint.
fn request_bytes(request: &SignRequest) -> Vec<u8> {
    match request {
        SignRequest::Message(m) => m.clone(),
        SignRequest::Transaction(t) => t.bytes.clone(),
        SignRequest::TypedData(s) => s.as_bytes().to_vec(),
        SignRequest::Raw(d) => d.to_vec(),
    }
}
