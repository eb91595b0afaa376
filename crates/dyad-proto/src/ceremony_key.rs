//! The server's ceremony key: the public half of its static Noise key, which clients pin.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ProtoError;

/// The server's static X25519 public key. Every ceremony is encrypted to it, so a client that
/// knows it (pinned by the operator, or read once from `GET /v1/info`) talks only to that
/// server. Public; written as `0x` and 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CeremonyKey([u8; 32]);

impl CeremonyKey {
    /// The key with these bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        CeremonyKey(bytes)
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl AsRef<[u8]> for CeremonyKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for CeremonyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&dyad_types::hex0x::encode(self.0))
    }
}

impl fmt::Debug for CeremonyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CeremonyKey({self})")
    }
}

impl FromStr for CeremonyKey {
    type Err = ProtoError;

    /// `0x` and 64 hex digits, as [`Display`](fmt::Display) writes it (surrounding spaces and
    /// a missing `0x` are forgiven: operators paste it from a terminal).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut bytes)
            .map_err(|_| ProtoError::InvalidId("ceremony key (expected 0x and 64 hex digits)"))?;
        Ok(CeremonyKey(bytes))
    }
}

impl Serialize for CeremonyKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CeremonyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_roundtrips_and_bad_text_is_refused() {
        let key = CeremonyKey::new([0xab; 32]);
        let text = key.to_string();
        assert_eq!(text, format!("0x{}", "ab".repeat(32)));
        assert_eq!(text.parse::<CeremonyKey>().unwrap(), key);
        assert_eq!(format!(" {} ", &text[2..]).parse::<CeremonyKey>().unwrap(), key);
        for bad in [
            "",
            "0x",
            "0xab",
            &format!("0x{}", "zz".repeat(32)),
            &format!("0x{}", "ab".repeat(33)),
        ] {
            assert!(
                matches!(bad.parse::<CeremonyKey>(), Err(ProtoError::InvalidId(_))),
                "{bad:?}"
            );
        }
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<CeremonyKey>(&json).unwrap(), key);
    }
}
