//! What one ceremony frame says, inside the encrypted channel (postcard, not JSON: DKLs rounds
//! are hundreds of kilobytes).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ErrorCode;
use crate::recovery::RecoverySecret;
use crate::wallet::WalletView;
use dyad_chains::SignedTransaction;

/// One frame of a ceremony. `Debug` shows a protocol round's length only: some rounds carry
/// secrets (DKLs DKG round 1, FROST DKG round 2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// An opaque round message of the MPC protocol.
    Protocol(RoundMessage),
    /// User party to cloud party, after key generation and the test signature: "I hold my share."
    /// The server commits the wallet only after this.
    Confirm,
    /// The ceremony finished; what it produced.
    Done(Outcome),
    /// The sender gives up; the ceremony is over for good.
    Abort {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Why, for a developer. Never secret.
        message: String,
    },
    /// Cloud party to user party, in a claim, after the test signature of the new shares: the
    /// person's recovery secret, sent before the commit so that a client that loses the last
    /// frame still has it. The server keeps only its Argon2id hash.
    Recovery(RecoverySecret),
    /// Cloud party to user party, first in a ceremony of a live wallet's share (a signature, a
    /// claim), before any protocol round: the ceremony holds the wallet's lease and its checks
    /// passed. The user party takes its share's turn only after this, so every holder of a
    /// client's turn already holds the server's lease (which waits on nothing but its own
    /// rounds): the two sides never wait on each other, whatever order the leases are granted
    /// in.
    Go,
}

/// One protocol round's message as it travels inside a [`Frame`]. Some rounds carry secrets
/// meant for the peer only (DKLs DKG and refresh round 1, FROST DKG round 2), so the bytes are
/// wiped when it drops and `Debug` shows the length only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundMessage(#[serde(with = "zeroizing_bytes")] Zeroizing<Vec<u8>>);

impl RoundMessage {
    /// The message's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for RoundMessage {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

impl std::fmt::Debug for RoundMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RoundMessage({} bytes)", self.0.len())
    }
}

/// postcard writes these as its usual length-prefixed bytes, as for a plain `Vec<u8>`, so the
/// wire format is unchanged.
mod zeroizing_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub(super) fn serialize<S: Serializer>(bytes: &Zeroizing<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<Vec<u8>>, D::Error> {
        Vec::<u8>::deserialize(d).map(Zeroizing::new)
    }
}

/// What a finished ceremony produced, as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Key generation committed: the wallet is live.
    WalletCreated(WalletView),
    /// The signature in the chain's forms (and the signed transaction, where there is one).
    Signed(SignedTransaction),
    /// A claim committed: the wallet is the person's, at its new key version.
    Claimed(WalletView),
    /// A key setup's cloud half is sealed and stored under this id (the warm setup pool): the
    /// client's half may now be named in a create request.
    KeySetupStored(crate::ids::KeySetupId),
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frame::Protocol(message) => write!(f, "Protocol({} bytes)", message.len()),
            Frame::Confirm => f.write_str("Confirm"),
            Frame::Done(outcome) => f.debug_tuple("Done").field(outcome).finish(),
            Frame::Abort { code, message } => f
                .debug_struct("Abort")
                .field("code", code)
                .field("message", message)
                .finish(),
            Frame::Recovery(_) => f.write_str("Recovery(..)"),
            Frame::Go => f.write_str("Go"),
        }
    }
}

impl Frame {
    /// Encode for the channel.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing these plain types into a Vec cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Decode a frame; trailing bytes are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::ProtoError> {
        match postcard::take_from_bytes::<Frame>(bytes) {
            Ok((f, [])) => Ok(f),
            _ => Err(crate::ProtoError::Decode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_message_is_encoded_as_plain_bytes_and_shows_only_its_length() {
        let bytes = vec![1u8, 2, 3, 250];
        let frame = Frame::Protocol(bytes.clone().into());
        // The zeroizing wrapper does not change the wire: same encoding as a plain Vec<u8>.
        let mut plain = vec![0u8]; // variant index of Protocol
        plain.extend(postcard::to_allocvec(&bytes).unwrap());
        assert_eq!(frame.to_bytes(), plain);
        assert_eq!(Frame::from_bytes(&plain).unwrap(), frame);
        assert_eq!(format!("{frame:?}"), "Protocol(4 bytes)");
        assert!(!format!("{:?}", RoundMessage::from(bytes)).contains("250"));
    }
}
