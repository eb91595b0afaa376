//! Which scheme a key uses, and which of the two parties a share belongs to.

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
    Ed25519,
}

impl Scheme {
    /// The wire and display name: `"DKLS"` or `"ED25519"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Dkls => "DKLS",
            Scheme::Ed25519 => "ED25519",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of the 2-of-2 a party is. Both libraries number the parties the same way:
/// `User` is party 1 (the SDK), `Cloud` is party 2 (the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Party 1: the user share, held by the SDK (app backend or device).
    User,
    /// Party 2: the cloud share, held by the Dyad server.
    Cloud,
}

impl Role {
    /// The other party.
    pub fn peer(self) -> Role {
        match self {
            Role::User => Role::Cloud,
            Role::Cloud => Role::User,
        }
    }

    /// The 1-based party index both libraries use for this role.
    pub fn index(self) -> u8 {
        match self {
            Role::User => 1,
            Role::Cloud => 2,
        }
    }

    /// The role with the given 1-based party index, if it is one of the two.
    pub(crate) fn from_index(index: u8) -> Option<Role> {
        match index {
            1 => Some(Role::User),
            2 => Some(Role::Cloud),
            _ => None,
        }
    }
}
