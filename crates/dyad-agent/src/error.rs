//! The agent's errors, and the one place that knows their HTTP status and code. Bodies are
//! Para's: `{"code": "…", "message": "…"}`, with `walletId` where a wallet is named. No message
//! carries a share, a key or a secret (the SDK's and the vault's never do).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dyad_proto::{ErrorCode, WalletId};
use dyad_sdk::SdkError;
use dyad_vault::VaultError;
use serde::Serialize;

/// What can go wrong in the agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Starting the agent failed (its address, keys file, vault, server); the agent does not run.
    #[error("{0}")]
    Setup(String),
    /// The body is not JSON, or not the shape of the call.
    #[error("{0}")]
    InvalidJson(String),
    /// A field has a value the agent does not accept (see the message).
    #[error("{0}")]
    InvalidRequest(String),
    /// A Para value Dyad has no counterpart for (`GUEST_ID`, `CGGMP`, another Cosmos prefix).
    #[error("{0}")]
    Unsupported(String),
    /// No `X-API-Key`.
    #[error("the X-API-Key header is missing: send one of this agent's keys")]
    MissingKey,
    /// An `X-API-Key` that is not one of the agent's keys.
    #[error("the X-API-Key is not one of this agent's keys")]
    WrongKey,
    /// The wallet is not the app's, or its share is not in this agent's vault.
    #[error("no wallet {0} for this agent")]
    WalletNotFound(WalletId),
    /// A wallet of this type already exists for this identifier.
    #[error("a wallet of this type already exists for this identifier")]
    WalletExists(WalletId),
    /// The body is over the agent's limit.
    #[error("the request body is over {0} bytes")]
    TooLarge(usize),
    /// The Dyad server refused or failed the call, or a ceremony with it failed.
    #[error("{0}")]
    Dyad(#[from] SdkError),
    /// The agent's own state file failed.
    #[error("{0}")]
    State(String),
    /// The `Idempotency-Key` was used for another request.
    #[error("this Idempotency-Key was used for another request (method, path or body differ)")]
    IdempotencyMismatch,
    /// The first request with this `Idempotency-Key` is still running.
    #[error("the first request with this Idempotency-Key is still running: retry once it has been answered")]
    IdempotencyRunning,
    /// Handing shares over is off (the operator did not pass `--allow-share-export`).
    #[error("handing user shares over is off for this agent (start it with --allow-share-export)")]
    ShareExportDisabled,
    /// The wallet was claimed: the app's share no longer counts.
    #[error("wallet {0} was claimed: its share here no longer counts")]
    WalletClaimed(WalletId),
    /// The vault's share is not of the wallet's current key version.
    #[error("the vault's share of wallet {0} is not its current key version")]
    ShareOutdated(WalletId),
    /// The share vault failed.
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
}

/// Para's error body.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody<'a> {
    /// The stable code, e.g. `WALLET_ALREADY_EXISTS`.
    code: &'a str,
    /// What went wrong, for a person.
    message: String,
    /// The wallet the error names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = "uuid")]
    wallet_id: Option<WalletId>,
}

impl AgentError {
    /// The status, the stable code, and the wallet the error names.
    pub fn status_and_code(&self) -> (StatusCode, &'static str, Option<WalletId>) {
        use AgentError::*;
        match self {
            Setup(_) => (StatusCode::INTERNAL_SERVER_ERROR, "AGENT_SETUP", None),
            InvalidJson(_) => (StatusCode::BAD_REQUEST, "INVALID_JSON", None),
            InvalidRequest(_) => (StatusCode::BAD_REQUEST, "INVALID_REQUEST", None),
            Unsupported(_) => (StatusCode::BAD_REQUEST, "UNSUPPORTED", None),
            MissingKey => (StatusCode::UNAUTHORIZED, "MISSING_API_KEY", None),
            WrongKey => (StatusCode::FORBIDDEN, "INVALID_API_KEY", None),
            WalletNotFound(id) => (StatusCode::NOT_FOUND, "WALLET_NOT_FOUND", Some(*id)),
            WalletExists(id) => (StatusCode::CONFLICT, "WALLET_ALREADY_EXISTS", Some(*id)),
            TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", None),
            // The vault marked the share retired: the server was caught cheating with it.
            Vault(VaultError::Retired(id)) => (StatusCode::CONFLICT, ErrorCode::ServerMisbehaved.as_str(), Some(*id)),
            Vault(_) => (StatusCode::INTERNAL_SERVER_ERROR, "VAULT_ERROR", None),
            State(_) => (StatusCode::INTERNAL_SERVER_ERROR, "AGENT_STATE_ERROR", None),
            IdempotencyMismatch => (StatusCode::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED", None),
            ShareExportDisabled => (StatusCode::FORBIDDEN, "SHARE_EXPORT_DISABLED", None),
            WalletClaimed(id) => (StatusCode::FORBIDDEN, "WALLET_CLAIMED", Some(*id)),
            ShareOutdated(id) => (StatusCode::CONFLICT, "SHARE_OUTDATED", Some(*id)),
            IdempotencyRunning => (StatusCode::CONFLICT, "IDEMPOTENCY_KEY_IN_USE", None),
            Dyad(e) => sdk_status(e),
        }
    }
}

/// The Dyad server's refusals keep their code (and, for a caller's mistake, their status); the
/// server being unreachable or failing is a 502, as for any gateway.
fn sdk_status(e: &SdkError) -> (StatusCode, &'static str, Option<WalletId>) {
    match e {
        SdkError::Api {
            status,
            code,
            wallet_id,
            ..
        } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
            // The app's Dyad API key is the agent's, not the caller's: the server refusing it
            // is the agent's misconfiguration, not the caller's mistake. (Other refusals, such
            // as RAW_SIGNING_DISABLED, keep their status.)
            let status = match (code, status) {
                (ErrorCode::Unauthenticated, _) => StatusCode::BAD_GATEWAY,
                (_, s) if s.is_server_error() => StatusCode::BAD_GATEWAY,
                (_, s) => s,
            };
            let code = match code {
                ErrorCode::WalletExists => "WALLET_ALREADY_EXISTS",
                other => other.as_str(),
            };
            (status, code, *wallet_id)
        }
        SdkError::InvalidInput(_) | SdkError::Chain(_) => (StatusCode::BAD_REQUEST, "INVALID_REQUEST", None),
        SdkError::Unconfirmed { wallet_id, .. } => (StatusCode::BAD_GATEWAY, "CREATE_UNCONFIRMED", Some(*wallet_id)),
        SdkError::ServerMisbehaved { wallet_id, .. } => (
            StatusCode::BAD_GATEWAY,
            ErrorCode::ServerMisbehaved.as_str(),
            Some(*wallet_id),
        ),
        SdkError::NotKept(_) => (StatusCode::INTERNAL_SERVER_ERROR, "SHARE_NOT_KEPT", None),
        _ => (StatusCode::BAD_GATEWAY, "DYAD_SERVER_FAILED", None),
    }
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        let (status, code, wallet_id) = self.status_and_code();
        if status.is_server_error() {
            tracing::warn!(code, error = %self, "request failed");
        }
        let message = match &self {
            // The SDK's text for this one tells a Rust caller to store the loaded share; here
            // the share went to the vault before the confirmation was sent.
            AgentError::Dyad(SdkError::Unconfirmed { wallet_id, .. }) => format!(
                "wallet {wallet_id} may have been created, but the Dyad server's confirmation was lost; its \
                 share is in the vault: GET /v1/wallets/{wallet_id} tells whether it exists"
            ),
            // The SDK's text tells a Rust caller to store the share again; the agent marks it
            // retired in the vault instead (`Agent::outcome`).
            AgentError::Dyad(SdkError::ServerMisbehaved { wallet_id, .. }) => format!(
                "the Dyad server misbehaved in a ceremony of wallet {wallet_id}: this share must not \
                 sign again (the agent marks it retired in the vault), and the operator must be told"
            ),
            other => other.to_string(),
        };
        let body = ErrorBody {
            code,
            message,
            wallet_id,
        };
        (status, axum::Json(body)).into_response()
    }
}
