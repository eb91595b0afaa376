//! `POST /v1/wallets/{id}/sign-message`: authorise, audit, and start a sign ceremony.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dyad_proto::rest::{decode_base64, CeremonyTicket, SignMessageRequest};
use dyad_proto::CeremonyId;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::wallets::wallet_id;
use super::{parse_json, Auth, Body};
use crate::audit;
use crate::ceremony::{ceremony_hash, sign_input};
use crate::clock;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{CeremonyKind, CeremonyRecord};

/// Start signing a message with the wallet's `signMessage` convention. The message is fixed
/// here, before any ceremony runs: the ceremony signs exactly what was authorised and audited.
pub async fn sign_message(
    State(state): State<AppState>,
    Auth(scope): Auth,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<CeremonyTicket>), ServerError> {
    let id = wallet_id(&id)?;
    let req: SignMessageRequest = parse_json(&body)?;
    let message = decode_base64(&req.message_base64)
        .ok_or_else(|| ServerError::InvalidRequest("messageBase64 is not valid base64".into()))?;
    if message.len() > state.config.max_message_bytes {
        return Err(ServerError::InvalidRequest(format!(
            "message is larger than {} bytes",
            state.config.max_message_bytes
        )));
    }
    let wallet = state
        .store
        .wallet(scope, id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    if let Some(refusal) = wallet.signing_refusal() {
        return Err(audit::denied(state.store.as_ref(), scope, id, "sign.denied", refusal).await);
    }
    // Computing the input now rejects anything the chain rules refuse before a ceremony exists.
    let input = sign_input(&wallet, &message)?;
    let ceremony_id = CeremonyId::random();
    let expires_at = clock::now() + state.config.ceremony_ttl.as_secs() as i64;
    let record = CeremonyRecord {
        id_hash: ceremony_hash(&ceremony_id),
        scope,
        wallet_id: id,
        kind: CeremonyKind::SignMessage {
            message: message.clone(),
        },
        expires_at,
    };
    let signed = match &input {
        dyad_mpc::SignInput::Digest(d) => format!("0x{}", hex::encode(d)),
        dyad_mpc::SignInput::Message(m) => format!("0x{}", hex::encode(Sha256::digest(m))),
    };
    let entry = audit::entry(
        scope,
        Some(id),
        "sign.requested",
        json!({
            "kind": "message",
            "type": wallet.wallet_type,
            "bytes": message.len(),
            "messageSha256": format!("0x{}", hex::encode(Sha256::digest(&message))),
            "signs": signed,
        }),
    );
    state.store.insert_ceremony(&record, &entry).await?;
    Ok((
        StatusCode::CREATED,
        Json(CeremonyTicket {
            ceremony_id,
            wallet_id: id,
            expires_at,
        }),
    ))
}
