//! DKLs23 distributed key generation for two parties: 3 rounds.
//!
//! The library's `DkgSession` phases (Protocol 9.1 of <https://eprint.iacr.org/2023/602> for the
//! key, plus DKLs23's zero-share, two-party multiplication (OT) and BIP-32 chain-code setup).
//! `DkgSession` owns its state, so it is driven directly: one named type per round it waits in.

use std::collections::BTreeMap;

use dkls23::protocols::dkg::{
    BroadcastDerivationPhase2to4, BroadcastDerivationPhase3to4, ProofCommitment, TransmitInitMulPhase3to4,
    TransmitInitZeroSharePhase2to4, TransmitInitZeroSharePhase3to4,
};
use dkls23::protocols::PartyIndex;
use dkls23::DkgSession;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::setup::Prepared;
use super::{abort, check_senders, parameters, party_index, receive_fragment, send_fragment, Curve, Scalar};
use crate::machine::{SchemeRun, Transition};
use crate::message::{self, single, Tag};
use crate::{KeyShare, MpcError, Role, SessionId};

/// Round 2: the payload each party sends.
mod round2 {
    use super::*;

    /// Round 2: commitment to the sender's proof of its key point (the proof itself is inside and
    /// verified in phase 4), commitment to its zero-share seed, commitment to its chain-code part.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) proof_commitment: ProofCommitment<Curve>,
        pub(super) zero_share: TransmitInitZeroSharePhase2to4,
        pub(super) derivation: BroadcastDerivationPhase2to4,
    }
}

/// Round 3: the payload each party sends.
mod round3 {
    use super::*;

    /// Round 3: the zero-share seed opening, the base-OT setup for multiplication in both
    /// directions, and the chain-code opening.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) zero_share: TransmitInitZeroSharePhase3to4,
        pub(super) multiplication: TransmitInitMulPhase3to4<Curve>,
        pub(super) derivation: BroadcastDerivationPhase3to4,
    }
}

/// Round 3 of a key generation whose multiplication was set up ahead of time: the same,
/// without the base OTs.
mod round3_with_setup {
    use super::*;

    /// Round 3 with a setup: the zero-share seed opening and the chain-code opening.
    #[derive(Serialize, Deserialize)]
    pub(super) struct Message {
        pub(super) zero_share: TransmitInitZeroSharePhase3to4,
        pub(super) derivation: BroadcastDerivationPhase3to4,
    }
}

/// A DKLs DKG in progress, named by the peer message it waits for.
pub(crate) enum Run {
    AwaitRound1(Box<AwaitRound1>),
    AwaitRound2(Box<AwaitRound2>),
    AwaitRound3(Box<AwaitRound3>),
}

/// Sent round 1, waits for the peer's fragment. Holds secrets (`DkgSession` wipes its own).
pub(crate) struct AwaitRound1 {
    session: DkgSession<Curve>,
    role: Role,
    own_fragment: Zeroizing<Scalar>,
    setup: Option<Box<Prepared>>,
}

/// Sent round 2, waits for the peer's commitments.
pub(crate) struct AwaitRound2 {
    session: DkgSession<Curve>,
    role: Role,
    own_proof: ProofCommitment<Curve>,
    own_derivation: BroadcastDerivationPhase2to4,
    setup: Option<Box<Prepared>>,
}

/// Sent round 3, waits for the peer's openings and OT setup; then phase 4 ends the DKG.
pub(crate) struct AwaitRound3 {
    session: DkgSession<Curve>,
    role: Role,
    proofs: Vec<ProofCommitment<Curve>>,
    peer_zero_share: TransmitInitZeroSharePhase2to4,
    derivation2: BTreeMap<PartyIndex, BroadcastDerivationPhase2to4>,
    own_derivation3: BroadcastDerivationPhase3to4,
    setup: Option<Box<Prepared>>,
}

impl Run {
    /// Phase 1 (steps 1–2): sample our polynomial and evaluate it at both indices; the peer's
    /// evaluation is round 1.
    pub(crate) fn start(role: Role, session_id: &SessionId) -> Result<(Self, Vec<u8>), MpcError> {
        Self::begin(role, session_id.as_bytes().to_vec(), None)
    }

    /// As [`start`](Self::start), attaching a multiplication set up ahead of time (setup id
    /// `setup_id`) instead of setting one up in round 3. The setup's id is bound into the DKG's
    /// session id, so two parties holding halves of different setups fail the key's proofs.
    pub(crate) fn start_with_setup(
        role: Role,
        session_id: &SessionId,
        setup_id: &SessionId,
        setup: Box<Prepared>,
    ) -> Result<(Self, Vec<u8>), MpcError> {
        let bound = [session_id.as_bytes().as_slice(), b"with key setup", setup_id.as_bytes()].concat();
        Self::begin(role, bound, Some(setup))
    }

    fn begin(role: Role, session_id: Vec<u8>, setup: Option<Box<Prepared>>) -> Result<(Self, Vec<u8>), MpcError> {
        let session = DkgSession::<Curve>::new(parameters()?, party_index(role)?, session_id);
        let fragments = Zeroizing::new(session.phase1());
        let (own_fragment, out) = send_fragment(Tag::DklsDkg1, &fragments, role, "DKG")?;
        let state = AwaitRound1 {
            session,
            role,
            own_fragment,
            setup,
        };
        Ok((Run::AwaitRound1(Box::new(state)), out))
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
    /// Phase 2 (step 3): our key point is the sum of both fragments; commit to its proof, to our
    /// zero-share seed and to our chain-code part.
    fn receive(mut self, message: &[u8]) -> Result<(AwaitRound2, Vec<u8>), MpcError> {
        let fragments = receive_fragment(Tag::DklsDkg1, message, &self.own_fragment)?;
        let (proof_commitment, zero_transmit, derivation) = self.session.phase2(&*fragments).map_err(abort)?;
        let message = round2::Message {
            proof_commitment,
            zero_share: single(zero_transmit)?,
            derivation,
        };
        let out = message::encode(Tag::DklsDkg2, &message)?;
        let next = AwaitRound2 {
            session: self.session,
            role: self.role,
            own_proof: message.proof_commitment,
            own_derivation: message.derivation,
            setup: self.setup,
        };
        Ok((next, out))
    }
}

impl AwaitRound2 {
    /// Phase 3: open the zero-share seed and start the base OTs for multiplication.
    fn receive(mut self, message: &[u8]) -> Result<(AwaitRound3, Vec<u8>), MpcError> {
        let peer: round2::Message = message::decode(Tag::DklsDkg2, message)?;
        let me = party_index(self.role)?;
        let peer_index = party_index(self.role.peer())?;
        // Phase 4 looks broadcasts up by index; the peer must not speak for us or an absent party.
        check_senders(
            peer_index,
            &[
                peer.proof_commitment.index,
                peer.zero_share.parties.sender,
                peer.derivation.sender_index,
            ],
        )?;
        let (out, own_derivation3) = if self.setup.is_some() {
            let (zero_transmit, derivation) = self.session.phase3_without_mul().map_err(abort)?;
            let message = round3_with_setup::Message {
                zero_share: single(zero_transmit)?,
                derivation,
            };
            (message::encode(Tag::DklsDkgWithSetup3, &message)?, message.derivation)
        } else {
            let (zero_transmit, mul_transmit, derivation) = self.session.phase3().map_err(abort)?;
            let message = round3::Message {
                zero_share: single(zero_transmit)?,
                multiplication: single(mul_transmit)?,
                derivation,
            };
            (message::encode(Tag::DklsDkg3, &message)?, message.derivation)
        };
        let next = AwaitRound3 {
            session: self.session,
            role: self.role,
            proofs: vec![self.own_proof, peer.proof_commitment],
            peer_zero_share: peer.zero_share,
            derivation2: [(me, self.own_derivation), (peer_index, peer.derivation)].into(),
            own_derivation3,
            setup: self.setup,
        };
        Ok((next, out))
    }
}

impl AwaitRound3 {
    /// Phase 4 (steps 5–6): verify both proofs and derive the public key, check the seed and
    /// chain-code openings, finish the OT setup. The result is this party's share.
    fn receive(self, message: &[u8]) -> Result<KeyShare, MpcError> {
        let me = party_index(self.role)?;
        let peer_index = party_index(self.role.peer())?;
        // Addresses are chain formats, which are not this crate's business.
        let no_address = |_: &_| String::new();
        let (party, _public_package) = match self.setup {
            None => {
                let peer: round3::Message = message::decode(Tag::DklsDkg3, message)?;
                check_senders(peer_index, &[peer.derivation.sender_index])?;
                let derivation3: BTreeMap<_, _> = [(me, self.own_derivation3), (peer_index, peer.derivation)].into();
                self.session.phase4(
                    &self.proofs,
                    &[self.peer_zero_share],
                    &[peer.zero_share],
                    &[peer.multiplication],
                    &self.derivation2,
                    &derivation3,
                    no_address,
                )
            }
            Some(setup) => {
                let peer: round3_with_setup::Message = message::decode(Tag::DklsDkgWithSetup3, message)?;
                check_senders(peer_index, &[peer.derivation.sender_index])?;
                let derivation3: BTreeMap<_, _> = [(me, self.own_derivation3), (peer_index, peer.derivation)].into();
                let Prepared { senders, receivers } = *setup;
                self.session.phase4_with_mul(
                    &self.proofs,
                    &[self.peer_zero_share],
                    &[peer.zero_share],
                    senders,
                    receivers,
                    &self.derivation2,
                    &derivation3,
                    no_address,
                )
            }
        }
        .map_err(abort)?;
        KeyShare::from_dkls(party)
    }
}
