//! A 32-byte message hash: what an ECDSA signature signs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 32-byte hash of a message, computed by the chain's rule (`dyad-chains` decides which: an
/// EIP-191 or EIP-712 hash, a transaction's signing hash, …). ECDSA signs it as is, so whoever
/// holds one can sign anything it is the hash of: the server takes a digest from a caller only
/// through the raw-signing path an app must switch on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest with these bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Digest {
    fn from(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", crate::hex0x::encode(self.0))
    }
}
