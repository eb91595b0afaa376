//! The vocabulary Dyad's crates share: which wallet types exist and which scheme holds their
//! keys, a wallet's group public key and how a signature under it is checked, what a ceremony
//! signs and the signature it gives, and `0x` hex text.
//!
//! `dyad-mpc` (the protocols), `dyad-chains` (the chain formats) and `dyad-proto` (the wire)
//! all speak of these values. They live here so that each of those crates can name them
//! without depending on another: chain code in particular builds without the MPC libraries
//! (`dkls23`, `frost-ed25519`), and a change to a protocol cannot ripple into chain formats.
//!
//! | item | what it is |
//! |---|---|
//! | [`WalletType`] | EVM, SOLANA, COSMOS or STELLAR, and the [`Scheme`] of each |
//! | [`Scheme`] | DKLS (ECDSA over secp256k1) or ED25519 |
//! | [`PublicKey`] | a validated group public key; [`PublicKey::verify`] checks a [`Signature`] |
//! | [`Digest`] | a 32-byte message hash, what ECDSA signs |
//! | [`SignInput`] | a [`Digest`] (ECDSA) or message bytes (Ed25519) |
//! | [`Signature`] | ECDSA `r`, `s`, recovery id, or Ed25519 `R ‖ S` |
//! | [`hex0x`] | `0x`-prefixed hex text, also as a serde field helper |
//! | [`TypesError`] | what parsing and checking these can fail with |
//!
//! # What this crate must never do
//!
//! - No protocol: no rounds, no key shares, no MPC library. Those are `dyad-mpc`'s.
//! - No IO: no network, storage, clocks or randomness. Same input, same output.
//! - No chain formats: addresses, transaction encodings and what a message signature signs
//!   are `dyad-chains`'s. A type here may say *which* chain, never how that chain spells things.
//! - Never panic on input: bytes and text come from callers and are checked.
//!
//! [`PublicKey::verify`] uses `k256` and `ed25519-dalek`, not the MPC libraries: a signature is
//! only useful if the verifiers the chains use accept it. Those two are the only cryptographic
//! dependencies here.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod digest;
mod error;
pub mod hex0x;
mod public_key;
mod scheme;
mod signature;
mod wallet_type;

pub use digest::Digest;
pub use error::TypesError;
pub use public_key::PublicKey;
pub use scheme::Scheme;
pub use signature::{SignInput, Signature};
pub use wallet_type::WalletType;
