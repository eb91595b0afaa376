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
use crate::frame::{self, single, Tag};
use crate::machine::{SchemeRun, Transition};
use crate::{MpcError, PublicKey, Role, SignInput, Signature};

/// Round 1: commitment to our instance point, the first OT-extension message of the
/// multiplication in which we are the receiver, and the session binding.
#[derive(Serialize, Deserialize)]
struct Round1 {
    message: TransmitPhase1to2,
}

/// Round 2: decommitment, consistency-check values, and the multiplication sender's reply.
#[derive(Serialize, Deserialize)]
struct Round2 {
    message: TransmitPhase2to3<Curve>,
}

/// Round 3: our `(u, w)` so either party can assemble `s`.
#[derive(Serialize, Deserialize)]
struct Round3 {
    broadcast: Broadcast3to4<Curve>,
}

/// What every step needs: our share, the sign data both parties agreed on, and the key to
/// check the result against. Secret (the party); not `Clone`, so a run cannot be forked.
struct Context {
    party: Box<Party>,
    data: SignData,
    public_key: PublicKey,
    digest: [u8; 32],
}

/// A DKLs sign run in progress, named by the peer frame it waits for.
pub(crate) enum EcdsaSign {
    Round1(Box<AwaitRound1>),
    Round2(Box<AwaitRound2>),
    Round3(Box<AwaitRound3>),
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

impl EcdsaSign {
    /// Phase 1 (steps 4–6): sample the instance key and inversion mask, start our
    /// multiplication as receiver, commit to our instance point.
    pub(crate) fn start(
        party: &Party,
        role: Role,
        public_key: PublicKey,
        session_id: &[u8; 32],
        digest: [u8; 32],
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let party = Box::new(party.clone());
        let data = SignData {
            sign_id: session_id.to_vec(),
            counterparties: vec![party_index(role.peer())?],
            message_hash: digest,
        };
        let (unique, kept, transmit) = party.sign_phase1(&data).map_err(abort)?;
        let out = frame::encode(
            Tag::EcdsaSign1,
            &Round1 {
                message: single(transmit)?,
            },
        )?;
        let ctx = Context {
            party,
            data,
            public_key,
            digest,
        };
        Ok((EcdsaSign::Round1(Box::new(AwaitRound1 { ctx, unique, kept })), out))
    }
}

impl SchemeRun for EcdsaSign {
    type Output = Signature;
    const ROUNDS: u8 = 3;

    fn round(&self) -> u8 {
        match self {
            EcdsaSign::Round1(_) => 1,
            EcdsaSign::Round2(_) => 2,
            EcdsaSign::Round3(_) => 3,
        }
    }

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, Signature>, MpcError> {
        match self {
            EcdsaSign::Round1(s) => {
                let (next, out) = (*s).receive(frame)?;
                Ok(Transition::Continue(EcdsaSign::Round2(Box::new(next)), out))
            }
            EcdsaSign::Round2(s) => {
                let (next, out) = (*s).receive(frame)?;
                Ok(Transition::Continue(EcdsaSign::Round3(Box::new(next)), out))
            }
            EcdsaSign::Round3(s) => Ok(Transition::Done((*s).receive(frame)?)),
        }
    }
}

impl AwaitRound1 {
    /// Phase 2 (step 7): answer the peer's multiplication as sender, decommit to it.
    fn receive(self, frame: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let peer: Round1 = frame::decode(Tag::EcdsaSign1, frame)?;
        let ctx = self.ctx;
        let (unique, kept, transmit) = ctx
            .party
            .sign_phase2(&ctx.data, self.unique, self.kept, &[peer.message])
            .map_err(abort)?;
        let out = frame::encode(
            Tag::EcdsaSign2,
            &Round2 {
                message: single(transmit)?,
            },
        )?;
        Ok((AwaitRound2 { ctx, unique, kept }, out))
    }
}

impl AwaitRound2 {
    /// Phase 3 (steps 8–9): check the decommitment and consistency, finish our multiplication,
    /// compute `r` and our `(u, w)`.
    fn receive(self, frame: &[u8]) -> Result<(AwaitRound3, Vec<u8>), MpcError> {
        let peer: Round2 = frame::decode(Tag::EcdsaSign2, frame)?;
        let ctx = self.ctx;
        let (x_coord, own) = ctx
            .party
            .sign_phase3(&ctx.data, self.unique, self.kept, &[peer.message])
            .map_err(abort)?;
        let out = frame::encode(Tag::EcdsaSign3, &Round3 { broadcast: own.clone() })?;
        Ok((AwaitRound3 { ctx, x_coord, own }, out))
    }
}

impl AwaitRound3 {
    /// Phase 4 (step 10): `s = Σw / Σu`, normalized to low-s. The library verifies the result
    /// and computes the recovery id from the normalized `s`; it is checked again here with the
    /// standard verifier, because that is the one chains use.
    fn receive(self, frame: &[u8]) -> Result<Signature, MpcError> {
        let peer: Round3 = frame::decode(Tag::EcdsaSign3, frame)?;
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
        let signature = Signature::Ecdsa { r, s, recovery_id };
        ctx.public_key.verify(&SignInput::Digest(ctx.digest), &signature)?;
        Ok(signature)
    }
}
