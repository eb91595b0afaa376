//! The multiplication setup of a DKLs key, run ahead of the key: one round.
//!
//! The patched library's `init_mul_phase1`/`init_mul_phase2` (PATCHES.md #9) are the code phase
//! 3 and 4 of its DKG run for the multiplication, called here with a session id of the setup's
//! own.

use std::collections::BTreeMap;

use dkls23::protocols::dkg::{self, KeepInitMulPhase3to4, SessionData, TransmitInitMulPhase3to4};
use dkls23::protocols::PartyIndex;
use dkls23::utilities::multiplication::{MulReceiver, MulSender};
use serde::{Deserialize, Serialize};

use super::{abort, parameters, party_index, Curve};
use crate::message::{self, single, Tag};
use crate::{MpcError, Role, SessionId};

/// The multiplication state with the peer, both directions. Secret (the library wipes it).
#[derive(Serialize, Deserialize)]
pub(crate) struct Prepared {
    pub(crate) senders: BTreeMap<PartyIndex, MulSender<Curve>>,
    pub(crate) receivers: BTreeMap<PartyIndex, MulReceiver<Curve>>,
}

impl Prepared {
    /// Exactly one peer in each direction, in a usable state.
    pub(crate) fn validate(&self) -> Result<(), MpcError> {
        let invalid = || MpcError::InvalidShare;
        if self.senders.len() != 1 || self.receivers.len() != 1 {
            return Err(invalid());
        }
        for sender in self.senders.values() {
            sender.check_state().map_err(|_| invalid())?;
        }
        for receiver in self.receivers.values() {
            receiver.check_state(None).map_err(|_| invalid())?;
        }
        Ok(())
    }
}

/// Sent our half of the base OTs; waits for the peer's.
pub(crate) struct Run {
    id: SessionId,
    role: Role,
    data: SessionData,
    kept: BTreeMap<PartyIndex, KeepInitMulPhase3to4<Curve>>,
}

/// The setup's session data: the parties and the setup's own id, domain-separated from any
/// key generation's.
fn session_data(role: Role, id: &SessionId) -> Result<SessionData, MpcError> {
    Ok(SessionData {
        parameters: parameters()?,
        party_index: party_index(role)?,
        session_id: [b"dyad key setup".as_slice(), id.as_bytes()].concat(),
    })
}

impl Run {
    /// DKLs23 Functionality 3.5, Init, first half: our base OTs as receiver and as sender.
    pub(crate) fn start(role: Role, id: &SessionId) -> Result<(Run, Vec<u8>), MpcError> {
        let data = session_data(role, id)?;
        let (kept, transmit) = dkg::init_mul_phase1::<Curve>(&data);
        let out = message::encode(Tag::DklsSetup1, &single(transmit)?)?;
        Ok((
            Run {
                id: *id,
                role,
                data,
                kept,
            },
            out,
        ))
    }

    /// Init, second half: check the peer's proofs and finish both directions.
    pub(crate) fn receive(self, message: &[u8]) -> Result<(SessionId, Role, Prepared), MpcError> {
        let peer: TransmitInitMulPhase3to4<Curve> = message::decode(Tag::DklsSetup1, message)?;
        super::check_senders(party_index(self.role.peer())?, &[peer.parties.sender])?;
        let (senders, receivers) = dkg::init_mul_phase2::<Curve>(&self.data, &self.kept, &[peer]).map_err(abort)?;
        let prepared = Prepared { senders, receivers };
        prepared
            .validate()
            .map_err(|_| MpcError::Protocol("the setup gave unusable state".into()))?;
        Ok((self.id, self.role, prepared))
    }
}
