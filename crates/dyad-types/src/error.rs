//! The one error type of this crate.

/// What parsing or checking the shared types can fail with. Messages name what failed, never
/// the value (apart from a wallet type name, cut short).
///
/// `dyad_mpc::MpcError` and `dyad_chains::ChainError` convert from it, keeping their own
/// variants for the key and signature cases.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypesError {
    /// Bytes that are not a valid public key of the scheme (wrong length or not a curve point),
    /// or a key of the other scheme where one of this scheme is needed.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// The signature does not verify under the public key for this input.
    #[error("signature does not verify")]
    BadSignature,
    /// The sign input or signature does not fit the key's scheme (DKLS signs a `Digest` into an
    /// ECDSA signature, ED25519 a `Message` into an Ed25519 one).
    #[error("sign input does not fit the key's scheme")]
    InputMismatch,
    /// A wallet type name that is not EVM, SOLANA, COSMOS or STELLAR (the offending name, cut
    /// to 64 characters).
    #[error("unknown wallet type {0:?}: expected EVM, SOLANA, COSMOS or STELLAR")]
    UnknownWalletType(String),
    /// Text that is not `0x` followed by hex digits; the text says which part is wrong.
    #[error("invalid 0x hex: {0}")]
    InvalidHex(&'static str),
}

impl TypesError {
    /// [`TypesError::UnknownWalletType`] for `name`, cut so that a huge input does not end up
    /// whole in logs and error bodies.
    pub(crate) fn unknown_wallet_type(name: &str) -> Self {
        const MAX_CHARS: usize = 64;
        TypesError::UnknownWalletType(name.chars().take(MAX_CHARS).collect())
    }
}
