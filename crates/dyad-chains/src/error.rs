//! Everything that can go wrong in chain formatting.

/// An input this crate cannot turn into an address, a sign input or an encoded signature.
/// Messages describe the problem without echoing key material (there is none here) or long
/// caller input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// A wallet type name that is not EVM, SOLANA, COSMOS or STELLAR (the offending name,
    /// cut to 64 characters).
    #[error("unknown wallet type {0:?}: expected EVM, SOLANA, COSMOS or STELLAR")]
    UnknownWalletType(String),
    /// The public key or signature belongs to the other scheme than the wallet type uses
    /// (EVM and COSMOS use DKLS/secp256k1, SOLANA and STELLAR use ED25519).
    #[error("the key or signature does not belong to the wallet type's scheme")]
    KeyMismatch,
    /// An address that does not parse for the wallet type; the text says why.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A public key of the right scheme that is not a usable point.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    /// A signature of the right kind whose values are out of range for the chain.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// A message the wallet type cannot sign in a verifiable way.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A transaction that does not decode, or whose content is inconsistent; the text says
    /// where (never the whole input).
    #[error("invalid transaction: {0}")]
    InvalidTransaction(String),
    /// A well-formed transaction of a kind Dyad does not sign (e.g. EIP-4844 blobs).
    #[error("unsupported transaction: {0}")]
    UnsupportedTransaction(String),
    /// The EVM transaction names another chain than the one requested.
    #[error("chain id mismatch: requested {requested}, the transaction says {found}")]
    ChainIdMismatch {
        /// What the caller asked for.
        requested: u64,
        /// What the transaction carries.
        found: u64,
    },
    /// The wallet is not a signer the transaction asks for (Solana signer slots, Stellar
    /// source accounts, Cosmos signer infos).
    #[error("the wallet is not a signer of this transaction: {0}")]
    NotASigner(String),
    /// A request parameter the wallet type needs is missing or does not apply.
    #[error("{0}")]
    InvalidParameter(String),
    /// EIP-712 typed data that does not parse or hash.
    #[error("invalid typed data: {0}")]
    InvalidTypedData(String),
    /// This operation does not exist for the wallet type (e.g. typed data on Solana).
    #[error("{0}")]
    UnsupportedOperation(String),
    /// Bytes given as a message that decode as a transaction or a transaction's message: a
    /// message signature over them would authorise that transaction.
    #[error("message is a transaction: {0}; sign it with sign-transaction")]
    MessageIsTransaction(String),
    /// Input over one of the decoding limits (coin count, EIP-712 types, depth, lengths); the
    /// text names the limit.
    #[error("request too complex: {0}")]
    TooComplex(String),
    /// A [`ChainConfig`](crate::ChainConfig) value that cannot be used.
    #[error("invalid chain configuration: {0}")]
    InvalidConfig(String),
}

impl From<dyad_types::TypesError> for ChainError {
    /// A shared type's failure, as the chain operation that met it reports it.
    fn from(error: dyad_types::TypesError) -> Self {
        use dyad_types::TypesError as T;
        match error {
            T::UnknownWalletType(name) => ChainError::UnknownWalletType(name),
            e @ T::InvalidPublicKey => ChainError::InvalidPublicKey(e.to_string()),
            e @ T::BadSignature => ChainError::InvalidSignature(e.to_string()),
            T::InputMismatch => ChainError::KeyMismatch,
            T::InvalidHex(why) => ChainError::InvalidParameter(format!("invalid 0x hex: {why}")),
        }
    }
}
