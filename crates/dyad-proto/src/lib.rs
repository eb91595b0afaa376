//! Wire types shared by the Dyad server and SDK.
//!
//! This crate is what travels between the two parties: REST request and response bodies, the
//! error body with its stable codes, the identifiers that name things (`WalletId`, `PregenId`, …),
//! the frames a ceremony exchanges, and the Noise channel that carries those frames end to end.
//!
//! It must never hold key material beyond passing opaque, already-encrypted frames, never touch
//! storage, and never decide policy: it only says what the bytes on the wire mean.

pub mod ceremony;
pub mod channel;
pub mod error;
pub mod frame;
pub mod ids;
pub mod pregen;
pub mod rest;
pub mod turns;
pub mod wallet;

pub use ceremony::{
    confirmation_input, run_machine, session_id, CeremonyChannel, FrameTransport, HeldFrame, PEER_TIMEOUT,
};
pub use channel::{Initiator, Responder, SecureChannel, ServerStaticKey};
pub use error::{ErrorBody, ErrorCode, ProtoError};
pub use frame::{Frame, Outcome};
pub use ids::{AppId, CeremonyId, Environment, WalletId};
pub use pregen::PregenId;
pub use turns::{Turn, Turns};
pub use wallet::{WalletStatus, WalletView};

pub use dyad_types::{Scheme, WalletType};
