//! FROST signing for two parties: 2 rounds (RFC 9591 sections 5.1–5.3).
//!
//! There is no coordinator: both parties send their nonce commitments, both build the same
//! signing package, both send their signature share, and both aggregate (each holds the public
//! key package, so each can check the other's share).

use std::collections::BTreeMap;

use frost_ed25519::keys::{KeyPackage, PublicKeyPackage};
use frost_ed25519::round1::{self, SigningCommitments, SigningNonces};
use frost_ed25519::round2::{self, SignatureShare};
use frost_ed25519::SigningPackage;
use rand_core::OsRng;

use super::{decode_in_session, encode_in_session, identifier};
use crate::machine::{SchemeRun, Transition};
use crate::message::Tag;
use crate::{MpcError, PublicKey, Role, SessionId, SignInput, Signature};

/// What every step needs. Secret (the key package wipes itself); not `Clone`.
struct Context {
    role: Role,
    session: SessionId,
    key_package: Box<KeyPackage>,
    public_key_package: PublicKeyPackage,
    public_key: PublicKey,
    message: Vec<u8>,
}

/// A FROST sign run in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
}

/// Sent our commitments, waits for the peer's. Holds our nonces: secret and single-use (the
/// library type wipes itself, and this state is consumed by the step that uses them).
pub(crate) struct AwaitRound1 {
    ctx: Context,
    nonces: SigningNonces,
    own_commitments: SigningCommitments,
}

/// Sent our signature share, waits for the peer's.
pub(crate) struct AwaitRound2 {
    ctx: Context,
    signing_package: SigningPackage,
    own_share: SignatureShare,
}

impl Run {
    /// Round 1 (commit): fresh nonces for this one signature.
    pub(crate) fn start(
        key_package: &KeyPackage,
        public_key_package: &PublicKeyPackage,
        role: Role,
        public_key: PublicKey,
        session_id: &SessionId,
        message: &[u8],
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let (nonces, own_commitments) = round1::commit(key_package.signing_share(), &mut OsRng);
        // Round 1: our hiding and binding nonce commitments.
        let out = encode_in_session(Tag::FrostSign1, session_id, own_commitments)?;
        let ctx = Context {
            role,
            session: *session_id,
            key_package: Box::new(key_package.clone()),
            public_key_package: public_key_package.clone(),
            public_key,
            message: message.to_vec(),
        };
        let state = AwaitRound1 {
            ctx,
            nonces,
            own_commitments,
        };
        Ok((Run::AwaitRound1(Box::new(state)), out))
    }
}

impl SchemeRun for Run {
    type Output = Signature;
    const ROUNDS: u8 = 2;

    fn round(&self) -> u8 {
        match self {
            Run::AwaitRound1(_) => 1,
            Run::AwaitRound2(_) => 2,
        }
    }

    fn receive(self, message: &[u8]) -> Result<Transition<Self, Signature>, MpcError> {
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
    /// Round 2 (sign): both parties build the same signing package from both commitments and
    /// the message; our share uses our nonces, which are dropped right after.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let ctx = self.ctx;
        let peer: SigningCommitments = decode_in_session(Tag::FrostSign1, &ctx.session, message)?;
        let commitments: BTreeMap<_, _> = [
            (identifier(ctx.role)?, self.own_commitments),
            (identifier(ctx.role.peer())?, peer),
        ]
        .into();
        let signing_package = SigningPackage::new(commitments, &ctx.message);
        let own_share = round2::sign(&signing_package, &self.nonces, &ctx.key_package).map_err(MpcError::from_frost)?;
        drop(self.nonces);
        // Round 2: our signature share.
        let out = encode_in_session(Tag::FrostSign2, &ctx.session, own_share)?;
        let next = AwaitRound2 {
            ctx,
            signing_package,
            own_share,
        };
        Ok((next, out))
    }
}

impl AwaitRound2 {
    /// Aggregate: verify the peer's share against its verifying share and combine. The result
    /// is checked with `verify_strict`, the verifier the chains use.
    fn receive(self, message: &[u8]) -> Result<Signature, MpcError> {
        let ctx = self.ctx;
        let peer: SignatureShare = decode_in_session(Tag::FrostSign2, &ctx.session, message)?;
        let shares: BTreeMap<_, _> = [
            (identifier(ctx.role)?, self.own_share),
            (identifier(ctx.role.peer())?, peer),
        ]
        .into();
        let signature = frost_ed25519::aggregate(&self.signing_package, &shares, &ctx.public_key_package)
            .map_err(MpcError::from_frost)?;
        let bytes: [u8; 64] = signature
            .serialize()
            .map_err(MpcError::from_frost)?
            .try_into()
            .map_err(|_| MpcError::Protocol("aggregate signature has the wrong length".into()))?;
        let signature = Signature::Ed25519(bytes);
        ctx.public_key.verify(&SignInput::Message(ctx.message), &signature)?;
        Ok(signature)
    }
}
