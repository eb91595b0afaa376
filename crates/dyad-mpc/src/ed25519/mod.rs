//! 2-of-2 Ed25519 with FROST (crate `frost-ed25519`, RFC 9591).
//!
//! FROST's own functions already take and return owned packages, so each round is one library
//! call. The library has no session context in its DKG or signing, so every frame here carries
//! the session id and a frame from another session is refused before it reaches the library.

use frost_ed25519::keys::{KeyPackage, PublicKeyPackage, VerifyingShare};
use frost_ed25519::Identifier;

use crate::{MpcError, PublicKey, Role, Scheme};

pub(crate) mod dkg;
pub(crate) mod refresh;
pub(crate) mod sign;

/// The FROST identifier of a role (the same numbers as DKLs: user 1, cloud 2).
pub(crate) fn identifier(role: Role) -> Result<Identifier, MpcError> {
    Identifier::try_from(u16::from(role.index())).map_err(MpcError::from_frost)
}

/// Refuses a frame that belongs to another run.
pub(crate) fn check_session(expected: &[u8; 32], got: &[u8; 32]) -> Result<(), MpcError> {
    if expected != got {
        return Err(MpcError::Protocol("frame belongs to a different session".into()));
    }
    Ok(())
}

/// Checks that a key package and public key package (just produced by a protocol, or just
/// decoded from storage) form a usable 2-of-2 share, and gives its role and public key.
pub(crate) fn validate(
    key_package: &KeyPackage,
    public_key_package: &PublicKeyPackage,
) -> Result<(Role, PublicKey), MpcError> {
    let role = [Role::User, Role::Cloud]
        .into_iter()
        .find(|&r| identifier(r).ok().as_ref() == Some(key_package.identifier()))
        .ok_or(MpcError::InvalidShare)?;
    if *key_package.min_signers() != 2 || public_key_package.min_signers() != Some(2) {
        return Err(MpcError::InvalidShare);
    }
    let shares = public_key_package.verifying_shares();
    let user = identifier(Role::User).map_err(|_| MpcError::InvalidShare)?;
    let cloud = identifier(Role::Cloud).map_err(|_| MpcError::InvalidShare)?;
    if shares.len() != 2 || !shares.contains_key(&user) || !shares.contains_key(&cloud) {
        return Err(MpcError::InvalidShare);
    }
    // The package must agree with itself: our verifying share is our secret times G, and it is
    // the one the public package records for us, under the same group key.
    if shares.get(key_package.identifier()) != Some(key_package.verifying_share())
        || VerifyingShare::from(*key_package.signing_share()) != *key_package.verifying_share()
        || public_key_package.verifying_key() != key_package.verifying_key()
    {
        return Err(MpcError::InvalidShare);
    }
    let public_key = public_key(public_key_package).map_err(|_| MpcError::InvalidShare)?;
    Ok((role, public_key))
}

/// The group public key, as the standard encoding.
pub(crate) fn public_key(public_key_package: &PublicKeyPackage) -> Result<PublicKey, MpcError> {
    let bytes = public_key_package
        .verifying_key()
        .serialize()
        .map_err(|_| MpcError::InvalidPublicKey)?;
    PublicKey::from_bytes(Scheme::Ed25519, &bytes)
}
