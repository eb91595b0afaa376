//! What Dyad's tests share, in one place: the independent verifiers ([`verify`]), the published
//! vectors several test files use ([`fixtures`]), and small helpers ([`private_tempdir`],
//! [`email`]).
//!
//! The verifiers check signatures the way each chain's own tooling does, **independently of
//! `dyad-chains`**: the digest is rebuilt here from the chain's published rule, so a test that
//! checks a Dyad signature with them does not take Dyad's word for what was signed. Keep it so:
//! this crate must not use `dyad-chains` (or `dyad-mpc`) to compute what gets signed or checked.
//!
//! `publish = false`, and it must never be a normal dependency of a shipped crate (the `dyad`
//! binary, the server, the SDK): only a `[dev-dependencies]` entry. It depends on low crates only
//! (`dyad-types`; `dyad-proto` for `WalletView` behind the default feature `proto`, which
//! dyad-chains' tests turn off so that its dependency tree stays free of the MPC crates), never on `dyad-server` or `dyad-sdk`, whose tests
//! use it. A test harness that needs a running server lives in that crate's `tests/support/`.

pub mod fixtures;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod verify;

#[cfg(feature = "proto")]
use dyad_proto::PregenId;

/// A temporary folder only its owner can use (the server refuses a data folder others can read;
/// `tempfile` creates them 0755 here).
pub fn private_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

#[cfg(feature = "proto")]
/// An email pregeneration identifier (panics on a malformed one: tests only).
pub fn email(address: &str) -> PregenId {
    PregenId::parse("email", address).unwrap()
}

#[cfg(feature = "proto")]
/// A custom-id pregeneration identifier.
pub fn custom_id(id: &str) -> PregenId {
    PregenId::parse("customId", id).unwrap()
}

#[cfg(feature = "proto")]
/// A phone pregeneration identifier.
pub fn phone(number: &str) -> PregenId {
    PregenId::parse("phone", number).unwrap()
}
