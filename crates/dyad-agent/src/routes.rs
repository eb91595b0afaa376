//! HTTP to the agent's calls and back: every `/v1` route needs one of the agent's keys in
//! `X-API-Key`; every answer carries `X-Request-Id` (the caller's, or a new one); bodies are read
//! whole, up to [`BODY_LIMIT`], and parsed by `para`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dyad_proto::WalletId;

use crate::agent_key::AgentKeys;
use crate::error::AgentError;
use crate::para::{CreateWallet, SignMessage, SignRaw, SignTransaction, SignTypedData};
use crate::wallets::Agent;

/// The largest body a call takes.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// The longest `X-Request-Id` echoed; a longer or non-printable one is replaced.
const REQUEST_ID_MAX: usize = 128;

type Shared = Arc<Agent>;

pub(crate) fn router(agent: Shared, keys: Arc<AgentKeys>) -> Router {
    Router::new()
        .route("/v1/wallets", post(create_wallet))
        .route("/v1/wallets/{id}", get(wallet))
        .route("/v1/wallets/{id}/sign-message", post(sign_message))
        .route("/v1/wallets/{id}/sign-transaction", post(sign_transaction))
        .route("/v1/wallets/{id}/sign-typed-data", post(sign_typed_data))
        .route("/v1/wallets/{id}/sign-raw", post(sign_raw))
        .fallback(not_found)
        .with_state(agent)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(keys, authenticate))
        .layer(middleware::from_fn(request_id))
}

async fn create_wallet(
    State(agent): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let req = CreateWallet::parse(&body_of(body)?)?;
    let wallet = agent.create(&req).await?;
    tracing::info!(wallet = %wallet.id, r#type = %wallet.wallet_type, "wallet created");
    Ok((StatusCode::CREATED, Json(wallet)).into_response())
}

async fn wallet(State(agent): State<Shared>, Path(id): Path<String>) -> Result<Response, AgentError> {
    Ok(Json(agent.wallet(wallet_id(&id)?).await?).into_response())
}

async fn sign_message(
    State(agent): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let id = wallet_id(&id)?;
    let message = SignMessage::parse(&body_of(body)?)?;
    let signature = agent.sign_message(id, &message).await?;
    tracing::info!(wallet = %id, "message signed");
    Ok(Json(signature).into_response())
}

async fn sign_transaction(
    State(agent): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let id = wallet_id(&id)?;
    let req = SignTransaction::parse(&body_of(body)?)?;
    let signed = agent.sign_transaction(id, &req).await?;
    tracing::info!(wallet = %id, "transaction signed");
    Ok(Json(signed).into_response())
}

async fn sign_typed_data(
    State(agent): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let id = wallet_id(&id)?;
    let req = SignTypedData::parse(&body_of(body)?)?;
    let signature = agent.sign_typed_data(id, &req).await?;
    tracing::info!(wallet = %id, "typed data signed");
    Ok(Json(signature).into_response())
}

async fn sign_raw(
    State(agent): State<Shared>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let id = wallet_id(&id)?;
    let req = SignRaw::parse(&body_of(body)?)?;
    let signature = agent.sign_raw(id, &req).await?;
    tracing::info!(wallet = %id, "digest signed");
    Ok(Json(signature).into_response())
}

async fn not_found() -> Response {
    let body = serde_json::json!({ "code": "NOT_FOUND", "message": "no such endpoint" });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

fn wallet_id(text: &str) -> Result<WalletId, AgentError> {
    text.parse()
        .map_err(|_| AgentError::InvalidRequest(format!("{text:?} is not a wallet id")))
}

fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AgentError> {
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AgentError::TooLarge(BODY_LIMIT),
        _ => AgentError::InvalidJson(format!("the body could not be read: {e}")),
    })
}

/// One of the agent's keys, or no call.
async fn authenticate(State(keys): State<Arc<AgentKeys>>, req: Request, next: Next) -> Response {
    let presented = req.headers().get("x-api-key").map(|v| v.to_str().unwrap_or(""));
    match presented {
        None => AgentError::MissingKey.into_response(),
        Some(key) if !keys.accepts(key) => AgentError::WrongKey.into_response(),
        Some(_) => next.run(req).await,
    }
}

/// Echo the caller's `X-Request-Id`, or give the answer a new one.
async fn request_id(req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get("x-request-id")
        .filter(|v| {
            v.len() <= REQUEST_ID_MAX
                && v.to_str()
                    .is_ok_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        })
        .cloned();
    let id = given.unwrap_or_else(|| {
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static("unknown"))
    });
    let mut response = next.run(req).await;
    response.headers_mut().insert("x-request-id", id);
    response
}
