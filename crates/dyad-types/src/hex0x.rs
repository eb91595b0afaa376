//! `0x`-prefixed lower-case hex: how Dyad writes keys, digests, signatures and transactions as
//! text (REST bodies, audit entries, the command line).
//!
//! [`encode`] writes it; [`decode`] reads it strictly (the `0x` is required, digits in either
//! case). As a serde field helper, `#[serde(with = "dyad_types::hex0x")]` writes a byte field
//! as such a string and reads it back, for `Vec<u8>` and fixed-size arrays alike (an array
//! checks the length):
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Body {
//!     #[serde(with = "dyad_types::hex0x")]
//!     digest: [u8; 4],
//! }
//! let json = serde_json::to_string(&Body { digest: [0xde, 0xad, 0xbe, 0xef] }).unwrap();
//! assert_eq!(json, r#"{"digest":"0xdeadbeef"}"#);
//! assert_eq!(serde_json::from_str::<Body>(&json).unwrap().digest, [0xde, 0xad, 0xbe, 0xef]);
//! ```

use serde::de::{self, Deserialize, Deserializer};
use serde::Serializer;

use crate::TypesError;

/// `bytes` as `0x` followed by two lower-case hex digits per byte (`0x` alone for no bytes).
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    out.push_str(&hex::encode(bytes));
    out
}

/// The bytes of `0x`-prefixed hex text. [`TypesError::InvalidHex`] without the lower-case `0x`
/// prefix, for an odd number of digits or a character that is not a hex digit. Surrounding
/// whitespace is not trimmed: that is the caller's decision.
pub fn decode(text: &str) -> Result<Vec<u8>, TypesError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or(TypesError::InvalidHex("it does not start with 0x"))?;
    hex::decode(digits).map_err(|e| match e {
        hex::FromHexError::OddLength => TypesError::InvalidHex("an odd number of hex digits"),
        _ => TypesError::InvalidHex("a character after 0x is not a hex digit"),
    })
}

/// Serde: writes the bytes as [`encode`] does. For `#[serde(with = "dyad_types::hex0x")]`.
pub fn serialize<T: AsRef<[u8]>, S: Serializer>(bytes: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes))
}

/// Serde: reads a string as [`decode`] does, into a `Vec<u8>` or a `[u8; N]` (whose length must
/// match). For `#[serde(with = "dyad_types::hex0x")]`.
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TryFrom<Vec<u8>>,
    D: Deserializer<'de>,
{
    // A borrowed &str would fail for JSON strings with escapes; a String always works.
    let text = String::deserialize(deserializer)?;
    let bytes = decode(&text).map_err(de::Error::custom)?;
    let len = bytes.len();
    T::try_from(bytes).map_err(|_| de::Error::invalid_length(len, &"the field's number of bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_is_lower_case_with_the_prefix() {
        assert_eq!(encode([0xAB, 0x01]), "0xab01");
        assert_eq!(encode(Vec::<u8>::new()), "0x");
        assert_eq!(encode([0u8; 32]).len(), 66);
    }

    #[test]
    fn decode_requires_the_prefix_and_whole_bytes() {
        assert_eq!(decode("0xab01").unwrap(), vec![0xab, 0x01]);
        assert_eq!(decode("0xAB01").unwrap(), vec![0xab, 0x01]);
        assert_eq!(decode("0x").unwrap(), Vec::<u8>::new());
        for bad in ["ab01", "0Xab01", "0xab0", "0xzz", " 0xab", "0xab "] {
            assert!(matches!(decode(bad), Err(TypesError::InvalidHex(_))), "{bad:?}");
        }
    }

    #[test]
    fn serde_round_trips_vectors_and_checks_array_lengths() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Body {
            #[serde(with = "crate::hex0x")]
            bytes: Vec<u8>,
            #[serde(with = "crate::hex0x")]
            digest: [u8; 2],
        }
        let body = Body {
            bytes: vec![1, 2, 3],
            digest: [0xff, 0],
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"bytes":"0x010203","digest":"0xff00"}"#);
        assert_eq!(serde_json::from_str::<Body>(&json).unwrap(), body);
        for bad in [
            r#"{"bytes":"0x01","digest":"0xff"}"#,
            r#"{"bytes":"0x01","digest":"0xff0000"}"#,
            r#"{"bytes":"01","digest":"0xff00"}"#,
            r#"{"bytes":1,"digest":"0xff00"}"#,
        ] {
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
    }
}
