//! SOLANA: base58 addresses, what `signMessage` signs, and 64-byte Ed25519 signatures.
//!
//! # Messages
//!
//! Solana signs a transaction by signing its serialized message with Ed25519, with no prefix or
//! hash in between: a signature over bytes that are a transaction's message *is* that
//! transaction's signature. So [`message_sign_input`] signs the bytes as given only when they
//! cannot be one:
//!
//! - bytes in the **off-chain message format** of the [off-chain message signing proposal]
//!   (starting with its signing domain [`OFFCHAIN_MESSAGE_HEADER`], `0xff` then
//!   `"solana offchain"`) are signed as they are: the proposal chose `0xff` because no
//!   transaction message can start with it (a legacy message starts with its signer count,
//!   below 128; a versioned one with `0x80 | version`, and 127 is not a message version);
//! - bytes that decode as a legacy, v0 or other versioned message, or as a wire transaction
//!   (`compact-u16 count ‖ signatures ‖ message`), are refused with
//!   [`ChainError::MessageIsTransaction`]: sign them with `sign-transaction`, which decodes,
//!   checks and summarises them;
//! - anything else (text, JSON, nonces, binary data that is no message) is signed as it is.
//!
//! [off-chain message signing proposal]: https://docs.anza.xyz/proposals/off-chain-message-signing
//!
//! # Transactions
//!
//! SOLANA transactions: legacy and v0 messages, bare or inside a wire transaction.
//!
//! ## Accepted input
//!
//! The request bytes are one of
//!
//! - a **bare message**: a legacy message (`header ‖ keys ‖ blockhash ‖ instructions`) or a v0
//!   message (`0x80 ‖ header ‖ keys ‖ blockhash ‖ instructions ‖ address table lookups`), as
//!   `message.serialize()` produces it in web3.js;
//! - a **wire transaction** whose signature slots are empty (all zero) or hold other signers'
//!   signatures: `compact-u16 count ‖ count × 64 bytes ‖ message`, as web3.js
//!   `serialize({requireAllSignatures: false})` produces it. The count must equal the message
//!   header's `num_required_signatures`.
//!
//! Decoding uses Anza's `solana-message`/`solana-transaction` types with their bincode wire
//! format (strict compact-u16 lengths), then the library's own sanitizing (every account and
//! program index in range, a writable fee payer, at most 256 accounts). On top of that the bytes
//! must be exactly the canonical encoding (no trailing bytes), at most one network packet, and
//! must not read both as a bare message and as a wire transaction. Anything else is
//! [`ChainError::InvalidTransaction`]; message versions other than legacy and v0 are
//! [`ChainError::UnsupportedTransaction`].
//!
//! ## What is signed
//!
//! Solana signs the serialized message itself with Ed25519, so [`prepare`] returns
//! [`SignInput::Message`] with the message bytes. The wallet must be one of the first
//! `num_required_signatures` account keys ([`ChainError::NotASigner`] otherwise) and its slot
//! must still be empty. [`assemble`] returns the wire transaction with the signature in the
//! wallet's slot and every other slot as given (zero for a bare message).

use crate::{ChainError, PublicKey, SignInput, Signature};

mod transaction;

pub use transaction::{assemble, prepare, PACKET_DATA_SIZE};

/// The first 16 bytes of a Solana off-chain message: the signing domain `0xff` and
/// `"solana offchain"`.
pub const OFFCHAIN_MESSAGE_HEADER: &[u8] = b"\xffsolana offchain";

/// Longest base58 text of 32 bytes (58^44 > 2^256); longer input is rejected before decoding,
/// since base58 decoding is quadratic in the input length.
const MAX_ADDRESS_CHARS: usize = 44;

/// The address of an Ed25519 public key: base58 (Bitcoin alphabet) of its 32 bytes.
///
/// [`ChainError::KeyMismatch`] for a secp256k1 key.
pub fn address(public_key: &PublicKey) -> Result<String, ChainError> {
    let PublicKey::Ed25519(bytes) = public_key else {
        return Err(ChainError::KeyMismatch);
    };
    Ok(bs58::encode(bytes).into_string())
}

/// Decodes a Solana address into its 32 bytes. Any 32 bytes are an address (program-derived
/// addresses are deliberately not curve points), so only the encoding and length are checked.
pub fn decode_address(address: &str) -> Result<[u8; 32], ChainError> {
    if address.len() > MAX_ADDRESS_CHARS {
        return Err(ChainError::InvalidAddress(
            "a Solana address is at most 44 base58 characters".into(),
        ));
    }
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|e| ChainError::InvalidAddress(format!("not base58: {e}")))?;
    <[u8; 32]>::try_from(bytes)
        .map_err(|bytes| ChainError::InvalidAddress(format!("a Solana address holds 32 bytes, not {}", bytes.len())))
}

/// What a SOLANA `signMessage` signs: [`SignInput::Message`] with `message` as given, unless
/// it decodes as a transaction's message or a wire transaction
/// ([`ChainError::MessageIsTransaction`], naming which); bytes in the off-chain message format
/// are signed as they are (see the module documentation).
pub fn message_sign_input(message: &[u8]) -> Result<SignInput, ChainError> {
    if !message.starts_with(OFFCHAIN_MESSAGE_HEADER) {
        if let Some(what) = transaction::transaction_reading(message) {
            return Err(ChainError::MessageIsTransaction(format!(
                "SOLANA: the bytes decode as {what}"
            )));
        }
    }
    Ok(SignInput::Message(message.to_vec()))
}

/// The 64-byte Ed25519 signature `R ‖ S`, as Solana transactions carry it.
///
/// [`ChainError::KeyMismatch`] for an ECDSA signature.
pub fn encode_signature(signature: &Signature) -> Result<[u8; 64], ChainError> {
    match signature {
        Signature::Ed25519(bytes) => Ok(*bytes),
        Signature::Secp256k1 { .. } => Err(ChainError::KeyMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, hex_bytes: &str) {
        let bytes: [u8; 32] = hex::decode(hex_bytes).unwrap().try_into().unwrap();
        assert_eq!(address(&PublicKey::Ed25519(bytes)).unwrap(), text);
        assert_eq!(decode_address(text).unwrap(), bytes);
    }

    #[test]
    fn system_program_is_32_zero_bytes() {
        round_trip(
            "11111111111111111111111111111111",
            "0000000000000000000000000000000000000000000000000000000000000000",
        );
    }

    #[test]
    fn spl_token_program_id() {
        // The SPL Token program id, published in both encodings (e.g. in Solana programs that
        // hard-code it as bytes32 next to its base58 name).
        round_trip(
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
            "06ddf6e1d765a193d9cbe146ceeb79ac1cb485ed5f5b37913a8cf5857eff00a9",
        );
    }

    #[test]
    fn address_rejects_secp256k1_keys() {
        assert_eq!(address(&PublicKey::Secp256k1([2; 33])), Err(ChainError::KeyMismatch));
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "1111111111111111111111111111111",              // 31 zero bytes
            "111111111111111111111111111111111",            // 33 zero bytes
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5D0",  // '0' is not base58
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DI",  // nor is 'I'
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DAA", // 33 bytes
            &"z".repeat(10_000),
        ] {
            assert!(
                matches!(decode_address(bad), Err(ChainError::InvalidAddress(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn encode_signature_passes_ed25519_through() {
        let mut sig = [0u8; 64];
        sig.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        assert_eq!(encode_signature(&Signature::Ed25519(sig)).unwrap(), sig);
        assert_eq!(
            encode_signature(&Signature::Secp256k1 {
                r: [1; 32],
                s: [1; 32],
                recovery_id: 0
            }),
            Err(ChainError::KeyMismatch)
        );
    }
}
