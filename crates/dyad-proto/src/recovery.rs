//! The recovery secret a claim gives the person: 256 random bits, shown once. The server keeps
//! only an Argon2id hash of it (for the recovery flow of a later version).

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A recovery secret. Secret: must not be logged or stored in clear by Dyad. Wiped on drop,
/// redacted in `Debug`. Its text form is `dyad_recovery_` followed by 64 hex digits.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySecret(Zeroizing<[u8; 32]>);

impl RecoverySecret {
    const PREFIX: &'static str = "dyad_recovery_";

    /// 256 bits from the operating system.
    pub fn random() -> Self {
        use rand_core::RngCore;
        let mut b = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(&mut b[..]);
        Self(b)
    }

    /// The text to show the person once (and to hash).
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}{}", Self::PREFIX, hex::encode(&self.0[..])))
    }

    /// Parse the text form.
    pub fn parse(text: &str) -> Option<Self> {
        let hex_part = text.trim().strip_prefix(Self::PREFIX)?;
        let mut b = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_part, &mut b[..]).ok()?;
        Some(Self(b))
    }
}

impl fmt::Debug for RecoverySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoverySecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_secret_reads_back_and_never_shows_in_debug() {
        let s = RecoverySecret::random();
        assert_ne!(s, RecoverySecret::random());
        let text = s.expose();
        assert_eq!(text.len(), 14 + 64);
        assert_eq!(RecoverySecret::parse(&text), Some(s.clone()));
        assert!(!format!("{s:?}").contains(&text[14..20]));
        assert_eq!(RecoverySecret::parse("dyad_recovery_zz"), None);
    }
}
