//! HTTP to the agent's calls and back: every `/v1` route needs one of the agent's keys in
//! `X-API-Key`; every answer carries `X-Request-Id` (the caller's, or a new one); bodies are read
//! whole, up to [`BODY_LIMIT`], and parsed by `para`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dyad_proto::WalletId;

use crate::agent_key::AgentKeys;
use crate::error::{AgentError, ErrorBody};
use crate::idempotency::{self, Begun, Idempotency};
use crate::para::{
    self, Bulk, BulkSummary, CreateWallet, ParaWallet, SignMessage, SignRaw, SignTransaction, SignTypedData, Signature,
    SignedTransaction, WalletList, WalletQuery,
};
use crate::wallets::{Agent, ExportedShare};

/// The largest body a call takes.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// The longest `X-Request-Id` echoed; a longer or non-printable one is replaced.
const REQUEST_ID_MAX: usize = 128;

type Shared = Arc<Agent>;

pub(crate) fn router(agent: Shared, keys: Arc<AgentKeys>, idempotency: Idempotency) -> Router {
    Router::new()
        .route("/v1/wallets", post(create_wallet).get(wallets))
        .route("/v1/wallets/bulk", post(bulk))
        .route("/v1/wallets/{id}", get(wallet))
        .route("/v1/wallets/{id}/sign-message", post(sign_message))
        .route("/v1/wallets/{id}/sign-transaction", post(sign_transaction))
        .route("/v1/wallets/{id}/sign-typed-data", post(sign_typed_data))
        .route("/v1/wallets/{id}/sign-raw", post(sign_raw))
        .route("/v1/wallets/{id}/user-share", get(user_share))
        .fallback(not_found)
        .with_state(agent)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(idempotency, run_once))
        .layer(middleware::from_fn_with_state(keys, authenticate))
        // The API's description holds no secret: served without a key.
        .route("/v1/openapi.json", get(openapi))
        .layer(middleware::from_fn(request_id))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        crate::openapi::document(),
    )
        .into_response()
}

#[utoipa::path(post, path = "/v1/wallets", tag = "wallets", request_body = para::CreateWalletBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and request within 24 h: the first answer again")),
    responses((status = 201, description = "the wallet, ready", body = ParaWallet), (status = 409, description = "a wallet of this type exists for this identifier (walletId)", body = ErrorBody), (status = 422, description = "Idempotency-Key used for another request", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn create_wallet(
    State(agent): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let req = CreateWallet::parse(&body_of(body)?)?;
    let wallet = agent.create(&req).await?;
    tracing::info!(wallet = %wallet.id, r#type = %wallet.wallet_type, "wallet created");
    Ok((StatusCode::CREATED, Json(wallet)).into_response())
}

#[utoipa::path(post, path = "/v1/wallets/bulk", tag = "wallets", request_body = para::BulkBody,
    responses((status = 200, description = "what was made, skipped and refused", body = BulkSummary), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn bulk(
    State(agent): State<Shared>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AgentError> {
    let req = Bulk::parse(&body_of(body)?)?;
    let summary = agent.bulk(req).await?;
    tracing::info!(
        created = summary.created,
        skipped = summary.skipped,
        failed = summary.failed.len(),
        "bulk pregeneration"
    );
    Ok(Json(summary).into_response())
}

#[utoipa::path(get, path = "/v1/wallets", tag = "wallets", params(WalletQuery),
    responses((status = 200, description = "the wallets this agent holds", body = WalletList), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn wallets(
    State(agent): State<Shared>,
    query: Result<Query<WalletQuery>, QueryRejection>,
) -> Result<Response, AgentError> {
    let Query(query) = query.map_err(|e| AgentError::InvalidRequest(format!("the query does not parse: {e}")))?;
    let wallets = agent.wallets(query.identifier()?.as_ref()).await?;
    Ok(Json(WalletList { wallets }).into_response())
}

#[utoipa::path(get, path = "/v1/wallets/{id}", tag = "wallets", params(("id" = String, Path, description = "wallet id")),
    responses((status = 200, description = "the wallet", body = ParaWallet), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn wallet(State(agent): State<Shared>, Path(id): Path<String>) -> Result<Response, AgentError> {
    Ok(Json(agent.wallet(wallet_id(&id)?).await?).into_response())
}

#[utoipa::path(post, path = "/v1/wallets/{id}/sign-message", tag = "signing", params(("id" = String, Path, description = "wallet id")), request_body = para::SignMessageBody,
    responses((status = 200, description = "the signature", body = Signature), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn sign_message(
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

#[utoipa::path(post, path = "/v1/wallets/{id}/sign-transaction", tag = "signing", params(("id" = String, Path, description = "wallet id")), request_body = SignTransaction,
    responses((status = 200, description = "the signed transaction", body = SignedTransaction), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn sign_transaction(
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

#[utoipa::path(post, path = "/v1/wallets/{id}/sign-typed-data", tag = "signing", params(("id" = String, Path, description = "wallet id")), request_body = SignTypedData,
    responses((status = 200, description = "the signature, hex without 0x", body = Signature), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn sign_typed_data(
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

#[utoipa::path(post, path = "/v1/wallets/{id}/sign-raw", tag = "signing", params(("id" = String, Path, description = "wallet id")), request_body = para::SignRawBody,
    responses((status = 200, description = "the signature, 0x hex", body = Signature), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn sign_raw(
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

#[utoipa::path(get, path = "/v1/wallets/{id}/user-share", tag = "claiming", params(("id" = String, Path, description = "wallet id")),
    responses((status = 200, description = "the user share, for its person's claim (off unless --allow-share-export)", body = ExportedShare), (status = 404, description = "not a wallet this agent holds", body = ErrorBody), (status = 409, description = "the vault's share is not the current key version", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 401, description = "no X-API-Key", body = ErrorBody), (status = 403, description = "not an agent key, or refused", body = ErrorBody)))]
pub(crate) async fn user_share(
    State(agent): State<Shared>,
    method: Method,
    Path(id): Path<String>,
) -> Result<Response, AgentError> {
    // axum answers HEAD with the GET handler: that would audit a hand-over that sends nothing.
    if method == Method::HEAD {
        return Ok(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    let share = agent.export_share(wallet_id(&id)?).await?;
    let mut response = Json(&share).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
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

/// A POST runs on a task of its own, to its end even if the caller goes away (a wallet being
/// made is finished and its share kept, and, with a key, its answer stored for the retry). With an
/// `Idempotency-Key`, a repeat gets the stored answer instead of running again.
async fn run_once(State(store): State<Idempotency>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let key = match req.headers().get("idempotency-key").map(idempotency::parse_key) {
        None => return to_the_end(next, req).await,
        Some(Err(e)) => return e.into_response(),
        Some(Ok(key)) => key,
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return AgentError::TooLarge(BODY_LIMIT).into_response();
    };
    let print = idempotency::fingerprint(parts.method.as_str(), parts.uri.path(), &bytes);
    match store.begin(&key, &print).await {
        Err(e) => e.into_response(),
        Ok(Begun::Mismatch) => AgentError::IdempotencyMismatch.into_response(),
        Ok(Begun::Running) => AgentError::IdempotencyRunning.into_response(),
        Ok(Begun::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Begun::Run) => {
            // The answer is stored on the same task that runs the request: a caller who hangs
            // up must not leave the key claimed with no answer behind it.
            let req = Request::from_parts(parts, axum::body::Body::from(bytes));
            let (task_store, task_key) = (store.clone(), key.clone());
            let task = tokio::spawn(async move {
                let (parts, body) = next.run(req).await.into_parts();
                let Ok(answer) = axum::body::to_bytes(body, usize::MAX).await else {
                    task_store.forget(&task_key).await;
                    return AgentError::State("the answer could not be read back".into()).into_response();
                };
                if let Err(e) = task_store.finish(&task_key, parts.status.as_u16(), &answer).await {
                    tracing::warn!(error = %e, "keeping an idempotent answer");
                    task_store.forget(&task_key).await;
                }
                Response::from_parts(parts, axum::body::Body::from(answer))
            });
            match task.await {
                Ok(response) => response,
                Err(_) => {
                    store.forget(&key).await;
                    AgentError::State("the request's task failed".into()).into_response()
                }
            }
        }
    }
}

/// Run the rest of the request on a task of its own: dropping this future (the caller left)
/// does not stop it.
async fn to_the_end(next: Next, req: Request) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(response) => response,
        Err(_) => AgentError::State("the request's task failed".into()).into_response(),
    }
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
