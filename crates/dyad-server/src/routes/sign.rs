//! Starting sign ceremonies: `sign-message`, `sign-transaction`, `sign-typed-data`, `sign-raw`.
//! Each parses its body into a [`SignRequest`] ([`parse`], which a `sign` on a batch lane uses
//! too) and hands it to [`signing::authorise`], which fixes what the ceremony will sign: exactly
//! what was decoded and audited. Input that does not decode is refused (and the refusal
//! audited) before any ceremony exists.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dyad_chains::{SignRequest, TransactionRequest};
use dyad_proto::batch::SignRoute;
use dyad_proto::rest::{
    decode_base64, decode_digest, decode_hex_or_base64, typed_data_text, CeremonyTicket, SignMessageRequest,
    SignRawRequest, SignTransactionRequest, SignTypedDataRequest,
};

use super::wallets::wallet_id;
use super::{parse_json, Body, KeyVersion, Segment, Who};
use crate::error::ServerError;
use crate::model::{Begins, Caller};
use crate::signing::{self, Parse};
use crate::state::AppState;

type Started = Result<(StatusCode, Json<CeremonyTicket>), ServerError>;

/// `POST /v1/wallets/{id}/sign-message {messageBase64}`.
pub async fn sign_message(
    State(state): State<AppState>,
    Who(caller): Who,
    KeyVersion(version): KeyVersion,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, &caller, version, &id, SignRoute::Message, body.to_vec()).await
}

/// `POST /v1/wallets/{id}/sign-transaction {transaction, chainId?, networkPassphrase?, signMode?}`.
pub async fn sign_transaction(
    State(state): State<AppState>,
    Who(caller): Who,
    KeyVersion(version): KeyVersion,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, &caller, version, &id, SignRoute::Transaction, body.to_vec()).await
}

/// `POST /v1/wallets/{id}/sign-typed-data {typedData}`.
pub async fn sign_typed_data(
    State(state): State<AppState>,
    Who(caller): Who,
    KeyVersion(version): KeyVersion,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, &caller, version, &id, SignRoute::TypedData, body.to_vec()).await
}

/// `POST /v1/wallets/{id}/sign-raw {digest}`: kept apart because a raw digest can be anything's
/// hash (a transaction the decoders would refuse, an EIP-7702 authorization), so it is off unless
/// an operator enabled it for the app; otherwise `RAW_SIGNING_DISABLED`, audited as `sign.denied`.
pub async fn sign_raw(
    State(state): State<AppState>,
    Who(caller): Who,
    KeyVersion(version): KeyVersion,
    Segment(id): Segment,
    Body(body): Body,
) -> Started {
    start(&state, &caller, version, &id, SignRoute::Raw, body.to_vec()).await
}

/// Hand the request to [`signing::authorise`] and answer with its ticket.
async fn start(
    state: &AppState,
    caller: &Caller,
    version: Option<u32>,
    id: &str,
    route: SignRoute,
    body: Vec<u8>,
) -> Started {
    let parse = parse(state, caller, route, body).await?;
    let (ticket, _, _) =
        signing::authorise(state, caller, wallet_id(id)?, version, parse, Begins::OnPresentation).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// Bodies up to this size whose decoding is linear in it (a message, a digest, a transaction)
/// are parsed and decoded in place: handing them to the blocking pool and back costs more than
/// the work. Typed data always goes to the pool (its hashing grows with its types).
const IN_PLACE_MAX: usize = 16 * 1024;

/// How `route`'s JSON `body` becomes a [`SignRequest`]: run by [`signing::authorise`], where a
/// refusal is audited against the wallet (in place when the returned [`Parse`] is light, on
/// the blocking pool otherwise).
/// `sign-raw` is refused there (`RAW_SIGNING_DISABLED`) unless an operator enabled it for the
/// caller's app.
pub async fn parse(
    state: &AppState,
    caller: &Caller,
    route: SignRoute,
    body: Vec<u8>,
) -> Result<Parse<impl FnOnce() -> Result<SignRequest, ServerError> + Send + 'static>, ServerError> {
    let max = state.config.max_message_bytes;
    let raw_allowed = match route {
        SignRoute::Raw => signing::raw_signing_allowed(state, caller.scope()).await?,
        _ => false,
    };
    let light = route != SignRoute::TypedData && body.len() <= IN_PLACE_MAX;
    Ok(Parse::new(light, move || match route {
        SignRoute::Message => {
            let req: SignMessageRequest = parse_json(&body)?;
            let message = decode_base64(&req.message_base64)
                .ok_or_else(|| ServerError::InvalidRequest("messageBase64 is not valid base64".into()))?;
            if message.len() > max {
                return Err(ServerError::InvalidRequest(format!(
                    "message is larger than {max} bytes"
                )));
            }
            Ok(SignRequest::Message(message))
        }
        SignRoute::Transaction => {
            let req: SignTransactionRequest = parse_json(&body)?;
            let bytes = decode_hex_or_base64(&req.transaction)
                .ok_or_else(|| ServerError::InvalidRequest("transaction must be 0x-prefixed hex or base64".into()))?;
            Ok(SignRequest::Transaction(TransactionRequest {
                bytes,
                chain_id: req.chain_id,
                network_passphrase: req.network_passphrase,
                cosmos_sign_mode: req.sign_mode,
            }))
        }
        SignRoute::TypedData => {
            let req: SignTypedDataRequest = parse_json(&body)?;
            Ok(SignRequest::TypedData(typed_data_text(&req.typed_data)))
        }
        SignRoute::Raw => {
            if !raw_allowed {
                return Err(ServerError::RawSigningDisabled);
            }
            let req: SignRawRequest = parse_json(&body)?;
            let digest = decode_digest(&req.digest)
                .ok_or_else(|| ServerError::InvalidRequest("digest must be 32 bytes of 0x-prefixed hex".into()))?;
            Ok(SignRequest::Raw(digest))
        }
    }))
}
