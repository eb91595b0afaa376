//! DKLs23 signing for two parties: 3 rounds (Protocol 3.6 of <https://eprint.iacr.org/2023/765>).
//!
//! `SignSession` borrows its `Party`, so the library's lower-level `Party::sign_phase1..4` are
//! driven here with a party clone and the kept data owned by the machine. The kept data is
//! single-use by construction: each step consumes it, and the library's kept types are not
//! `Clone` and wipe themselves on drop.

use std::collections::BTreeMap;

use dkls23::protocols::signing::{
    Broadcast3to4, KeepPhase1to2, KeepPhase2to3, SignData, TransmitPhase1to2, TransmitPhase2to3, UniqueKeep1to2,
    UniqueKeep2to3,
};
use dkls23::protocols::PartyIndex;
use serde::{Deserialize, Serialize};

use super::{abort, party_index, Curve, Party};
use crate::machine::{SchemeRun, Transition};
use crate::message::{self, single, Tag};
use crate::{Digest, MpcError, PublicKey, Role, SessionId, SignInput, Signature};

/// Round 1: the payload each party sends.
mod round1 {
    use super::*;

    /// Round 1: commitment to our instance point, the first OT-extension message of the
    /// multiplication in which we are the receiver, and the session binding.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) message: TransmitPhase1to2,
    }
}

/// Round 2: the payload each party sends.
mod round2 {
    use super::*;

    /// Round 2: decommitment, consistency-check values, and the multiplication sender's reply.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) message: TransmitPhase2to3<Curve>,
    }
}

/// Round 3: the payload each party sends.
mod round3 {
    use super::*;

    /// Round 3: our `(u, w)` so either party can assemble `s`.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) broadcast: Broadcast3to4<Curve>,
    }
}

/// What every step needs: our share, the sign data both parties agreed on, and the key to
/// check the result against. Secret (the party); not `Clone`, so a run cannot be forked.
struct Context {
    party: Box<Party>,
    data: SignData,
    public_key: PublicKey,
    digest: Digest,
}

/// A DKLs sign run in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
    AwaitRound3(Box<AwaitRound3>),
}

/// Sent round 1, waits for the peer's. Holds the instance key and multiplication state: secret.
pub(crate) struct AwaitRound1 {
    ctx: Context,
    unique: UniqueKeep1to2<Curve>,
    kept: BTreeMap<PartyIndex, KeepPhase1to2<Curve>>,
}

/// Sent round 2, waits for the peer's. Secret, as above.
pub(crate) struct AwaitRound2 {
    ctx: Context,
    unique: UniqueKeep2to3<Curve>,
    kept: BTreeMap<PartyIndex, KeepPhase2to3<Curve>>,
}

/// Sent round 3, waits for the peer's `(u, w)`; `r` is already known.
pub(crate) struct AwaitRound3 {
    ctx: Context,
    x_coord: String,
    own: Broadcast3to4<Curve>,
}

impl Run {
    /// Phase 1 (steps 4–6): sample the instance key and inversion mask, start our
    /// multiplication as receiver, commit to our instance point.
    pub(crate) fn start(
        party: &Party,
        role: Role,
        public_key: PublicKey,
        session_id: &SessionId,
        digest: Digest,
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let party = Box::new(party.clone());
        let data = SignData {
            sign_id: session_id.as_bytes().to_vec(),
            counterparties: vec![party_index(role.peer())?],
            message_hash: *digest.as_bytes(),
        };
        let (unique, kept, transmit) = party.sign_phase1(&data).map_err(abort)?;
        let out = message::encode(
            Tag::DklsSign1,
            &round1::Message {
                message: single(transmit)?,
            },
        )?;
        let ctx = Context {
            party,
            data,
            public_key,
            digest,
        };
        Ok((Run::AwaitRound1(Box::new(AwaitRound1 { ctx, unique, kept })), out))
    }
}

impl SchemeRun for Run {
    type Output = Signature;
    const ROUNDS: u8 = 3;

    fn round(&self) -> u8 {
        match self {
            Run::AwaitRound1(_) => 1,
            Run::AwaitRound2(_) => 2,
            Run::AwaitRound3(_) => 3,
        }
    }

    fn receive(self, message: &[u8]) -> Result<Transition<Self, Signature>, MpcError> {
        match self {
            Run::AwaitRound1(s) => {
                let (next, out) = (*s).receive(message)?;
                Ok(Transition::Continue(Run::AwaitRound2(Box::new(next)), out))
            }
            Run::AwaitRound2(s) => {
                let (next, out) = (*s).receive(message)?;
                Ok(Transition::Continue(Run::AwaitRound3(Box::new(next)), out))
            }
            Run::AwaitRound3(s) => Ok(Transition::Done((*s).receive(message)?)),
        }
    }
}

impl AwaitRound1 {
    /// Phase 2 (step 7): answer the peer's multiplication as sender, decommit to it.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let peer: round1::Message = message::decode(Tag::DklsSign1, message)?;
        let ctx = self.ctx;
        let (unique, kept, transmit) = ctx
            .party
            .sign_phase2(&ctx.data, self.unique, self.kept, &[peer.message])
            .map_err(abort)?;
        let out = message::encode(
            Tag::DklsSign2,
            &round2::Message {
                message: single(transmit)?,
            },
        )?;
        Ok((AwaitRound2 { ctx, unique, kept }, out))
    }
}

impl AwaitRound2 {
    /// Phase 3 (steps 8–9): check the decommitment and consistency, finish our multiplication,
    /// compute `r` and our `(u, w)`.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound3, Vec<u8>), MpcError> {
        let peer: round2::Message = message::decode(Tag::DklsSign2, message)?;
        let ctx = self.ctx;
        let (x_coord, own) = ctx
            .party
            .sign_phase3(&ctx.data, self.unique, self.kept, &[peer.message])
            .map_err(abort)?;
        let out = message::encode(Tag::DklsSign3, &round3::Message { broadcast: own.clone() })?;
        Ok((AwaitRound3 { ctx, x_coord, own }, out))
    }
}

impl AwaitRound3 {
    /// Phase 4 (step 10): `s = Σw / Σu`, normalized to low-s. The library verifies the result
    /// and computes the recovery id from the normalized `s`; it is checked again here with the
    /// standard verifier, because that is the one chains use.
    fn receive(self, message: &[u8]) -> Result<Signature, MpcError> {
        let peer: round3::Message = message::decode(Tag::DklsSign3, message)?;
        let ctx = self.ctx;
        let (s_hex, recovery_id) = ctx
            .party
            .sign_phase4(&ctx.data, &self.x_coord, &[self.own, peer.broadcast], true)
            .map_err(abort)?;
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        hex::decode_to_slice(&self.x_coord, &mut r)
            .and_then(|()| hex::decode_to_slice(&s_hex, &mut s))
            .map_err(|_| MpcError::Protocol("signature assembly gave malformed scalars".into()))?;
        // Ids 2 and 3 (R.x ≥ n) happen with probability ~2⁻¹²⁸ and cannot be expressed as an EVM
        // `v`; such a run is dropped, and a retry gets a fresh nonce.
        if recovery_id > 1 {
            return Err(MpcError::Protocol("signature has an unsupported recovery id".into()));
        }
        let signature = Signature::Secp256k1 { r, s, recovery_id };
        ctx.public_key.verify(&SignInput::Digest(ctx.digest), &signature)?;
        Ok(signature)
    }
}
