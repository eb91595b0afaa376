//! Dyad's two-party (2-of-2) threshold protocols, as sans-IO state machines.
//!
//! Every wallet key is split between a **user** share (party 1, the SDK) and a **cloud** share
//! (party 2, the server). This crate runs the protocols that create, use and rotate those shares
//! without ever assembling the private key:
//!
//! | protocol | [`Scheme::Dkls`] (ECDSA, secp256k1, crate `dkls23`) | [`Scheme::Frost`] (FROST, crate `frost-ed25519`) |
//! |---|---|---|
//! | [`Dkg`] | DKLs23 DKG, 3 rounds | FROST DKG, 2 rounds |
//! | [`Sign`] | DKLs23 signing of a 32-byte digest, 3 rounds | FROST signing of the message, 2 rounds |
//! | [`Refresh`] | DKLs23 *complete* refresh (re-runs the OT setup), 3 rounds | FROST refresh DKG, 2 rounds |
//! | [`Setup`] | the multiplication (OT) setup of one future key, 1 round | (none: FROST has no setup) |
//!
//! Each protocol is a [`Machine`]: `start` gives the machine and the first outgoing message, and
//! every [`Machine::receive`] consumes the peer's message for the current round and gives either
//! the next outgoing message or the result. Both parties run the same machine; every round is
//! symmetric (each side sends one message and receives one). [`run_local`] connects two machines in
//! one process.
//!
//! # What this crate must never do
//!
//! - No networking, no storage, no clocks, no chain formats (addresses, transactions, message
//!   hashing rules belong to `dyad-chains`). Messages are opaque bytes for the transport to move.
//! - Never assemble a private key, never export one.
//! - Never let secret material reach a `Debug` output or an error message.
//! - Never keep or reuse signing nonces or DKLs signing state: machines are consumed by value, so a
//!   machine that failed (or whose ceremony was abandoned) is gone, and a retry starts afresh.
//! - Never panic on a message from the peer: messages are untrusted input and a bad one is an
//!   [`MpcError`].
//!
//! # Transport requirements
//!
//! Some messages carry secrets meant for the peer only (DKLs DKG and refresh round 1, FROST DKG and
//! refresh round 2), and DKLs cannot tell a tampered randomness contribution from an honest one.
//! Messages must therefore travel on a channel that is encrypted and authenticated end to end,
//! bound to the ceremony (Dyad uses Noise for this).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod dkg;
mod dkls;
mod encoding;
mod error;
mod frost;
mod machine;
mod message;
mod public_packages;
mod refresh;
mod role;
mod session;
mod setup;
mod share;
mod sign;

pub use dkg::Dkg;
// The vocabulary types live in dyad-types, so chain code can use them without the MPC
// libraries; they are re-exported so this crate's API names them as before.
pub use dyad_types::{Digest, PublicKey, Scheme, SignInput, Signature};
pub use error::MpcError;
pub use machine::{run_local, Machine, Transition};
pub use public_packages::PublicPackages;
pub use refresh::Refresh;
pub use role::Role;
pub use session::SessionId;
pub use setup::{KeySetup, Setup};
pub use share::KeyShare;
pub use sign::Sign;
