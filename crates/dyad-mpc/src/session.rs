//! The session id every protocol run starts from.

use std::fmt;

/// Names one protocol run. Both parties must start the run with the same id, and every run
/// needs a fresh one: DKLs binds it into its proofs and OT transcripts, and FROST messages here
/// carry it, so a message from one run is refused by every other.
///
/// Not secret: it is derived from public values (Dyad derives it from the ceremony id).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// The session id with these bytes.
    pub const fn new(bytes: [u8; 32]) -> Self {
        SessionId(bytes)
    }

    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", hex::encode(self.0))
    }
}
