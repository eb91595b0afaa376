//! STELLAR: strkey `G…` account ids (SEP-23), SEP-53 message signing and 64-byte Ed25519
//! signatures.
//!
//! # Transactions
//!
//! STELLAR transactions: `TransactionEnvelope` XDR, v1 and fee-bump envelopes.
//!
//! ## Accepted input
//!
//! The request bytes are a `TransactionEnvelope` in XDR (the base64 that Stellar SDKs show,
//! decoded at the edge), and `request.network_passphrase` names the network it is meant for:
//!
//! - `ENVELOPE_TYPE_TX` (v1): the wallet must be the transaction's source account, the source of
//!   one of its operations, or one of its Ed25519 extra signers (a muxed `M…` account counts as
//!   its underlying `G…` key);
//! - `ENVELOPE_TYPE_TX_FEE_BUMP`: the wallet must be the fee source (the inner transaction
//!   carries its own signatures, made before it was wrapped).
//!
//! v0 envelopes (`ENVELOPE_TYPE_TX_V0`, from before protocol 13) are refused with
//! [`ChainError::UnsupportedTransaction`]. The bytes must be exactly one canonical envelope
//! (no trailing bytes, zero padding, at most [`MAX_ENVELOPE_BYTES`]), else
//! [`ChainError::InvalidTransaction`].
//!
//! ## What is signed
//!
//! Stellar signs the hash of the `TransactionSignaturePayload`: `sha256(networkId ‖ envelope
//! type ‖ transaction XDR)` with `networkId = sha256(passphrase)` and the type `ENVELOPE_TYPE_TX`
//! (or `ENVELOPE_TYPE_TX_FEE_BUMP` with the fee-bump transaction). Ed25519 signs those 32 bytes
//! as its message, so [`prepare`] returns [`SignInput::Message`] with the hash. [`assemble`]
//! appends a `DecoratedSignature { hint: last 4 bytes of the public key, signature }` to the
//! envelope's signatures and keeps the ones already there.

use sha2::{Digest, Sha256};

use crate::{ChainError, PublicKey, SignInput, Signature};

mod transaction;

pub use transaction::{assemble, prepare, MAX_ENVELOPE_BYTES};

/// The SEP-53 prefix of a signed message. A transaction is signed over
/// `sha256(network id ‖ envelope type ‖ transaction)` where the network id is itself a SHA-256
/// hash: for a message to share a transaction's signed hash, a network id would have to start
/// with these 24 bytes (or SHA-256 collide), so a message signature never signs a transaction.
pub const SEP53_PREFIX: &[u8] = b"Stellar Signed Message:\n";

/// The account id of an Ed25519 public key: the SEP-23 strkey with version byte `G`.
///
/// [`ChainError::KeyMismatch`] for a secp256k1 key.
pub fn address(public_key: &PublicKey) -> Result<String, ChainError> {
    let PublicKey::Ed25519(bytes) = public_key else {
        return Err(ChainError::KeyMismatch);
    };
    Ok(stellar_strkey::ed25519::PublicKey(*bytes)
        .to_string()
        .as_str()
        .to_owned())
}

/// Decodes a `G…` account id into its 32 key bytes, with SEP-23's rules: upper-case base32
/// without padding, valid length, zero unused bits, correct CRC16 and version byte.
///
/// Other strkeys are not wallet addresses and are rejected: muxed accounts (`M…`, an account
/// plus a 64-bit id), contracts (`C…`), and secret seeds (`S…`).
pub fn decode_address(address: &str) -> Result<[u8; 32], ChainError> {
    stellar_strkey::ed25519::PublicKey::from_string(address)
        .map(|key| key.0)
        .map_err(|e| ChainError::InvalidAddress(format!("not a Stellar G... account id: {e}")))
}

/// The SEP-53 hash of `message`: `sha256("Stellar Signed Message:\n" ‖ message)`. Any bytes are a
/// message, text or not.
pub fn message_hash(message: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(SEP53_PREFIX);
    hasher.update(message);
    hasher.finalize().into()
}

/// What a STELLAR `signMessage` signs (SEP-53): [`SignInput::Message`] holding the 32-byte
/// [`message_hash`], which Ed25519 signs as its message, as Stellar SDKs'
/// `Keypair.signMessage` does.
pub fn message_sign_input(message: &[u8]) -> SignInput {
    SignInput::Message(message_hash(message).to_vec())
}

/// The 64-byte Ed25519 signature, as a Stellar `DecoratedSignature` carries it.
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

    /// SEP-23 (stellar/stellar-protocol ecosystem/sep-0023.md), valid test case 1.
    const SEP23_ACCOUNT: &str = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ";
    const SEP23_KEY: &str = "3f0c34bf93ad0d9971d04ccc90f705511c838aad9734a4a2fb0d7a03fc7fe89a";

    fn sep23_key() -> [u8; 32] {
        hex::decode(SEP23_KEY).unwrap().try_into().unwrap()
    }

    #[test]
    fn sep23_valid_account_round_trips() {
        assert_eq!(address(&PublicKey::Ed25519(sep23_key())).unwrap(), SEP23_ACCOUNT);
        assert_eq!(decode_address(SEP23_ACCOUNT).unwrap(), sep23_key());
    }

    #[test]
    fn any_key_round_trips() {
        let mut key = [0u8; 32];
        key.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i as u8).wrapping_mul(37).wrapping_add(11));
        let text = address(&PublicKey::Ed25519(key)).unwrap();
        assert_eq!(text.len(), 56);
        assert!(text.starts_with('G'));
        assert_eq!(decode_address(&text).unwrap(), key);
    }

    #[test]
    fn sep23_invalid_cases_are_rejected() {
        // The G-prefixed invalid cases of SEP-23, then other valid SEP-23 strkeys that are not
        // account ids (muxed, contract), then case and checksum damage.
        for bad in [
            "GAAAAAAAACGC6",
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZA",
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUACUSI",
            "G47QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVP2I",
            "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ",
            "CA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUWDA",
            "ga7qynf7sowq3glr2bgmzehxavirza4kvwltjjfc7mgxua74p7ujvsgz",
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGY",
            "",
        ] {
            assert!(
                matches!(decode_address(bad), Err(ChainError::InvalidAddress(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn mismatched_kinds_are_rejected() {
        assert_eq!(address(&PublicKey::Secp256k1([2; 33])), Err(ChainError::KeyMismatch));
        assert_eq!(
            encode_signature(&Signature::Secp256k1 {
                r: [1; 32],
                s: [1; 32],
                recovery_id: 0
            }),
            Err(ChainError::KeyMismatch)
        );
        assert_eq!(encode_signature(&Signature::Ed25519([9; 64])).unwrap(), [9; 64]);
    }
}
