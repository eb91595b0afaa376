//! Wire types shared by the Dyad server and SDK.
//!
//! This crate is what travels between the two parties, and how: REST request and response
//! bodies, the error body with its stable codes, the identifiers that name things (`WalletId`,
//! `PregenId`, …), the frames a ceremony exchanges, the Noise channel that carries those frames
//! end to end (`channel`, sans-IO), the order of a ceremony's protocol runs, written once for
//! both parties (`keygen` and `claim`, sans-IO; `session` names each run), and the one async runner both
//! parties drive them with (`runner`, tokio, with the wire's peer timeout).
//!
//! It must never hold key material beyond what a protocol run needs while it runs, never touch
//! storage, and never decide a party's policy (who may create or sign, deadlines, leases): it
//! says what the bytes on the wire mean and in which order they go.

pub mod auth;
pub mod batch;
pub mod ceremony_key;
pub mod channel;
pub mod claim;
pub mod error;
pub mod frame;
pub mod grant;
pub mod ids;
pub mod keygen;
pub mod pregen;
pub mod recovery;
pub mod rest;
pub mod runner;
pub mod session;
pub mod turns;
pub mod wallet;

pub use auth::SessionToken;
pub use ceremony_key::CeremonyKey;
pub use channel::{Initiator, Responder, SecureChannel, ServerStaticKey};
pub use claim::Claim;
pub use error::{ErrorBody, ErrorCode, ProtoError};
pub use frame::{Frame, Outcome, RoundMessage};
pub use ids::{AppId, CeremonyId, Environment, KeySetupId, UserId, WalletId};
pub use keygen::{key_setup, KeyGeneration};
pub use pregen::PregenId;
pub use recovery::RecoverySecret;
pub use runner::{CeremonyChannel, FrameTransport, HeldFrame, RunStart, Sealing, PEER_TIMEOUT};
pub use session::{confirmation_input, session_id, Run};
pub use turns::{Turn, Turns};
pub use wallet::{WalletStatus, WalletView};

pub use dyad_types::{Scheme, WalletType};
