//! The SDK's one error type.

use dyad_mpc::MpcError;
use dyad_proto::{ErrorCode, ProtoError, WalletId};

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The server answered with an error.
    #[error("{code} ({status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable code.
        code: ErrorCode,
        /// The server's explanation.
        message: String,
        /// The existing wallet, for `WALLET_EXISTS`.
        wallet_id: Option<WalletId>,
    },
    /// The new wallet's share could not be kept where the caller keeps shares (a full disk, a
    /// vault that refused it): the ceremony was aborted before the confirmation, so the server
    /// created nothing.
    #[error("the new wallet's share could not be kept ({0}); the wallet was not created")]
    NotKept(String),
    /// The server could not be reached or answered with something that is not Dyad's.
    #[error("http: {0}")]
    Http(String),
    /// A ceremony failed (the wallet was not created, or nothing was signed).
    #[error("ceremony failed: {0}")]
    Ceremony(#[from] ProtoError),
    /// The user share string is malformed, truncated, or not a Dyad share.
    #[error("invalid user share: {0}")]
    InvalidShare(String),
    /// The user share was made on another Dyad server.
    #[error("the user share belongs to a different Dyad server (ceremony key {found}, this server's is {expected})")]
    ForeignShare {
        /// The key recorded in the share.
        found: String,
        /// This server's key.
        expected: String,
    },
    /// The server's `/v1/info` names another ceremony key than the one this client is pinned
    /// to: refused before any ceremony starts.
    #[error("the server presents ceremony key {presented}, but this client is pinned to {pinned}: refusing it (another server or an impostor, or the wrong DYAD_SERVER_KEY); no share was used")]
    ServerKeyMismatch {
        /// The key this client was pinned to.
        pinned: String,
        /// The key the server's `/v1/info` names.
        presented: String,
    },
    /// The server did not complete the Noise handshake for the ceremony key this client
    /// encrypts to: it does not hold that key's secret (another server, a replica with another
    /// master key, an impostor), or the connection broke during the handshake. No share was used.
    #[error("the server failed the Noise handshake for ceremony key {expected}: it does not hold that key (another server, a replica with another master key, or an impostor) or the connection broke; no share was used")]
    HandshakeFailed {
        /// The key this client encrypted to.
        expected: String,
    },
    /// Key generation finished on this side but the server's confirmation never arrived: the
    /// wallet may exist. Its user share is kept (loaded into the client by
    /// `create_pregen_wallet`, so `get_user_share` includes it): check with `get_wallet`.
    #[error("wallet {wallet_id} may have been created but the server's confirmation was lost ({reason}); its user share is loaded in this client: check with get_wallet and store get_user_share()")]
    Unconfirmed {
        /// The wallet that may exist.
        wallet_id: WalletId,
        /// What failed.
        reason: String,
    },
    /// A claim was confirmed on this side but whether the server committed it could not be
    /// learnt. Both shares are kept in the client (and in `get_user_share()`): calling
    /// `claim_pregen_wallets` again reads the wallet back and finishes, or claims anew.
    #[error("the claim of wallet {wallet_id} may have committed but this client could not learn it ({reason}); both shares are kept: call claim_pregen_wallets again to finish, and store get_user_share()")]
    ClaimUnconfirmed {
        /// The wallet.
        wallet_id: WalletId,
        /// What failed.
        reason: String,
    },
    /// `claim_pregen_wallets` claimed `claimed`, then the claim of the next wallet failed with
    /// `error`. The claimed wallets are claimed for good and loaded here with their new shares
    /// (store `get_user_share()` again); their recovery secrets, shown once, are in `claimed`.
    #[error("{} wallet(s) were claimed, then the next claim failed: {error}; the claimed wallets' recovery secrets are in this error's `claimed`", claimed.len())]
    PartlyClaimed {
        /// The wallets claimed before the failure, with their recovery secrets. Secret.
        claimed: Vec<crate::ClaimedWallet>,
        /// Why the next claim failed.
        error: Box<SdkError>,
    },
    /// The server cheated in a ceremony of this wallet (a signature, or a claim's refresh or
    /// test signature) or failed one of the protocol's checks (for DKLs, a `BanCounterparty`:
    /// repeated sessions with a cheater can extract this share). The wallet is marked unusable
    /// in this client and in every share string exported from it: no later ceremony of this
    /// share runs, a claim included (a refresh would itself be a ceremony with that server).
    #[error("SERVER_MISBEHAVED: the server misbehaved in a ceremony of wallet {wallet_id} ({reason}); this share must take part in no ceremony with it again (store get_user_share() again: it now records this)")]
    ServerMisbehaved {
        /// The wallet.
        wallet_id: WalletId,
        /// What the protocol found (never a secret).
        reason: String,
    },
    /// The wallet's share is not loaded in this client.
    #[error("wallet {0} is not loaded in this client: call set_user_share with its share first")]
    WalletNotLoaded(WalletId),
    /// What was to be signed does not decode or does not concern this wallet (checked locally,
    /// before anything is sent).
    #[error(transparent)]
    Chain(dyad_chains::ChainError),
    /// A value given to the SDK was not acceptable.
    #[error("{0}")]
    InvalidInput(String),
    /// The server's answer disagrees with what this client computed.
    #[error("server response does not match: {0}")]
    Mismatch(&'static str),
}

impl SdkError {
    /// [`SdkError::ServerMisbehaved`] for `wallet_id`.
    pub(crate) fn server_misbehaved(wallet_id: WalletId, reason: &str) -> Self {
        SdkError::ServerMisbehaved {
            wallet_id,
            reason: reason.to_string(),
        }
    }

    /// What a protocol run of `wallet_id`'s share failed with, seen from this side. A peer round
    /// that failed the protocol's checks came from the server itself (the channel is
    /// authenticated end to end): [`SdkError::ServerMisbehaved`]. Anything else (a timeout, a
    /// closed socket, a round that did not decode) is [`SdkError::Ceremony`].
    pub(crate) fn of_run(wallet_id: WalletId, e: ProtoError) -> Self {
        match e {
            ProtoError::PeerRound(
                m @ (MpcError::PeerMisbehaved(_) | MpcError::Protocol(_) | MpcError::BadSignature),
            ) => Self::server_misbehaved(wallet_id, &m.to_string()),
            other => SdkError::Ceremony(other),
        }
    }

    /// The server's stable error code, if the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SdkError::Api { code, .. } => Some(*code),
            SdkError::Ceremony(ProtoError::PeerAborted { code, .. }) => Some(*code),
            SdkError::ServerMisbehaved { .. } => Some(ErrorCode::ServerMisbehaved),
            SdkError::PartlyClaimed { error, .. } => error.code(),
            _ => None,
        }
    }
}
