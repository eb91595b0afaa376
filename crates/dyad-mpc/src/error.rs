//! The one error type of this crate.
//!
//! Messages are written for logs: they name what failed, never a value that failed. The
//! libraries' abort descriptions that are passed through only name parties and checks.

/// Everything that can go wrong in this crate. Any error during a protocol is final for that
/// run: the machine is gone and a retry is a new run with a new session id.
#[derive(Debug, thiserror::Error)]
pub enum MpcError {
    /// The message did not decode as the peer's message for this round: garbage, truncated,
    /// trailing bytes, or a message of another round, protocol or scheme.
    #[error("the peer's message did not decode as this round's")]
    Decode,
    /// The protocol library reported a failure (a proof, commitment or consistency check did
    /// not hold, or the peer's message does not belong to this session). Treat as an abort.
    #[error("protocol aborted: {0}")]
    Protocol(String),
    /// DKLs found the peer cheating in a way that leaks information about the reusable OT state
    /// (`AbortKind::BanCounterparty`). Treat as an abort, and never sign with this pair of
    /// shares again: repeated attempts could extract the key.
    #[error("peer misbehaved; these shares must not sign together again: {0}")]
    PeerMisbehaved(String),
    /// The sign input does not fit the key's scheme (DKLS signs a `Digest`, ED25519 a `Message`).
    #[error("sign input does not fit the key's scheme")]
    InputMismatch,
    /// Key share bytes are not a share this crate wrote: unknown format version, truncated,
    /// garbage, or inconsistent contents.
    #[error("invalid key share encoding")]
    InvalidShare,
    /// Bytes that are not a valid public key of the scheme (wrong length or not a curve point).
    #[error("invalid public key")]
    InvalidPublicKey,
    /// The signature does not verify under the public key for this input.
    #[error("signature does not verify")]
    BadSignature,
    /// A failure of the shared types that has no protocol meaning of its own (an unknown wallet
    /// type name, bad `0x` hex). Nothing in this crate produces it; it exists so that every
    /// [`dyad_types::TypesError`] converts. Key and signature failures keep the variants above.
    #[error(transparent)]
    Types(dyad_types::TypesError),
}

impl From<dyad_types::TypesError> for MpcError {
    /// Key and signature failures become the variants of the same name, so callers match on
    /// them as they always have.
    fn from(error: dyad_types::TypesError) -> Self {
        use dyad_types::TypesError as T;
        match error {
            T::InvalidPublicKey => MpcError::InvalidPublicKey,
            T::BadSignature => MpcError::BadSignature,
            T::InputMismatch => MpcError::InputMismatch,
            other @ (T::UnknownWalletType(_) | T::InvalidHex(_)) => MpcError::Types(other),
        }
    }
}

impl MpcError {
    /// Maps a DKLs abort, keeping the distinction that matters to the caller: whether the pair
    /// of shares is still safe to use.
    pub(crate) fn from_dkls(abort: dkls23::protocols::Abort) -> Self {
        match abort.kind {
            dkls23::protocols::AbortKind::BanCounterparty(_) => MpcError::PeerMisbehaved(abort.description()),
            dkls23::protocols::AbortKind::Recoverable => MpcError::Protocol(abort.description()),
        }
    }

    /// Maps a FROST error. Its `Display` names the failed check and at most party identifiers.
    pub(crate) fn from_frost(error: frost_ed25519::Error) -> Self {
        MpcError::Protocol(error.to_string())
    }
}
