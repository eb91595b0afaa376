//! The error body every Dyad endpoint returns, its stable codes, and this crate's own errors.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::WalletId;

/// Stable, machine-readable error codes. The spelling never changes once released; the server
/// chooses the HTTP status for each in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The body was not valid JSON or did not have the expected shape.
    InvalidJson,
    /// A field had a value that is not acceptable (see the message).
    InvalidRequest,
    /// The pregeneration identifier could not be parsed.
    InvalidIdentifier,
    /// The wallet type is not one of EVM, SOLANA, COSMOS, STELLAR.
    UnsupportedWalletType,
    /// No or an unknown API key.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// No such endpoint.
    NotFound,
    /// The endpoint does not take this HTTP method.
    MethodNotAllowed,
    /// No such wallet for this app and environment.
    WalletNotFound,
    /// A wallet for this type and identifier already exists (its id is in `walletId`).
    WalletExists,
    /// A wallet for this type and identifier is being created right now.
    CeremonyInProgress,
    /// The ceremony id is unknown, expired or already used.
    CeremonyNotFound,
    /// The ceremony stopped: a frame was malformed, tampered with, out of order, or the protocol failed.
    CeremonyAborted,
    /// The wallet was claimed and is no longer usable with this share.
    WalletClaimed,
    /// A transaction that does not decode or is inconsistent.
    InvalidTransaction,
    /// A well-formed transaction of a kind Dyad does not sign (EIP-4844, EIP-7702, …).
    UnsupportedTransaction,
    /// The EVM transaction's chain id is not the requested one.
    ChainIdMismatch,
    /// The wallet is not a signer of the transaction.
    NotASigner,
    /// EIP-712 typed data that does not parse or hash.
    InvalidTypedData,
    /// The operation does not exist for this wallet type (e.g. typed data on Solana).
    UnsupportedOperation,
    /// The wallet's share pair may never sign again (a peer cheated); it needs a refresh.
    WalletLocked,
    /// The request body or a frame is too large.
    PayloadTooLarge,
    /// `sign-message` was given bytes that decode as a transaction (or a transaction's message):
    /// a message signature must never be able to authorise one. Use `sign-transaction`.
    MessageIsTransaction,
    /// `sign-raw` is off for this app (the default): a raw digest can be the hash of anything.
    RawSigningDisabled,
    /// Another ceremony of this wallet held it for longer than a request may wait; retry.
    WalletBusy,
    /// What was to be signed is over one of the decoding limits (coins, types, depth, lengths).
    RequestTooComplex,
    /// The server cheated in a protocol run or failed a proof (reported by the SDK, never sent
    /// by a server): the wallet must not sign with this share again until its keys are refreshed.
    ServerMisbehaved,
    /// No, an unknown, expired or revoked session token (`Authorization: Bearer`): log in again.
    SessionInvalid,
    /// The one-time code is wrong, or no code is waiting for this identifier (expired codes are
    /// `CODE_EXPIRED`; used ones are gone).
    CodeInvalid,
    /// The one-time code's 10 minutes are over: ask for a new one.
    CodeExpired,
    /// Five wrong tries: this code is dead; ask for a new one.
    CodeAttemptsExceeded,
    /// Too many requests for this identifier or from this address; retry later.
    RateLimited,
    /// A login proof (Telegram hash, OAuth state, signed message, nonce) did not check out.
    LoginRejected,
    /// This server does not take this kind of login (not configured by its operator, or an
    /// unknown OAuth provider).
    LoginMethodUnavailable,
    /// The login provider (OAuth token or user info endpoint, Farcaster lookup) could not be
    /// reached or answered something unusable; start the login again later.
    LoginProviderUnavailable,
    /// The message could not be delivered (mail server or SMS webhook failed).
    DeliveryFailed,
    /// The session's person may not claim this wallet: its identifier is none of theirs.
    ClaimNotAllowed,
    /// A claim of this wallet is running already.
    ClaimInProgress,
    /// The wallet is claimed already.
    AlreadyClaimed,
    /// The user share is of an older key version than the wallet's: the wallet was refreshed
    /// (claimed); this share no longer works.
    ShareOutdated,
    /// The identifier is verified for another account already.
    IdentifierInUse,
    /// No such live grant of this person to this app.
    GrantNotFound,
    /// The key setup named in a create request is not one this app may use now: unknown,
    /// used or reserved already, expired, or made for another app or wallet type. Create
    /// without it, or with another.
    KeySetupUnavailable,
    /// Something failed inside the server; nothing was changed.
    Internal,
}

impl ErrorCode {
    /// The wire spelling, e.g. `"WALLET_EXISTS"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "INVALID_JSON",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidIdentifier => "INVALID_IDENTIFIER",
            ErrorCode::UnsupportedWalletType => "UNSUPPORTED_WALLET_TYPE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::WalletNotFound => "WALLET_NOT_FOUND",
            ErrorCode::WalletExists => "WALLET_EXISTS",
            ErrorCode::CeremonyInProgress => "CEREMONY_IN_PROGRESS",
            ErrorCode::CeremonyNotFound => "CEREMONY_NOT_FOUND",
            ErrorCode::CeremonyAborted => "CEREMONY_ABORTED",
            ErrorCode::WalletClaimed => "WALLET_CLAIMED",
            ErrorCode::InvalidTransaction => "INVALID_TRANSACTION",
            ErrorCode::UnsupportedTransaction => "UNSUPPORTED_TRANSACTION",
            ErrorCode::ChainIdMismatch => "CHAIN_ID_MISMATCH",
            ErrorCode::NotASigner => "NOT_A_SIGNER",
            ErrorCode::InvalidTypedData => "INVALID_TYPED_DATA",
            ErrorCode::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            ErrorCode::WalletLocked => "WALLET_LOCKED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::MessageIsTransaction => "MESSAGE_IS_TRANSACTION",
            ErrorCode::RawSigningDisabled => "RAW_SIGNING_DISABLED",
            ErrorCode::RequestTooComplex => "REQUEST_TOO_COMPLEX",
            ErrorCode::WalletBusy => "WALLET_BUSY",
            ErrorCode::ServerMisbehaved => "SERVER_MISBEHAVED",
            ErrorCode::SessionInvalid => "SESSION_INVALID",
            ErrorCode::CodeInvalid => "CODE_INVALID",
            ErrorCode::CodeExpired => "CODE_EXPIRED",
            ErrorCode::CodeAttemptsExceeded => "CODE_ATTEMPTS_EXCEEDED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::LoginRejected => "LOGIN_REJECTED",
            ErrorCode::LoginMethodUnavailable => "LOGIN_METHOD_UNAVAILABLE",
            ErrorCode::LoginProviderUnavailable => "LOGIN_PROVIDER_UNAVAILABLE",
            ErrorCode::DeliveryFailed => "DELIVERY_FAILED",
            ErrorCode::ClaimNotAllowed => "CLAIM_NOT_ALLOWED",
            ErrorCode::ClaimInProgress => "CLAIM_IN_PROGRESS",
            ErrorCode::AlreadyClaimed => "ALREADY_CLAIMED",
            ErrorCode::ShareOutdated => "SHARE_OUTDATED",
            ErrorCode::IdentifierInUse => "IDENTIFIER_IN_USE",
            ErrorCode::GrantNotFound => "GRANT_NOT_FOUND",
            ErrorCode::KeySetupUnavailable => "KEY_SETUP_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response: `{"code": "...", "message": "...", "walletId": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable code.
    pub code: ErrorCode,
    /// What happened and what to do, for a developer. Never contains secrets.
    pub message: String,
    /// The existing wallet, for `WALLET_EXISTS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_id: Option<WalletId>,
}

/// Errors of this crate: parsing wire values, the Noise channel, and running a ceremony.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    /// An id did not parse.
    #[error("invalid {0}")]
    InvalidId(&'static str),
    /// An environment other than BETA or PROD.
    #[error("invalid environment {0:?}: expected BETA or PROD")]
    InvalidEnvironment(String),
    /// A pregeneration identifier did not parse.
    #[error("invalid identifier: {0}")]
    InvalidIdentifier(String),
    /// The Noise handshake failed, or a frame did not decrypt or authenticate (tampered, truncated,
    /// replayed or reordered).
    #[error("secure channel: {0}")]
    Channel(&'static str),
    /// A frame larger than the ceremony limit.
    #[error("frame too large")]
    FrameTooLarge,
    /// A frame decrypted but did not decode.
    #[error("malformed ceremony frame")]
    Decode,
    /// A frame arrived that does not belong at this point of the ceremony.
    #[error("unexpected ceremony frame: {0}")]
    UnexpectedFrame(&'static str),
    /// The other party aborted the ceremony.
    #[error("ceremony aborted by peer: {code}: {message}")]
    PeerAborted {
        /// The peer's code.
        code: ErrorCode,
        /// The peer's message.
        message: String,
    },
    /// This party's own protocol step failed (starting a run, a local check).
    #[error("protocol: {0}")]
    Mpc(#[from] dyad_mpc::MpcError),
    /// The peer's round message failed the protocol's checks (or did not decode). On an
    /// authenticated channel it came from the peer itself: `PeerMisbehaved` means the peer
    /// cheated and these shares must not meet again.
    #[error("peer's protocol round: {0}")]
    PeerRound(dyad_mpc::MpcError),
    /// The underlying connection failed or closed early.
    #[error("transport: {0}")]
    Transport(String),
    /// The peer took too long.
    #[error("ceremony timed out")]
    Timeout,
}
