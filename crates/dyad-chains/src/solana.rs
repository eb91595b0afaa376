//! SOLANA: base58 addresses and 64-byte Ed25519 signatures.

use crate::{ChainError, PublicKey, Signature};

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

/// The 64-byte Ed25519 signature `R ‖ S`, as Solana transactions carry it.
///
/// [`ChainError::KeyMismatch`] for an ECDSA signature.
pub fn encode_signature(signature: &Signature) -> Result<[u8; 64], ChainError> {
    match signature {
        Signature::Ed25519(bytes) => Ok(*bytes),
        Signature::Ecdsa { .. } => Err(ChainError::KeyMismatch),
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
            encode_signature(&Signature::Ecdsa {
                r: [1; 32],
                s: [1; 32],
                recovery_id: 0
            }),
            Err(ChainError::KeyMismatch)
        );
    }
}
