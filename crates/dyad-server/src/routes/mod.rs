//! The REST and WebSocket surface under `/v1`. Handlers parse at the edge and return
//! [`ServerError`], which maps itself to a status and a stable code.

mod auth;
mod ceremony;
mod grants;
mod info;
pub(crate) mod sign;
pub(crate) mod wallets;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;

use crate::error::ServerError;
use crate::model::{Caller, Person, Scope};
use crate::state::AppState;
use zeroize::Zeroizing;

/// The body size limit for REST calls (a `sign-message` of the largest allowed message, base64).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/info", get(info::info))
        .route("/v1/wallets", post(wallets::create).get(wallets::list))
        .route("/v1/wallets/{id}", get(wallets::get).patch(wallets::update))
        .route("/v1/wallets/{id}/sign-message", post(sign::sign_message))
        .route("/v1/wallets/{id}/sign-transaction", post(sign::sign_transaction))
        .route("/v1/wallets/{id}/sign-typed-data", post(sign::sign_typed_data))
        .route("/v1/wallets/{id}/sign-raw", post(sign::sign_raw))
        .route("/v1/wallets/{id}/claim", post(wallets::claim))
        .route(dyad_proto::batch::BATCH_PATH, get(ceremony::batch))
        .route("/v1/ceremonies/{id}", get(ceremony::connect))
        .route("/v1/auth/email/start", post(auth::email_start))
        .route("/v1/auth/email/verify", post(auth::email_verify))
        .route("/v1/auth/phone/start", post(auth::phone_start))
        .route("/v1/auth/phone/verify", post(auth::phone_verify))
        .route("/v1/auth/custom", post(auth::custom))
        .route("/v1/auth/telegram", post(auth::telegram))
        .route("/v1/auth/oauth/{provider}/start", post(auth::oauth_start))
        .route("/v1/auth/oauth/{provider}/finish", post(auth::oauth_finish))
        .route("/v1/auth/farcaster/nonce", post(auth::farcaster_nonce))
        .route("/v1/auth/farcaster/verify", post(auth::farcaster_verify))
        .route("/v1/auth/session", get(auth::session).delete(auth::logout))
        .route("/v1/auth/session/refresh", post(auth::refresh))
        .route("/v1/grants", post(grants::create).get(grants::list))
        .route("/v1/grants/{id}", axum::routing::delete(grants::revoke))
        .fallback(|| async { ServerError::NoSuchEndpoint })
        .method_not_allowed_fallback(|| async { ServerError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The app and environment an API key grants, from the `X-API-Key` header.
pub struct Auth(pub Scope);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .ok_or(ServerError::Unauthenticated)?;
        Ok(Auth(crate::api_key::authenticate(state.store.as_ref(), key).await?))
    }
}

/// Who a request acts for: a person by their session (`Authorization: Bearer …`, which wins
/// when both are sent), else the app by its API key.
pub struct Who(pub Caller);

impl FromRequestParts<AppState> for Who {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(SessionAuth { person, .. }) = SessionAuth::from_parts(parts, state).await? {
            return Ok(Who(Caller::Person(person)));
        }
        let Auth(scope) = Auth::from_request_parts(parts, state).await?;
        Ok(Who(Caller::App(scope)))
    }
}

/// A person by their session, with the token (to refresh or end it). Required where it is the
/// extractor; `Option<SessionAuth>` where a session is welcome but not needed (linking).
pub struct SessionAuth {
    /// The person.
    pub person: Person,
    /// The bearer token as sent.
    pub token: Zeroizing<String>,
}

impl SessionAuth {
    async fn from_parts(parts: &Parts, state: &AppState) -> Result<Option<Self>, ServerError> {
        let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ServerError::SessionInvalid)?;
        let token = Zeroizing::new(token.trim().to_string());
        let person = crate::auth::session::authenticate(state, &token).await?;
        Ok(Some(SessionAuth { person, token }))
    }
}

impl FromRequestParts<AppState> for SessionAuth {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts, state).await?.ok_or(ServerError::SessionInvalid)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for SessionAuth {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Self::from_parts(parts, state).await
    }
}

/// The `Dyad-Key-Version` header: which key version the caller's user share is of (the SDK
/// always sends it), so an outdated share is refused by name before any ceremony.
pub struct KeyVersion(pub Option<u32>);

impl<S: Send + Sync> FromRequestParts<S> for KeyVersion {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("dyad-key-version") {
            None => Ok(KeyVersion(None)),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(|v| KeyVersion(Some(v)))
                .ok_or_else(|| ServerError::InvalidRequest("Dyad-Key-Version must be a number".into())),
        }
    }
}

/// The client's address, for per-address limits (the TCP peer; a deployment behind a proxy
/// counts the proxy).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

/// One path segment (an id) as text; a malformed path is `INVALID_REQUEST`, not a plain-text
/// rejection.
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| Segment(p.0))
            .map_err(|_| ServerError::InvalidRequest("malformed path".into()))
    }
}

/// A request body within the size limit; an oversized one is `PAYLOAD_TOO_LARGE`.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(Body).map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ServerError::PayloadTooLarge(BODY_LIMIT)
            } else {
                ServerError::InvalidRequest(format!("reading the body: {e}"))
            }
        })
    }
}

/// Parse a JSON body whatever its content type says: a body that is not JSON is
/// `INVALID_JSON`; JSON of the wrong shape is `INVALID_REQUEST` with serde's explanation.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServerError> {
    parse_value(json_value(body)?)
}

/// The body as untyped JSON.
pub fn json_value(body: &[u8]) -> Result<serde_json::Value, ServerError> {
    serde_json::from_slice(body).map_err(|e| ServerError::InvalidJson(format!("body is not valid JSON: {}", short(&e))))
}

/// serde's explanation, cut short: it can quote the offending value whole.
fn short(e: &serde_json::Error) -> String {
    const MAX: usize = 200;
    let text = e.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

/// Untyped JSON into the expected shape.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ServerError> {
    serde_json::from_value(value)
        .map_err(|e| ServerError::InvalidRequest(format!("invalid request body: {}", short(&e))))
}
