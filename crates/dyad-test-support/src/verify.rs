//! Checking signatures the way each chain's own tooling does, independently of `dyad-chains`:
//! the digest is rebuilt here from the chain's published rule, and the signature is checked with
//! the standard verifiers (k256 with public-key recovery for EVM, k256 for Cosmos, ed25519-dalek
//! `verify_strict` for Solana and Stellar). The tests use it to re-check what Dyad signed.
//!
//! Message rules: EVM EIP-191, Cosmos ADR-036, Solana the bytes themselves, Stellar SEP-53
//! (sha256("Stellar Signed Message:\n" ‖ message), signed as the Ed25519 message).

use base64::Engine;
#[cfg(feature = "proto")]
use dyad_proto::WalletView;
use dyad_types::WalletType;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey};
use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// Why a signature was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Malformed key, signature or address.
    #[error("{0}")]
    Malformed(&'static str),
    /// Well-formed but wrong.
    #[error("signature does not verify: {0}")]
    Invalid(&'static str),
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, VerifyError> {
    hex::decode(s.trim_start_matches("0x")).map_err(|_| VerifyError::Malformed("not hex"))
}

/// EIP-191 `personal_sign` digest: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message).
pub fn eip191_digest(message: &[u8]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(format!("\x19Ethereum Signed Message:\n{}", message.len()).as_bytes());
    h.update(message);
    h.finalize().into()
}

/// The ADR-036 amino sign doc (keys sorted, no whitespace), as Keplr `signArbitrary` makes it.
pub fn adr036_doc(signer: &str, message: &[u8]) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(message);
    let doc = serde_json::json!({
        "account_number": "0",
        "chain_id": "",
        "fee": { "amount": [], "gas": "0" },
        "memo": "",
        "msgs": [{ "type": "sign/MsgSignData", "value": { "data": data, "signer": signer } }],
        "sequence": "0",
    });
    // serde_json without `preserve_order` writes object keys sorted, as amino JSON wants.
    doc.to_string().into_bytes()
}

/// SEP-53: sha256("Stellar Signed Message:\n" ‖ message), what a Stellar key signs for a message.
pub fn sep53_hash(message: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"Stellar Signed Message:\n");
    h.update(message);
    h.finalize().into()
}

/// EVM address (EIP-55 not required: compared case-insensitively) of a SEC1 public key.
pub fn evm_address(vk: &VerifyingKey) -> String {
    let point = vk.to_encoded_point(false);
    let h = Keccak256::digest(&point.as_bytes()[1..]);
    format!("0x{}", hex::encode(&h[12..]))
}

/// The EVM address that made `signature` (65 bytes `r ‖ s ‖ v`, v 27 or 28) over `digest`, by
/// ecrecover. Panics on a malformed or high-s signature (tests only).
pub fn recover_evm_address(digest: &[u8; 32], signature: &[u8]) -> String {
    assert_eq!(signature.len(), 65, "an EVM signature is 65 bytes");
    let sig = EcdsaSignature::from_slice(&signature[..64]).unwrap();
    assert!(sig.normalize_s().is_none(), "high s");
    let rid = RecoveryId::from_byte(signature[64] - 27).unwrap();
    evm_address(&VerifyingKey::recover_from_prehash(digest, &sig, rid).unwrap())
}

/// ed25519-dalek `verify_strict` of `signature` over `message` under the 32-byte `public_key`.
pub fn ed25519_verify_strict(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    let pk: [u8; 32] = public_key
        .try_into()
        .map_err(|_| VerifyError::Malformed("Ed25519 key must be 32 bytes"))?;
    let sig: [u8; 64] = signature
        .try_into()
        .map_err(|_| VerifyError::Malformed("Ed25519 signature must be 64 bytes"))?;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|_| VerifyError::Malformed("bad public key"))?;
    vk.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| VerifyError::Invalid("ed25519 verify_strict failed"))
}

#[cfg(feature = "proto")]
/// The 32-byte Ed25519 public key of a SOLANA or STELLAR wallet. Panics on another (tests only).
pub fn ed25519_public_key(wallet: &WalletView) -> [u8; 32] {
    hex_bytes(&wallet.public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .unwrap_or_else(|| panic!("not an Ed25519 key: {}", wallet.public_key))
}

#[cfg(feature = "proto")]
/// Check `signature` over `message` made by `wallet` under the wallet type's `signMessage` rule.
pub fn verify_message(wallet: &WalletView, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
    verify_message_of(
        wallet.wallet_type,
        &wallet.address,
        &wallet.public_key,
        message,
        signature,
    )
}

/// [`verify_message`] for a wallet known only by its type, address and (`0x`-hex) public key.
pub fn verify_message_of(
    wallet_type: WalletType,
    address: &str,
    public_key: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let pk = hex_bytes(public_key)?;
    match wallet_type {
        WalletType::Evm => {
            if signature.len() != 65 {
                return Err(VerifyError::Malformed("EVM signature must be 65 bytes"));
            }
            let sig = EcdsaSignature::from_slice(&signature[..64]).map_err(|_| VerifyError::Malformed("bad r/s"))?;
            if sig.normalize_s().is_some() {
                return Err(VerifyError::Invalid("s is not low"));
            }
            let v = signature[64];
            if v != 27 && v != 28 {
                return Err(VerifyError::Malformed("v must be 27 or 28"));
            }
            let rid = RecoveryId::from_byte(v - 27).ok_or(VerifyError::Malformed("bad v"))?;
            let digest = eip191_digest(message);
            let recovered = VerifyingKey::recover_from_prehash(&digest, &sig, rid)
                .map_err(|_| VerifyError::Invalid("ecrecover failed"))?;
            if !evm_address(&recovered).eq_ignore_ascii_case(address) {
                return Err(VerifyError::Invalid("ecrecover gives another address"));
            }
            let vk = VerifyingKey::from_sec1_bytes(&pk).map_err(|_| VerifyError::Malformed("bad public key"))?;
            if evm_address(&vk) != evm_address(&recovered) {
                return Err(VerifyError::Invalid("address does not belong to the public key"));
            }
            Ok(())
        }
        WalletType::Cosmos => {
            if signature.len() != 64 {
                return Err(VerifyError::Malformed("Cosmos signature must be 64 bytes"));
            }
            let vk = VerifyingKey::from_sec1_bytes(&pk).map_err(|_| VerifyError::Malformed("bad public key"))?;
            let sig = EcdsaSignature::from_slice(signature).map_err(|_| VerifyError::Malformed("bad r/s"))?;
            if sig.normalize_s().is_some() {
                return Err(VerifyError::Invalid("s is not low (Cosmos rejects high s)"));
            }
            let digest = Sha256::digest(adr036_doc(address, message));
            vk.verify_prehash(&digest, &sig)
                .map_err(|_| VerifyError::Invalid("k256 verify failed"))?;
            let (hrp, data) = bech32::decode(address).map_err(|_| VerifyError::Malformed("bad bech32 address"))?;
            let hash = ripemd160_of_sha256(&pk);
            if data != hash || hrp.as_str() != "cosmos" {
                return Err(VerifyError::Invalid("address does not belong to the public key"));
            }
            Ok(())
        }
        WalletType::Solana | WalletType::Stellar => {
            let sep53;
            let signed: &[u8] = if wallet_type == WalletType::Stellar {
                sep53 = sep53_hash(message);
                &sep53
            } else {
                message
            };
            ed25519_verify_strict(&pk, signed, signature)?;
            let from_address: [u8; 32] = if wallet_type == WalletType::Solana {
                bs58::decode(address)
                    .into_vec()
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or(VerifyError::Malformed("bad base58 address"))?
            } else {
                match stellar_strkey::Strkey::from_string(address) {
                    Ok(stellar_strkey::Strkey::PublicKeyEd25519(k)) => k.0,
                    _ => return Err(VerifyError::Malformed("bad Stellar address")),
                }
            };
            if from_address[..] != pk[..] {
                return Err(VerifyError::Invalid("address does not belong to the public key"));
            }
            Ok(())
        }
    }
}

fn ripemd160_of_sha256(pk: &[u8]) -> Vec<u8> {
    use ripemd::Ripemd160;
    Ripemd160::digest(Sha256::digest(pk)).to_vec()
}
