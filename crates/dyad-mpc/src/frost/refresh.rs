//! FROST share refresh for two parties: 2 rounds (a DKG of zero-constant polynomials whose
//! shares are added to the old ones; `frost_ed25519::keys::refresh::refresh_dkg_*`).

use std::collections::BTreeMap;

use frost_ed25519::keys::dkg::{round1, round2};
use frost_ed25519::keys::refresh;
use frost_ed25519::keys::{KeyPackage, PublicKeyPackage};
use frost_ed25519::Identifier;
use rand_core::OsRng;

use super::{decode_in_session, encode_in_session, identifier, only_for};
use crate::machine::{SchemeRun, Transition};
use crate::message::Tag;
use crate::refresh::check_same_key;
use crate::{KeyShare, MpcError, PublicKey, Role, SessionId};

/// What every step needs: the old share (secret; the key package wipes itself).
struct Context {
    role: Role,
    session: SessionId,
    key_package: Box<KeyPackage>,
    public_key_package: PublicKeyPackage,
    public_key: PublicKey,
}

/// A FROST refresh in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
}

/// Sent round 1, waits for the peer's commitments.
pub(crate) struct AwaitRound1 {
    ctx: Context,
    secret: round1::SecretPackage,
}

/// Sent round 2, waits for the peer's share of its zero polynomial.
pub(crate) struct AwaitRound2 {
    ctx: Context,
    secret: round2::SecretPackage,
    round1: BTreeMap<Identifier, round1::Package>,
}

impl Run {
    /// Part 1: sample a polynomial with zero constant term and commit to it.
    pub(crate) fn start(
        key_package: &KeyPackage,
        public_key_package: &PublicKeyPackage,
        role: Role,
        public_key: PublicKey,
        session_id: &SessionId,
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let (secret, package) =
            refresh::refresh_dkg_part1(identifier(role)?, 2, 2, OsRng).map_err(MpcError::from_frost)?;
        // Round 1: commitments to our zero-constant polynomial (the constant term is implied,
        // which is what keeps the group key fixed). The package's proof of knowledge is not
        // checked in a refresh (the library skips it: it would prove knowledge of the zero
        // constant term); what binds the sender is the commitment, which its round-2 share is
        // verified against.
        let out = encode_in_session(Tag::FrostRefresh1, session_id, package)?;
        let ctx = Context {
            role,
            session: *session_id,
            key_package: Box::new(key_package.clone()),
            public_key_package: public_key_package.clone(),
            public_key,
        };
        Ok((Run::AwaitRound1(Box::new(AwaitRound1 { ctx, secret })), out))
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
    /// Part 2: evaluate our zero polynomial at the peer's identifier.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let ctx = self.ctx;
        let peer: round1::Package = decode_in_session(Tag::FrostRefresh1, &ctx.session, message)?;
        let peer_id = identifier(ctx.role.peer())?;
        let round1: BTreeMap<_, _> = [(peer_id, peer)].into();
        let (secret, for_peers) = refresh::refresh_dkg_part2(self.secret, &round1).map_err(MpcError::from_frost)?;
        // Round 2: our zero-constant polynomial at the peer's identifier.
        // **Secret**: only for the peer, over an encrypted channel.
        let out = encode_in_session(Tag::FrostRefresh2, &ctx.session, only_for(for_peers, &peer_id)?)?;
        Ok((AwaitRound2 { ctx, secret, round1 }, out))
    }
}

impl AwaitRound2 {
    /// Refresh shares: verify the peer's share against its commitments and add both zero
    /// polynomials' values at our identifier to the old share; update the verifying shares.
    fn receive(self, message: &[u8]) -> Result<KeyShare, MpcError> {
        let ctx = self.ctx;
        let peer: round2::Package = decode_in_session(Tag::FrostRefresh2, &ctx.session, message)?;
        let peer_id = identifier(ctx.role.peer())?;
        let round2: BTreeMap<_, _> = [(peer_id, peer)].into();
        let (key_package, public_key_package) = refresh::refresh_dkg_shares(
            &self.secret,
            &self.round1,
            &round2,
            ctx.public_key_package,
            *ctx.key_package,
        )
        .map_err(MpcError::from_frost)?;
        let share = KeyShare::from_frost(key_package, public_key_package)?;
        // The library carries the old group key over; this guards that it stays so.
        check_same_key(&share, ctx.public_key)?;
        Ok(share)
    }
}
