//! One-time login codes as stored, and the messages that carry them.

use dyad_proto::PregenId;

use super::Scope;

/// A one-time code sent to an email address or phone number. Only the code's MAC is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeChallenge {
    /// Random id; the MAC binds it.
    pub id: String,
    /// The app the login goes through.
    pub scope: Scope,
    /// Where the code went (an `Email` or a `Phone`).
    pub identifier: PregenId,
    /// `CodeKey::mac(id, code)`.
    pub code_mac: [u8; 32],
    /// Wrong tries so far.
    pub attempts: u32,
    /// The requester's address, for the per-address limit.
    pub client_ip: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the code is refused.
    pub expires_at: i64,
}

/// How many codes may be asked for: per identifier and per client address, each within a
/// window ending now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeLimits {
    /// Codes counted for the identifier are those created after this (Unix seconds).
    pub identifier_since: i64,
    /// At most this many in that window.
    pub identifier_max: u32,
    /// Codes counted for the address are those created after this.
    pub ip_since: i64,
    /// At most this many in that window.
    pub ip_max: u32,
}

/// What asking for a code did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStart {
    /// Stored (any older open code of the identifier is void).
    Started,
    /// Over the limit for the identifier.
    TooManyForIdentifier,
    /// Over the limit for the address.
    TooManyFromAddress,
}

/// A message as the outbox notifier keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unix seconds.
    pub at: i64,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or number.
    pub recipient: String,
    /// The text as it would be sent.
    pub body: String,
}
