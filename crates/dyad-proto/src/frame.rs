//! What one ceremony frame says, inside the encrypted channel (postcard, not JSON: DKLs rounds
//! are hundreds of kilobytes).

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::wallet::WalletView;

/// One frame of a ceremony.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// A signature, chain-encoded (see `dyad_chains::encode_signature`).
    Signed(Vec<u8>),
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
