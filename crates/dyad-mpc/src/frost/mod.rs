//! 2-of-2 Ed25519 with FROST (crate `frost-ed25519`, RFC 9591).
//!
//! FROST's own functions already take and return owned packages, so each round is one library
//! call. The library has no session context in its DKG or signing, so every message here carries
//! the session id and a message from another session is refused before it reaches the library.

use std::collections::BTreeMap;

use frost_ed25519::keys::{KeyPackage, PublicKeyPackage, VerifyingShare};
use frost_ed25519::Identifier;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::message::{self, Tag};
use crate::{MpcError, PublicKey, Role, Scheme, SessionId};

pub(crate) mod dkg;
pub(crate) mod refresh;
pub(crate) mod sign;

/// The FROST identifier of a role (the same numbers as DKLs: user 1, cloud 2).
pub(crate) fn identifier(role: Role) -> Result<Identifier, MpcError> {
    Identifier::try_from(u16::from(role.index())).map_err(MpcError::from_frost)
}

/// What every message here carries after its tag: the session id, then the round's message.
#[derive(Serialize, Deserialize)]
struct Sessioned<M> {
    session: [u8; 32],
    message: M,
}

/// Encodes our `message` for a round as a message of this session.
pub(crate) fn encode_in_session<M: Serialize>(tag: Tag, session: &SessionId, message: M) -> Result<Vec<u8>, MpcError> {
    message::encode(
        tag,
        &Sessioned {
            session: *session.as_bytes(),
            message,
        },
    )
}

/// Decodes the peer's message for a round, and refuses a message that belongs to another run.
pub(crate) fn decode_in_session<M: DeserializeOwned>(
    tag: Tag,
    session: &SessionId,
    message: &[u8],
) -> Result<M, MpcError> {
    let peer: Sessioned<M> = message::decode(tag, message)?;
    if peer.session != *session.as_bytes() {
        return Err(MpcError::Protocol("message belongs to a different session".into()));
    }
    Ok(peer.message)
}

/// Takes the package the library built for `peer` out of its per-recipient map. With one peer
/// there is exactly one; anything else means our own state is wrong.
pub(crate) fn only_for<T>(mut packages: BTreeMap<Identifier, T>, peer: &Identifier) -> Result<T, MpcError> {
    match (packages.remove(peer), packages.is_empty()) {
        (Some(package), true) => Ok(package),
        _ => Err(MpcError::Protocol("expected exactly one message for the peer".into())),
    }
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
    PublicKey::from_bytes(Scheme::Frost, &bytes).map_err(MpcError::from)
}
