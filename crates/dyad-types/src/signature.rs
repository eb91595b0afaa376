//! What a sign ceremony signs, and the signature it produces.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Digest;

/// What a sign ceremony signs. ECDSA (DKLS) signs a 32-byte prehash computed by the caller
/// (`dyad-chains` decides how); Ed25519 signs the message bytes themselves (it hashes inside).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInput {
    /// A 32-byte message hash, for ECDSA (DKLS).
    Digest(Digest),
    /// The message bytes, for Ed25519.
    Message(Vec<u8>),
}

/// A finished signature, as both parties compute it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signature {
    /// ECDSA over secp256k1: `s` is low-s normalized and `recovery_id` (0 or 1) recovers the
    /// public key together with that normalized `s` (EVM `v = 27 + recovery_id`).
    Secp256k1 {
        /// `r`, big-endian.
        r: [u8; 32],
        /// `s`, big-endian, at most n/2.
        s: [u8; 32],
        /// Recovery id for this `(r, s)`: 0 or 1.
        recovery_id: u8,
    },
    /// Ed25519 (RFC 8032): `R ‖ S`.
    Ed25519(#[serde(with = "array64")] [u8; 64]),
}

impl Signature {
    /// The 64 bytes `r ‖ s` (ECDSA) or `R ‖ S` (Ed25519).
    pub fn to_bytes(&self) -> [u8; 64] {
        match self {
            Signature::Secp256k1 { r, s, .. } => {
                let mut out = [0u8; 64];
                out[..32].copy_from_slice(r);
                out[32..].copy_from_slice(s);
                out
            }
            Signature::Ed25519(bytes) => *bytes,
        }
    }
}

/// serde only derives for arrays up to 32; this writes `[u8; 64]` the way serde writes the
/// smaller arrays (a 64-tuple), so the format matches `r` and `s`.
mod array64 {
    use super::*;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(64)?;
        for b in bytes {
            tuple.serialize_element(b)?;
        }
        tuple.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        struct ArrayVisitor;

        impl<'de> Visitor<'de> for ArrayVisitor {
            type Value = [u8; 64];

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 bytes")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; 64], A::Error> {
                let mut out = [0u8; 64];
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                // Self-describing formats (JSON) could carry more elements than the tuple.
                if seq.next_element::<u8>()?.is_some() {
                    return Err(de::Error::invalid_length(65, &self));
                }
                Ok(out)
            }
        }

        d.deserialize_tuple(64, ArrayVisitor)
    }
}
