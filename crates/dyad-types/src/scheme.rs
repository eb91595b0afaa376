//! Which two-party scheme holds a key.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which two-party scheme a key uses. Serialized and displayed as `"DKLS"` or `"ED25519"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// 2-of-2 ECDSA over secp256k1 with DKLs23 (EVM, Cosmos).
    #[serde(rename = "DKLS")]
    Dkls,
    /// 2-of-2 Ed25519 with FROST (Solana, Stellar).
    #[serde(rename = "ED25519")]
    Frost,
}

impl Scheme {
    /// The wire and display name: `"DKLS"` or `"ED25519"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dkls => "DKLS",
            Scheme::Frost => "ED25519",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_wire_names() {
        for (scheme, name) in [(Scheme::Dkls, "DKLS"), (Scheme::Frost, "ED25519")] {
            assert_eq!(scheme.to_string(), name);
            assert_eq!(serde_json::to_string(&scheme).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Scheme>(&format!("\"{name}\"")).unwrap(), scheme);
        }
    }
}
