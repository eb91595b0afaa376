//! A library for dealing with the `DKLs23` protocol (see <https://eprint.iacr.org/2023/765.pdf>)
//! and related protocols.
//!
//! Written and used by Alore.
#![recursion_limit = "512"]
#![forbid(unsafe_code)]
// PATCH: upstream's code as it is, linted by a newer clippy than upstream's (the workspace
// runs `clippy -D warnings` on this member). No behaviour changes with these.
#![allow(clippy::type_complexity, clippy::too_many_arguments)]
#![cfg_attr(test, allow(clippy::iter_kv_map))]

pub mod curve;
pub mod protocols;
pub mod utilities;

pub use protocols::dkg_session::DkgSession;
pub use protocols::sign_session::SignSession;
pub use protocols::signature::EcdsaSignature;

// The following constants should not be changed!
// They are the same as the reference implementation of DKLs19:
// https://gitlab.com/neucrypt/mpecdsa/-/blob/release/src/lib.rs

/// Computational security parameter `lambda_c` from `DKLs23`.
/// We take it to be the same as the parameter `kappa`.
pub const RAW_SECURITY: u16 = 256;
/// `RAW_SECURITY` divided by 8 (used for arrays of bytes)
pub const SECURITY: u16 = 32;

/// Statistical security parameter `lambda_s` from `DKLs23`.
pub const STAT_SECURITY: u16 = 80;
