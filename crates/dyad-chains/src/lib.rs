//! Chain formats for Dyad's wallet types: EVM, SOLANA, COSMOS and STELLAR.
//!
//! This crate answers three questions for each wallet type, with pure functions:
//!
//! 1. **Which address** belongs to a public key ([`address`], [`is_valid_address`]).
//! 2. **What exactly gets signed** for a request ([`message_sign_input`]: the EIP-191 hash, the
//!    ADR-036 sign doc hash, the SEP-53 hash, or Solana bytes that are no transaction). Every
//!    sign ceremony asks this crate, so the policy check and the audit log see the same bytes
//!    the MPC protocol signs.
//! 3. **How a finished signature is encoded** for the chain ([`encode_signature`]), and later how
//!    a signed transaction is assembled.
//!
//! | type | scheme | address | `signMessage` signs |
//! |---|---|---|---|
//! | EVM | DKLS | EIP-55 `0x…` | [`SignInput::Digest`] of the EIP-191 personal message |
//! | COSMOS | DKLS | bech32 `cosmos1…` (prefix from [`ChainConfig`]) | [`SignInput::Digest`] of the ADR-036 sign doc |
//! | SOLANA | ED25519 | base58 | [`SignInput::Message`] with the bytes as given, refused ([`ChainError::MessageIsTransaction`]) when they decode as a transaction message or wire transaction; the off-chain message format (`\xffsolana offchain…`) is signed as is |
//! | STELLAR | ED25519 | strkey `G…` | [`SignInput::Message`] with the SEP-53 hash sha256("Stellar Signed Message:\n" ‖ message) |
//!
//! A message signature is never a transaction signature: EVM, COSMOS and STELLAR put a prefix
//! or envelope around the message that no transaction's signed bytes have, and SOLANA (which
//! signs transaction messages bare) refuses message bytes that a transaction could be signed
//! over. See [`solana`] for the exact rule.
//!
//! # Decoding limits
//!
//! Decoding a sign request takes time about linear in its size, and sizes are bounded, so one
//! caller cannot stall a server with a crafted request. Over a Cosmos or EIP-712 limit is
//! [`ChainError::TooComplex`], naming it; Stellar and Solana input over its bounds is
//! [`ChainError::InvalidTransaction`] (no real transaction is that large):
//!
//! | what | limit |
//! |---|---|
//! | Cosmos sign doc | [`cosmos::MAX_SIGN_DOC_BYTES`] (1 MiB), [`cosmos::MAX_MESSAGES`] (256) messages, [`cosmos::MAX_COINS`] (1024) coins in amounts and fee together |
//! | EIP-712 typed data | [`evm::typed_data::MAX_TYPES`] (64) types, [`evm::typed_data::MAX_DEPTH`] (32) levels of struct and array nesting, [`evm::typed_data::MAX_ARRAY_LEN`] (1024) elements per array, [`evm::typed_data::MAX_TYPE_FIELDS`] (1024) fields in a type with its struct fields expanded, [`evm::typed_data::MAX_VALUES`] (65 536) values and [`evm::typed_data::MAX_STRUCTS`] (4096) struct values in the message, [`evm::typed_data::MAX_STRUCT_WORK`] (65 536) struct values × type definitions |
//! | Stellar envelope | [`stellar::MAX_ENVELOPE_BYTES`] (256 KiB), XDR depth 100 |
//! | Solana transaction | one packet, [`solana::PACKET_DATA_SIZE`] (1232 bytes) |
//!
//! Each chain lives in its own module ([`evm`], [`cosmos`], [`solana`], [`stellar`]): its
//! addresses, messages and signature encoding, and its transactions (EVM RLP and EIP-712 typed
//! data, Cosmos sign docs, Solana messages, Stellar XDR) with their `prepare` and `assemble`.
//! The functions at the crate root and in [`transaction`] only dispatch on [`WalletType`] and
//! hold what every chain shares.
//!
//! # What this crate must never do
//!
//! - Run MPC rounds or see key shares: it only knows public keys and finished signatures
//!   (the types come from `dyad-types`; this crate does not depend on `dyad-mpc` or the MPC
//!   libraries).
//! - Touch the network, storage or clocks: same input, same output.
//! - Panic on input: addresses, messages and signatures come from callers and are checked.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod config;
pub mod cosmos;
mod error;
pub mod evm;
mod request;
mod secp256k1;
pub mod solana;
pub mod stellar;
pub mod transaction;

pub use config::ChainConfig;
pub use cosmos::{adr036_sign_doc, CosmosSignMode};
pub use dyad_types::{Digest, PublicKey, Scheme, SignInput, Signature, WalletType};
pub use error::ChainError;
pub use request::{describe_input, SignRequest};
pub use transaction::{Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};

/// The address of the wallet of `wallet_type` whose group public key is `public_key`.
///
/// - EVM: EIP-55 checksummed `0x…` of the last 20 bytes of keccak256 of the uncompressed key
///   (without its `0x04` tag).
/// - COSMOS: bech32 of ripemd160(sha256(compressed key)) with [`ChainConfig::cosmos_prefix`].
/// - SOLANA: base58 of the 32-byte key.
/// - STELLAR: strkey `G…` of the 32-byte key.
///
/// [`ChainError::KeyMismatch`] if the key's scheme is not the wallet type's scheme.
pub fn address(wallet_type: WalletType, public_key: &PublicKey, config: &ChainConfig) -> Result<String, ChainError> {
    match wallet_type {
        WalletType::Evm => evm::address(public_key),
        WalletType::Cosmos => cosmos::address(public_key, &config.cosmos_prefix),
        WalletType::Solana => solana::address(public_key),
        WalletType::Stellar => stellar::address(public_key),
    }
}

/// Whether `address` is a well-formed account address of `wallet_type`, one that [`address`]
/// could have produced: checksum verified, right length, and for COSMOS the configured prefix.
/// See [`evm::parse_address`], [`cosmos::decode_address`], [`solana::decode_address`] and
/// [`stellar::decode_address`] for the exact rules.
pub fn is_valid_address(wallet_type: WalletType, address: &str, config: &ChainConfig) -> bool {
    match wallet_type {
        WalletType::Evm => evm::parse_address(address).is_ok(),
        WalletType::Cosmos => cosmos::is_valid_address(address, &config.cosmos_prefix),
        WalletType::Solana => solana::decode_address(address).is_ok(),
        WalletType::Stellar => stellar::decode_address(address).is_ok(),
    }
}

/// What a `signMessage` request signs for a wallet of `wallet_type` whose address is `address`.
///
/// - EVM: [`SignInput::Digest`] of the EIP-191 personal message ([`evm::personal_message_hash`]).
/// - COSMOS: [`SignInput::Digest`] of sha256 of the ADR-036 sign doc with `address` as the
///   signer ([`cosmos::adr036_digest`]). `address` must be a canonical (lower-case) bech32
///   account address, because verifiers rebuild the doc from the signer they expect and
///   compare strings; `message` must not be empty, because ADR-036 verifiers (Keplr's
///   `verifyADR36Amino`) reject a sign doc with empty data.
/// - SOLANA: [`SignInput::Message`] with the bytes as given; [`ChainError::MessageIsTransaction`]
///   if they decode as a legacy or versioned transaction message or as a wire transaction
///   (a signature over them would be that transaction's signature), except that bytes in the
///   off-chain message format are signed as they are ([`solana::message_sign_input`]).
/// - STELLAR: [`SignInput::Message`] with the 32-byte SEP-53 hash
///   sha256("Stellar Signed Message:\n" ‖ message) ([`stellar::message_sign_input`]).
///
/// `address` is only read for COSMOS, where it is part of the signed bytes.
pub fn message_sign_input(wallet_type: WalletType, address: &str, message: &[u8]) -> Result<SignInput, ChainError> {
    match wallet_type {
        WalletType::Evm => Ok(SignInput::Digest(Digest::from(evm::personal_message_hash(message)))),
        WalletType::Cosmos => cosmos::adr036_sign_input(address, message),
        WalletType::Solana => solana::message_sign_input(message),
        WalletType::Stellar => Ok(stellar::message_sign_input(message)),
    }
}

/// The chain encoding of a finished signature made by a wallet of `wallet_type`.
///
/// - EVM: 65 bytes `r ‖ s ‖ v` with `v = 27 + recovery_id` ([`evm::encode_signature`]).
/// - COSMOS: 64 bytes `r ‖ s` ([`cosmos::encode_signature`]).
/// - SOLANA, STELLAR: the 64-byte Ed25519 signature.
///
/// ECDSA signatures come out low-s (a high `s` is replaced by `n - s`, flipping the recovery
/// id), because Ethereum and Cosmos reject high-s signatures.
/// [`ChainError::KeyMismatch`] if the signature kind does not fit the wallet type.
pub fn encode_signature(wallet_type: WalletType, signature: &Signature) -> Result<Vec<u8>, ChainError> {
    match wallet_type {
        WalletType::Evm => evm::encode_signature(signature).map(Vec::from),
        WalletType::Cosmos => cosmos::encode_signature(signature).map(Vec::from),
        WalletType::Solana => solana::encode_signature(signature).map(Vec::from),
        WalletType::Stellar => stellar::encode_signature(signature).map(Vec::from),
    }
}
