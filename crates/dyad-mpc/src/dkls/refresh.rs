//! DKLs23 *complete* refresh for two parties: 3 rounds.
//!
//! A DKG whose polynomials have a zero constant term: each share moves by a random correction,
//! the public key stays, and the OT/multiplication setup and zero-share seeds are rebuilt from
//! scratch. The library also offers a faster refresh that re-randomizes the existing OT state;
//! it is not used because a refresh here answers a suspected share compromise (claiming a
//! pregenerated wallet), where OT state derived from the old one is not good enough.
//! Library phases: `Party::refresh_complete_phase1..4`.

use std::collections::BTreeMap;

use dkls23::protocols::dkg::{
    KeepInitMulPhase3to4, KeepInitZeroSharePhase2to3, KeepInitZeroSharePhase3to4, ProofCommitment,
    TransmitInitMulPhase3to4, TransmitInitZeroSharePhase2to4, TransmitInitZeroSharePhase3to4,
};
use dkls23::protocols::PartyIndex;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{abort, check_senders, party_index, receive_fragment, send_fragment, Curve, Party, Scalar};
use crate::machine::{SchemeRun, Transition};
use crate::message::{self, single, Tag};
use crate::refresh::check_same_key;
use crate::{KeyShare, MpcError, PublicKey, Role, SessionId};

/// Round 2: the payload each party sends.
mod round2 {
    use super::*;

    /// Round 2: commitment to the proof of the sender's correction point, commitment to its new
    /// zero-share seed.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) proof_commitment: ProofCommitment<Curve>,
        pub(super) zero_share: TransmitInitZeroSharePhase2to4,
    }
}

/// Round 3: the payload each party sends.
mod round3 {
    use super::*;

    /// Round 3: the seed opening and the fresh base-OT setup for multiplication.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) zero_share: TransmitInitZeroSharePhase3to4,
        pub(super) multiplication: TransmitInitMulPhase3to4<Curve>,
    }
}

/// What every step needs. Secret (the old party); not `Clone`.
struct Context {
    party: Box<Party>,
    role: Role,
    refresh_sid: SessionId,
    public_key: PublicKey,
}

/// A DKLs refresh in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
    AwaitRound3(Box<AwaitRound3>),
}

/// Sent round 1, waits for the peer's fragment.
pub(crate) struct AwaitRound1 {
    ctx: Context,
    own_fragment: Zeroizing<Scalar>,
}

/// Sent round 2, waits for the peer's commitments. Holds our correction and seed: secret.
pub(crate) struct AwaitRound2 {
    ctx: Context,
    correction: Zeroizing<Scalar>,
    own_proof: ProofCommitment<Curve>,
    zero_kept: ZeroKept2,
}

/// Sent round 3, waits for the peer's openings and OT setup; then phase 4 ends the refresh.
pub(crate) struct AwaitRound3 {
    ctx: Context,
    correction: Zeroizing<Scalar>,
    proofs: Vec<ProofCommitment<Curve>>,
    peer_zero_share: TransmitInitZeroSharePhase2to4,
    zero_kept: ZeroKept3,
    mul_kept: MulKept,
}

impl Run {
    /// Phase 1: a random polynomial with zero constant term, evaluated at both indices; the
    /// peer's evaluation is round 1.
    pub(crate) fn start(
        party: &Party,
        role: Role,
        public_key: PublicKey,
        session_id: &SessionId,
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let party = Box::new(party.clone());
        let fragments = Zeroizing::new(party.refresh_complete_phase1());
        let (own_fragment, out) = send_fragment(Tag::DklsRefresh1, &fragments, role, "refresh")?;
        let ctx = Context {
            party,
            role,
            refresh_sid: *session_id,
            public_key,
        };
        Ok((Run::AwaitRound1(Box::new(AwaitRound1 { ctx, own_fragment })), out))
    }
}

impl SchemeRun for Run {
    type Output = KeyShare;
    const ROUNDS: u8 = 3;

    fn round(&self) -> u8 {
        match self {
            Run::AwaitRound1(_) => 1,
            Run::AwaitRound2(_) => 2,
            Run::AwaitRound3(_) => 3,
        }
    }

    fn receive(self, message: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
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
    /// Phase 2 (DKG phase 2 without the chain code): our correction is the sum of both
    /// fragments; commit to its proof and to a fresh zero-share seed.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let fragments = receive_fragment(Tag::DklsRefresh1, message, &self.own_fragment)?;
        let ctx = self.ctx;
        let (correction, proof_commitment, zero_kept, zero_transmit) = ctx
            .party
            .refresh_complete_phase2(ctx.refresh_sid.as_bytes(), &*fragments);
        let correction = Zeroizing::new(correction);
        let zero_kept = ZeroKept2(zero_kept);
        let message = round2::Message {
            proof_commitment,
            zero_share: single(zero_transmit)?,
        };
        let out = message::encode(Tag::DklsRefresh2, &message)?;
        let next = AwaitRound2 {
            ctx,
            correction,
            own_proof: message.proof_commitment,
            zero_kept,
        };
        Ok((next, out))
    }
}

impl AwaitRound2 {
    /// Phase 3 (DKG phase 3 without the chain code): open the seed, start fresh base OTs.
    fn receive(self, message: &[u8]) -> Result<(AwaitRound3, Vec<u8>), MpcError> {
        let peer: round2::Message = message::decode(Tag::DklsRefresh2, message)?;
        let ctx = self.ctx;
        let peer_index = party_index(ctx.role.peer())?;
        check_senders(
            peer_index,
            &[peer.proof_commitment.index, peer.zero_share.parties.sender],
        )?;
        let (zero_kept, zero_transmit, mul_kept, mul_transmit) = ctx
            .party
            .refresh_complete_phase3(ctx.refresh_sid.as_bytes(), &self.zero_kept.0);
        let zero_kept = ZeroKept3(zero_kept);
        let mul_kept = MulKept(mul_kept);
        let out = message::encode(
            Tag::DklsRefresh3,
            &round3::Message {
                zero_share: single(zero_transmit)?,
                multiplication: single(mul_transmit)?,
            },
        )?;
        let next = AwaitRound3 {
            ctx,
            correction: self.correction,
            proofs: vec![self.own_proof, peer.proof_commitment],
            peer_zero_share: peer.zero_share,
            zero_kept,
            mul_kept,
        };
        Ok((next, out))
    }
}

impl AwaitRound3 {
    /// Phase 4: the combined correction polynomial must commit to the identity (so the public
    /// key cannot move), check the seed opening, finish the OT setup, and apply our correction.
    fn receive(self, message: &[u8]) -> Result<KeyShare, MpcError> {
        let peer: round3::Message = message::decode(Tag::DklsRefresh3, message)?;
        let ctx = self.ctx;
        let party = ctx
            .party
            .refresh_complete_phase4(
                ctx.refresh_sid.as_bytes(),
                &self.correction,
                &self.proofs,
                &self.zero_kept.0,
                &[self.peer_zero_share],
                &[peer.zero_share],
                &self.mul_kept.0,
                &[peer.multiplication],
            )
            .map_err(abort)?;
        let share = KeyShare::from_dkls(party)?;
        // Phase 4 already forces this; a refresh that moved the key would be a silent disaster.
        check_same_key(&share, ctx.public_key)?;
        Ok(share)
    }
}

/// Zero-share seeds and salts kept from phase 2; the library type does not wipe itself.
struct ZeroKept2(BTreeMap<PartyIndex, KeepInitZeroSharePhase2to3>);

impl Drop for ZeroKept2 {
    fn drop(&mut self) {
        for kept in self.0.values_mut() {
            kept.seed.zeroize();
            kept.salt.zeroize();
        }
    }
}

/// Zero-share seeds kept from phase 3; the library type does not wipe itself.
struct ZeroKept3(BTreeMap<PartyIndex, KeepInitZeroSharePhase3to4>);

impl Drop for ZeroKept3 {
    fn drop(&mut self) {
        for kept in self.0.values_mut() {
            kept.seed.zeroize();
        }
    }
}

/// Base-OT secrets kept from phase 3; the library type does not wipe itself.
struct MulKept(BTreeMap<PartyIndex, KeepInitMulPhase3to4<Curve>>);

impl Drop for MulKept {
    fn drop(&mut self) {
        for kept in self.0.values_mut() {
            kept.ot_sender.s.zeroize();
            kept.ot_receiver.seed.zeroize();
            kept.nonce.zeroize();
            kept.vec_r.zeroize();
            kept.correlation.zeroize();
        }
    }
}
