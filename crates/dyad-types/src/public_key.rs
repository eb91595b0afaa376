//! The group public key of a 2-of-2 key, and verification with the standard verifiers.
//!
//! Verification deliberately uses `k256` and `ed25519-dalek`, not the MPC libraries: a
//! signature is only useful if the verifiers the chains use accept it.

use std::fmt;

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::elliptic_curve::sec1::ToEncodedPoint;

use crate::{Scheme, SignInput, Signature, TypesError};

/// Group public key. `Secp256k1` holds the SEC1 compressed point (33 bytes), `Ed25519` the
/// 32-byte RFC 8032 encoding. Always a valid point: construct with [`PublicKey::from_bytes`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicKey {
    /// secp256k1 point, SEC1 compressed.
    Secp256k1([u8; 33]),
    /// Ed25519 point, RFC 8032 encoding.
    Ed25519([u8; 32]),
}

impl PublicKey {
    /// The scheme whose keys live on this curve.
    pub fn scheme(&self) -> Scheme {
        match self {
            PublicKey::Secp256k1(_) => Scheme::Dkls,
            PublicKey::Ed25519(_) => Scheme::Frost,
        }
    }

    /// The encoded point (33 bytes for secp256k1, 32 for Ed25519).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            PublicKey::Secp256k1(b) => b,
            PublicKey::Ed25519(b) => b,
        }
    }

    /// Parses an encoded public key of `scheme`: SEC1 compressed (33 bytes) for DKLS, 32 bytes for
    /// ED25519. Rejects wrong lengths, points not on the curve, the identity and (Ed25519)
    /// small-order points, with [`TypesError::InvalidPublicKey`].
    pub fn from_bytes(scheme: Scheme, bytes: &[u8]) -> Result<Self, TypesError> {
        match scheme {
            Scheme::Dkls => {
                let arr: [u8; 33] = bytes.try_into().map_err(|_| TypesError::InvalidPublicKey)?;
                // SEC1 has another 33-byte form (0x05, "compact"); only the compressed one is
                // canonical here, so that one key has one encoding.
                if arr[0] != 0x02 && arr[0] != 0x03 {
                    return Err(TypesError::InvalidPublicKey);
                }
                k256::PublicKey::from_sec1_bytes(&arr).map_err(|_| TypesError::InvalidPublicKey)?;
                Ok(PublicKey::Secp256k1(arr))
            }
            Scheme::Frost => {
                let arr: [u8; 32] = bytes.try_into().map_err(|_| TypesError::InvalidPublicKey)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| TypesError::InvalidPublicKey)?;
                // A small-order key is not one a DKG produces, and verify_strict would reject
                // every signature under it anyway.
                if key.is_weak() {
                    return Err(TypesError::InvalidPublicKey);
                }
                Ok(PublicKey::Ed25519(arr))
            }
        }
    }

    /// Secp256k1 only: the 65-byte uncompressed SEC1 encoding (what EVM addresses hash).
    /// Ed25519 keys give [`TypesError::InvalidPublicKey`].
    pub fn uncompressed_secp256k1(&self) -> Result<[u8; 65], TypesError> {
        let PublicKey::Secp256k1(compressed) = self else {
            return Err(TypesError::InvalidPublicKey);
        };
        let key = k256::PublicKey::from_sec1_bytes(compressed).map_err(|_| TypesError::InvalidPublicKey)?;
        key.to_encoded_point(false)
            .as_bytes()
            .try_into()
            .map_err(|_| TypesError::InvalidPublicKey)
    }

    /// Verifies `signature` over `input` with the standard verifiers.
    ///
    /// - ECDSA (`input` must be [`SignInput::Digest`]): k256 `verify_prehash`, `s` must be low,
    ///   and public-key recovery with `recovery_id` must give back this key (so the signature
    ///   works as an EVM `r‖s‖v`).
    /// - Ed25519 (`input` must be [`SignInput::Message`]): ed25519-dalek `verify_strict`.
    ///
    /// A scheme/input/signature combination that does not fit is [`TypesError::InputMismatch`];
    /// a signature that does not verify is [`TypesError::BadSignature`].
    pub fn verify(&self, input: &SignInput, signature: &Signature) -> Result<(), TypesError> {
        match (self, input, signature) {
            (PublicKey::Secp256k1(pk), SignInput::Digest(digest), Signature::Secp256k1 { r, s, recovery_id }) => {
                verify_ecdsa(pk, digest.as_bytes(), r, s, *recovery_id)
            }
            (PublicKey::Ed25519(pk), SignInput::Message(message), Signature::Ed25519(sig)) => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(pk).map_err(|_| TypesError::InvalidPublicKey)?;
                key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(sig))
                    .map_err(|_| TypesError::BadSignature)
            }
            _ => Err(TypesError::InputMismatch),
        }
    }
}

fn verify_ecdsa(
    pk: &[u8; 33],
    digest: &[u8; 32],
    r: &[u8; 32],
    s: &[u8; 32],
    recovery_id: u8,
) -> Result<(), TypesError> {
    use k256::ecdsa::{RecoveryId, Signature as EcdsaSignature, VerifyingKey};

    let key = VerifyingKey::from_sec1_bytes(pk).map_err(|_| TypesError::InvalidPublicKey)?;
    let sig = EcdsaSignature::from_scalars(*r, *s).map_err(|_| TypesError::BadSignature)?;
    // Chains reject high-s (malleable) signatures, so a high-s one is not a usable signature.
    if sig.normalize_s().is_some() {
        return Err(TypesError::BadSignature);
    }
    key.verify_prehash(digest, &sig).map_err(|_| TypesError::BadSignature)?;
    // Ids 2 and 3 (r reduced mod n) are representable in EVM nowhere; only 0 and 1 are valid.
    if recovery_id > 1 {
        return Err(TypesError::BadSignature);
    }
    let id = RecoveryId::from_byte(recovery_id).ok_or(TypesError::BadSignature)?;
    let recovered = VerifyingKey::recover_from_prehash(digest, &sig, id).map_err(|_| TypesError::BadSignature)?;
    if recovered != key {
        return Err(TypesError::BadSignature);
    }
    Ok(())
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            PublicKey::Secp256k1(_) => "Secp256k1",
            PublicKey::Ed25519(_) => "Ed25519",
        };
        write!(f, "{name}({})", hex::encode(self.as_bytes()))
    }
}
