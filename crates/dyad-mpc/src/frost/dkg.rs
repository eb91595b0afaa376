//! FROST distributed key generation for two parties: 2 rounds (Pedersen DKG with proofs of
//! knowledge, RFC 9591 appendix C / `frost_ed25519::keys::dkg::part1..3`).

use std::collections::BTreeMap;

use frost_ed25519::keys::dkg::{self, round1, round2};
use frost_ed25519::Identifier;
use rand_core::OsRng;

use super::{decode_in_session, encode_in_session, identifier, only_for};
use crate::machine::{SchemeRun, Transition};
use crate::message::Tag;
use crate::{KeyShare, MpcError, Role, SessionId};

/// A FROST DKG in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
}

/// Sent round 1, waits for the peer's commitments. Holds our polynomial: secret (the library
/// package wipes itself).
pub(crate) struct AwaitRound1 {
    role: Role,
    session: SessionId,
    secret: round1::SecretPackage,
}

/// Sent round 2, waits for the peer's share of its polynomial.
pub(crate) struct AwaitRound2 {
    role: Role,
    session: SessionId,
    secret: round2::SecretPackage,
    round1: BTreeMap<Identifier, round1::Package>,
}

impl Run {
    /// Part 1: sample our polynomial, commit to it, prove knowledge of its constant term.
    pub(crate) fn start(role: Role, session_id: &SessionId) -> Result<(Self, Vec<u8>), MpcError> {
        let (secret, package) = dkg::part1(identifier(role)?, 2, 2, OsRng).map_err(MpcError::from_frost)?;
        // Round 1: our coefficient commitments and proof of knowledge of our secret.
        let out = encode_in_session(Tag::FrostDkg1, session_id, package)?;
        let state = AwaitRound1 {
            role,
            session: *session_id,
            secret,
        };
        Ok((Run::AwaitRound1(Box::new(state)), out))
    }
}

impl SchemeRun for Run {
    type Output = KeyShare;
    const ROUNDS: u8 = 2;

    fn round(&self) -> u8 {
        match self {
            Run::AwaitRound1(_) => 1,
            Run::AwaitRound2(_) => 2,
        }
    }

    fn receive(self, message: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        match self {
            Run::AwaitRound1(s) => {
                let (next, out) = (*s).receive(message)?;
                Ok(Transition::Continue(Run::AwaitRound2(Box::new(next)), out))
            }
            Run::AwaitRound2(s) => Ok(Transition::Done((*s).receive(message)?)),
        }
    }
}

impl AwaitRound1 {
    /// Part 2: verify the peer's proof of knowledge, evaluate our polynomial at its identifier.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let peer: round1::Package = decode_in_session(Tag::FrostDkg1, &self.session, message)?;
        let peer_id = identifier(self.role.peer())?;
        let round1: BTreeMap<_, _> = [(peer_id, peer)].into();
        let (secret, for_peers) = dkg::part2(self.secret, &round1).map_err(MpcError::from_frost)?;
        // Round 2: our polynomial at the peer's identifier.
        // **Secret**: only for the peer, over an encrypted channel.
        let out = encode_in_session(Tag::FrostDkg2, &self.session, only_for(for_peers, &peer_id)?)?;
        let next = AwaitRound2 {
            role: self.role,
            session: self.session,
            secret,
            round1,
        };
        Ok((next, out))
    }
}

impl AwaitRound2 {
    /// Part 3: verify the peer's share against its commitments; our signing share is the sum of
    /// both polynomials at our identifier.
    fn receive(self, message: &[u8]) -> Result<KeyShare, MpcError> {
        let peer: round2::Package = decode_in_session(Tag::FrostDkg2, &self.session, message)?;
        let peer_id = identifier(self.role.peer())?;
        let round2: BTreeMap<_, _> = [(peer_id, peer)].into();
        let (key_package, public_key_package) =
            dkg::part3(&self.secret, &self.round1, &round2).map_err(MpcError::from_frost)?;
        KeyShare::from_frost(key_package, public_key_package)
    }
}
