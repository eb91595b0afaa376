//! The one place that knows HTTP: [`ServerError`] is what a request or a ceremony can end
//! with, and [`ServerError::status_and_code`] maps each to a status and a stable code. The
//! layers below answer in their own types ([`StoreError`], [`SealError`],
//! `dyad_chains::ChainError`, `dyad_proto::ProtoError`), converted here; start-up failures
//! ([`crate::SetupError`]) never reach a client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dyad_proto::{ErrorBody, ErrorCode, ProtoError, WalletId};

use crate::seal::SealError;
use crate::store::StoreError;

/// Everything that can go wrong while serving a request or a ceremony.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The body was not JSON of the expected shape.
    #[error("{0}")]
    InvalidJson(String),
    /// A field's value was not acceptable.
    #[error("{0}")]
    InvalidRequest(String),
    /// The pregeneration identifier did not parse.
    #[error("{0}")]
    InvalidIdentifier(String),
    /// Unknown wallet type.
    #[error("{0}")]
    UnsupportedWalletType(String),
    /// No or a wrong API key.
    #[error("missing or invalid API key: send it in the X-API-Key header")]
    Unauthenticated,
    /// Not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No route for the path.
    #[error("no such endpoint")]
    NoSuchEndpoint,
    /// The path exists, the method does not.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// No such wallet in this app and environment.
    #[error("wallet not found")]
    WalletNotFound,
    /// A wallet for this type and identifier exists.
    #[error("a wallet of this type already exists for this identifier")]
    WalletExists(WalletId),
    /// One is being created right now.
    #[error("a wallet of this type is being created for this identifier; retry in a few seconds")]
    CeremonyInProgress(WalletId),
    /// Unknown, expired or used ceremony id.
    #[error("ceremony not found, expired or already used; start a new one")]
    CeremonyNotFound,
    /// The ceremony broke off.
    #[error("ceremony aborted: {0}")]
    CeremonyAborted(String),
    /// The wallet was claimed.
    #[error("wallet has been claimed; the pregenerated share no longer works")]
    WalletClaimed,
    /// The wallet's share pair may not sign again.
    #[error("wallet is locked: a signing peer misbehaved; its shares must be refreshed before it can sign")]
    WalletLocked,
    /// The wallet's previous ceremony held it for longer than a request may wait.
    #[error("another ceremony of this wallet is still running; retry")]
    WalletBusy,
    /// `sign-raw` is off for this app.
    #[error("raw digest signing is disabled for this app: a digest can be the hash of anything (a transaction, an EIP-7702 authorization); an operator can enable it with `dyad app update --allow-raw-signing true`")]
    RawSigningDisabled,
    /// No, an unknown, expired or ended session.
    #[error("the session is unknown, expired or ended: log in again")]
    SessionInvalid,
    /// The one-time code is wrong, or none is waiting.
    #[error("the code is wrong, or no code is waiting for this identifier")]
    CodeInvalid,
    /// The one-time code expired.
    #[error("the code has expired: ask for a new one")]
    CodeExpired,
    /// The one-time code had its tries.
    #[error("too many wrong tries: this code no longer works; ask for a new one")]
    CodeAttemptsExceeded,
    /// Over a rate limit.
    #[error("{0}")]
    RateLimited(String),
    /// A message could not be delivered.
    #[error("the code could not be delivered; try again later")]
    DeliveryFailed,
    /// A login proof did not check out.
    #[error("login refused: {0}")]
    LoginRejected(String),
    /// This server does not take this kind of login (say which, and how an operator turns it on).
    #[error("{0}")]
    LoginMethodUnavailable(String),
    /// The login provider failed or answered something unusable. The string never holds what
    /// the provider sent (it may echo a code or a token).
    #[error("the login provider failed: {0}")]
    ProviderUnavailable(String),
    /// The person did not verify the wallet's identifier.
    #[error("this wallet is for an identifier you have not verified: log in with it (or link it) to claim the wallet")]
    ClaimNotAllowed,
    /// Another claim of the wallet is running.
    #[error("a claim of this wallet is running; wait for it to end")]
    ClaimInProgress,
    /// Claimed already.
    #[error("this wallet has been claimed already")]
    AlreadyClaimed,
    /// The caller's share is of an older key version.
    #[error("the user share is outdated: it is of key version {have}, the wallet is at {current} (the wallet was claimed or refreshed); use the current share")]
    ShareOutdated {
        /// The share's version.
        have: u32,
        /// The wallet's.
        current: u32,
    },
    /// No such live grant.
    #[error("no such grant of yours to this app (revoked already?)")]
    GrantNotFound,
    /// The key setup named is not usable by this request.
    #[error("{0}")]
    KeySetupUnavailable(String),
    /// The identifier belongs to another account.
    #[error("this identifier is verified for another account")]
    IdentifierInUse,
    /// The body is larger than the limit (bytes).
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// What was to be signed does not decode or does not concern this wallet.
    #[error(transparent)]
    Chain(#[from] dyad_chains::ChainError),
    /// Storage failed.
    #[error("storage error")]
    Storage(#[from] StoreError),
    /// A cloud share did not seal or open.
    #[error("internal error")]
    Seal(#[from] SealError),
    /// Any other internal failure. The string is for logs and never holds secrets.
    #[error("internal error")]
    Internal(String),
}

impl ServerError {
    /// Status and stable code: the single mapping used by every response.
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use ServerError::*;
        match self {
            InvalidJson(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson),
            InvalidRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest),
            InvalidIdentifier(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidIdentifier),
            UnsupportedWalletType(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnsupportedWalletType),
            Unauthenticated => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated),
            Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            WalletNotFound => (StatusCode::NOT_FOUND, ErrorCode::WalletNotFound),
            NoSuchEndpoint => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            WalletExists(_) => (StatusCode::CONFLICT, ErrorCode::WalletExists),
            CeremonyInProgress(_) => (StatusCode::CONFLICT, ErrorCode::CeremonyInProgress),
            CeremonyNotFound => (StatusCode::NOT_FOUND, ErrorCode::CeremonyNotFound),
            CeremonyAborted(_) => (StatusCode::BAD_REQUEST, ErrorCode::CeremonyAborted),
            WalletClaimed => (StatusCode::FORBIDDEN, ErrorCode::WalletClaimed),
            WalletLocked => (StatusCode::FORBIDDEN, ErrorCode::WalletLocked),
            PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            RawSigningDisabled => (StatusCode::FORBIDDEN, ErrorCode::RawSigningDisabled),
            WalletBusy => (StatusCode::CONFLICT, ErrorCode::WalletBusy),
            SessionInvalid => (StatusCode::UNAUTHORIZED, ErrorCode::SessionInvalid),
            CodeInvalid => (StatusCode::UNAUTHORIZED, ErrorCode::CodeInvalid),
            CodeExpired => (StatusCode::UNAUTHORIZED, ErrorCode::CodeExpired),
            CodeAttemptsExceeded => (StatusCode::UNAUTHORIZED, ErrorCode::CodeAttemptsExceeded),
            RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            DeliveryFailed => (StatusCode::BAD_GATEWAY, ErrorCode::DeliveryFailed),
            LoginRejected(_) => (StatusCode::UNAUTHORIZED, ErrorCode::LoginRejected),
            LoginMethodUnavailable(_) => (StatusCode::NOT_FOUND, ErrorCode::LoginMethodUnavailable),
            ProviderUnavailable(_) => (StatusCode::BAD_GATEWAY, ErrorCode::LoginProviderUnavailable),
            ClaimNotAllowed => (StatusCode::FORBIDDEN, ErrorCode::ClaimNotAllowed),
            ClaimInProgress => (StatusCode::CONFLICT, ErrorCode::ClaimInProgress),
            AlreadyClaimed => (StatusCode::CONFLICT, ErrorCode::AlreadyClaimed),
            ShareOutdated { .. } => (StatusCode::CONFLICT, ErrorCode::ShareOutdated),
            IdentifierInUse => (StatusCode::CONFLICT, ErrorCode::IdentifierInUse),
            GrantNotFound => (StatusCode::NOT_FOUND, ErrorCode::GrantNotFound),
            KeySetupUnavailable(_) => (StatusCode::CONFLICT, ErrorCode::KeySetupUnavailable),
            Chain(e) => chain_status(e),
            Storage(_) | Seal(_) | Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }

    /// The body a client sees.
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        let wallet_id = match self {
            ServerError::WalletExists(id) | ServerError::CeremonyInProgress(id) => Some(*id),
            _ => None,
        };
        ErrorBody {
            code,
            message: self.to_string(),
            wallet_id,
        }
    }
}

fn chain_status(e: &dyad_chains::ChainError) -> (StatusCode, ErrorCode) {
    use dyad_chains::ChainError as C;
    match e {
        C::InvalidTransaction(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidTransaction),
        C::UnsupportedTransaction(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnsupportedTransaction),
        C::ChainIdMismatch { .. } => (StatusCode::BAD_REQUEST, ErrorCode::ChainIdMismatch),
        C::NotASigner(_) => (StatusCode::BAD_REQUEST, ErrorCode::NotASigner),
        C::InvalidTypedData(_) => (StatusCode::BAD_REQUEST, ErrorCode::InvalidTypedData),
        C::UnsupportedOperation(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnsupportedOperation),
        C::UnknownWalletType(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::UnsupportedWalletType),
        C::MessageIsTransaction(_) => (StatusCode::BAD_REQUEST, ErrorCode::MessageIsTransaction),
        C::TooComplex(_) => (StatusCode::BAD_REQUEST, ErrorCode::RequestTooComplex),
        C::InvalidMessage(_) | C::InvalidParameter(_) | C::InvalidAddress(_) => {
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
        }
        // Keys, signatures and configuration come from the server itself, not the caller.
        _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
    }
}

impl From<ProtoError> for ServerError {
    fn from(e: ProtoError) -> Self {
        match e {
            ProtoError::InvalidIdentifier(m) => ServerError::InvalidIdentifier(m),
            ProtoError::InvalidId(what) => ServerError::InvalidRequest(format!("invalid {what}")),
            other => ServerError::CeremonyAborted(other.to_string()),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        (status, Json(self.body())).into_response()
    }
}
