//! What one ceremony frame says, inside the encrypted channel (postcard, not JSON: DKLs rounds
//! are hundreds of kilobytes).

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::wallet::WalletView;
use dyad_chains::SignedTransaction;

/// One frame of a ceremony. `Debug` shows a protocol round's length only: some rounds carry
/// secrets (DKLs DKG round 1, FROST DKG round 2).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// An opaque round message of the MPC protocol.
    Protocol(Vec<u8>),
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
}

/// What a finished ceremony produced, as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Key generation committed: the wallet is live.
    WalletCreated(WalletView),
    /// The signature in the chain's forms (and the signed transaction, where there is one).
    Signed(SignedTransaction),
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frame::Protocol(bytes) => write!(f, "Protocol({} bytes)", bytes.len()),
            Frame::Confirm => f.write_str("Confirm"),
            Frame::Done(outcome) => f.debug_tuple("Done").field(outcome).finish(),
            Frame::Abort { code, message } => f
                .debug_struct("Abort")
                .field("code", code)
                .field("message", message)
                .finish(),
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
