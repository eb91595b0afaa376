//! EVM: EIP-55 addresses, EIP-191 personal messages, `r ‖ s ‖ v` signatures, transactions, and
//! EIP-712 typed data ([`typed_data`]).
//!
//! # Transactions
//!
//! EVM transactions: legacy (signed with EIP-155 replay protection), EIP-2930 and EIP-1559.
//!
//! ## Accepted input
//!
//! The request bytes are an **unsigned** transaction, as the usual libraries produce it:
//!
//! - legacy: `rlp([nonce, gasPrice, gasLimit, to, value, data])` (6 fields; signed for the
//!   requested chain id), or the EIP-155 signing form with `chainId, 0, 0` appended (9 fields;
//!   its chain id must be the requested one);
//! - EIP-2930: `0x01 ‖ rlp([chainId, nonce, gasPrice, gasLimit, to, value, data, accessList])`;
//! - EIP-1559: `0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to,
//!   value, data, accessList])` (ethers' `unsignedSerialized`, viem's `serializeTransaction`
//!   without a signature).
//!
//! EIP-4844 (`0x03`) and EIP-7702 (`0x04`) are refused with
//! [`ChainError::UnsupportedTransaction`]: a blob transaction needs its sidecar to be sent, and
//! a set-code transaction hands the account's code to a contract, which deserves its own policy
//! before Dyad signs one. Anything that does not decode exactly (truncated, non-canonical RLP,
//! trailing bytes, a signature already present) is [`ChainError::InvalidTransaction`].
//!
//! ## What is signed
//!
//! [`prepare`] returns the transaction's signing hash (keccak256 of the bytes above, with the
//! chain id filled in for a 6-field legacy transaction). [`assemble`] adds the signature and
//! returns the EIP-2718 encoding ready for `eth_sendRawTransaction`: `type ‖ rlp(fields ‖
//! yParity, r, s)`, or for legacy `rlp(fields ‖ v, r, s)` with `v = chainId * 2 + 35 + yParity`.

use alloy_primitives::{eip191_hash_message, Address};

use crate::{secp256k1, ChainError, PublicKey, Signature};

mod json;
mod transaction;
pub mod typed_data;

pub use json::unsigned_from_json;
pub use transaction::{assemble, prepare};

/// The EIP-55 checksummed address (`0x` + 40 hex digits) of a secp256k1 public key: the last
/// 20 bytes of keccak256 of the uncompressed point without its `0x04` tag.
///
/// [`ChainError::KeyMismatch`] for an Ed25519 key, [`ChainError::InvalidPublicKey`] if the
/// bytes are not a secp256k1 point.
pub fn address(public_key: &PublicKey) -> Result<String, ChainError> {
    if !matches!(public_key, PublicKey::Secp256k1(_)) {
        return Err(ChainError::KeyMismatch);
    }
    let uncompressed = public_key
        .uncompressed_secp256k1()
        .map_err(|e| ChainError::InvalidPublicKey(e.to_string()))?;
    // uncompressed is 0x04 ‖ X ‖ Y; the address commits to X ‖ Y (64 bytes, as the call needs).
    Ok(Address::from_raw_public_key(&uncompressed[1..]).to_checksum(None))
}

/// Parses an EVM address: `0x` followed by 40 hex digits. Following EIP-55, a mixed-case
/// address must carry a correct checksum, while an all-lower-case or all-upper-case one carries
/// no checksum and is accepted as is.
pub fn parse_address(address: &str) -> Result<[u8; 20], ChainError> {
    let digits = address
        .strip_prefix("0x")
        .ok_or_else(|| ChainError::InvalidAddress("an EVM address starts with 0x".into()))?;
    let mut bytes = [0u8; 20];
    hex::decode_to_slice(digits, &mut bytes)
        .map_err(|_| ChainError::InvalidAddress("an EVM address has 40 hex digits after 0x".into()))?;
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper && Address::from(bytes).to_checksum(None) != address {
        return Err(ChainError::InvalidAddress(
            "the EVM address's EIP-55 checksum (letter case) is wrong".into(),
        ));
    }
    Ok(bytes)
}

/// The EIP-191 (version `0x45`) personal-message hash that `personal_sign` / `eth_sign` sign:
/// keccak256(`"\x19Ethereum Signed Message:\n"` ‖ decimal byte length ‖ message).
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    eip191_hash_message(message).0
}

/// The 65-byte `r ‖ s ‖ v` encoding with `v = 27 + recovery_id`, as `personal_sign` returns it
/// and `ecrecover` takes it. A high `s` is replaced by `n - s` with the recovery id flipped.
///
/// [`ChainError::KeyMismatch`] for an Ed25519 signature; [`ChainError::InvalidSignature`] for
/// scalars out of range or a recovery id other than 0 or 1 (ids 2 and 3 mean `r` overflowed
/// the group order, which `v` cannot express).
pub fn encode_signature(signature: &Signature) -> Result<[u8; 65], ChainError> {
    // as_bytes writes r ‖ s ‖ (27 + parity).
    Ok(secp256k1::canonical(signature)?.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Keccak256};

    /// The test cases of EIP-55 (ethereum/ERCs, ERCS/erc-55.md, "Test Cases"). The first four
    /// happen to checksum to all capitals and all lower case.
    const EIP55_VECTORS: [&str; 8] = [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    fn key_from_secret(secret: u64) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes[24..].copy_from_slice(&secret.to_be_bytes());
        let signing = k256::ecdsa::SigningKey::from_slice(&bytes).unwrap();
        let point = signing.verifying_key().to_encoded_point(true);
        PublicKey::Secp256k1(point.as_bytes().try_into().unwrap())
    }

    #[test]
    fn eip55_test_cases_checksum_and_parse() {
        for vector in EIP55_VECTORS {
            let lower = vector.to_ascii_lowercase();
            let bytes = parse_address(&lower).unwrap();
            assert_eq!(Address::from(bytes).to_checksum(None), vector);
            assert_eq!(parse_address(vector).unwrap(), bytes);
        }
    }

    #[test]
    fn a_wrong_checksum_is_rejected() {
        for vector in &EIP55_VECTORS[4..] {
            // Flip the case of the first letter: still mixed case, checksum now wrong.
            let pos = vector[2..].find(|c: char| c.is_ascii_alphabetic()).unwrap() + 2;
            let mut broken = vector.to_string();
            let c = broken.as_bytes()[pos] as char;
            let flipped = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            broken.replace_range(pos..=pos, &flipped.to_string());
            assert!(
                matches!(parse_address(&broken), Err(ChainError::InvalidAddress(_))),
                "{broken}"
            );
        }
    }

    #[test]
    fn uniform_case_carries_no_checksum() {
        let v = EIP55_VECTORS[4];
        assert!(parse_address(&v.to_ascii_lowercase()).is_ok());
        assert!(parse_address(&format!("0x{}", v[2..].to_ascii_uppercase())).is_ok());
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        let v = EIP55_VECTORS[4];
        for bad in [
            "",
            "0x",
            &v[2..],                                      // no prefix
            &format!("0X{}", &v[2..]),                    // upper-case prefix
            &v[..41],                                     // 39 digits
            &format!("{v}0"),                             // 41 digits
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", // not hex
            &format!(" {v}"),
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn private_key_one_gives_the_well_known_address() {
        // Secret key 1 has public key G; its address is the widely published
        // 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
        assert_eq!(
            address(&key_from_secret(1)).unwrap(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }

    #[test]
    fn address_matches_an_independent_keccak() {
        let key = key_from_secret(0xdeadbeef);
        let uncompressed = key.uncompressed_secp256k1().unwrap();
        let hash = Keccak256::digest(&uncompressed[1..]);
        let expected = hex::encode(&hash[12..]);
        assert_eq!(address(&key).unwrap().to_ascii_lowercase(), format!("0x{expected}"));
    }

    #[test]
    fn address_rejects_ed25519_and_off_curve_keys() {
        assert_eq!(address(&PublicKey::Ed25519([1; 32])), Err(ChainError::KeyMismatch));
        // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is not a square mod p).
        let mut bytes = [0u8; 33];
        bytes[0] = 2;
        bytes[32] = 5;
        assert!(matches!(
            address(&PublicKey::Secp256k1(bytes)),
            Err(ChainError::InvalidPublicKey(_))
        ));
    }

    #[test]
    fn personal_message_hash_of_hello_world() {
        // viem's hashMessage test (src/utils/signature/hashMessage.test.ts) pins this hash.
        let expected = "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68";
        assert_eq!(hex::encode(personal_message_hash(b"hello world")), expected);
        // And spelled out with an independent keccak.
        let independent = Keccak256::digest(b"\x19Ethereum Signed Message:\n11hello world");
        assert_eq!(hex::encode(independent), expected);
    }

    #[test]
    fn personal_message_hash_uses_the_decimal_byte_length() {
        let message = vec![0xffu8; 1234];
        let mut prefixed = b"\x19Ethereum Signed Message:\n1234".to_vec();
        prefixed.extend_from_slice(&message);
        assert_eq!(
            personal_message_hash(&message).as_slice(),
            Keccak256::digest(&prefixed).as_slice()
        );
        assert_eq!(
            personal_message_hash(b"").as_slice(),
            Keccak256::digest(b"\x19Ethereum Signed Message:\n0").as_slice()
        );
    }

    #[test]
    fn encode_signature_writes_r_s_v() {
        let r = [0x11; 32];
        let s = [0x22; 32];
        for (id, v) in [(0u8, 27u8), (1, 28)] {
            let sig = encode_signature(&Signature::Secp256k1 { r, s, recovery_id: id }).unwrap();
            assert_eq!(sig.len(), 65);
            assert_eq!(&sig[..32], &r);
            assert_eq!(&sig[32..64], &s);
            assert_eq!(sig[64], v);
        }
    }

    #[test]
    fn encode_signature_rejects_what_evm_cannot_carry() {
        assert_eq!(
            encode_signature(&Signature::Ed25519([0; 64])),
            Err(ChainError::KeyMismatch)
        );
        for id in [2u8, 3, 27] {
            assert!(matches!(
                encode_signature(&Signature::Secp256k1 {
                    r: [1; 32],
                    s: [1; 32],
                    recovery_id: id
                }),
                Err(ChainError::InvalidSignature(_))
            ));
        }
        assert!(matches!(
            encode_signature(&Signature::Secp256k1 {
                r: [0; 32],
                s: [1; 32],
                recovery_id: 0
            }),
            Err(ChainError::InvalidSignature(_))
        ));
    }
}
