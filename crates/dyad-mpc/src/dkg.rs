//! Distributed key generation, whichever the scheme.

use std::fmt;

use crate::machine::ByScheme;
use crate::{dkls, frost, KeySetup, KeyShare, Machine, MpcError, Role, Scheme, SessionId, Transition};

/// Distributed key generation. Output: this party's [`KeyShare`]; both parties get the same
/// public key, and neither ever sees the whole private key.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run for good.
pub struct Dkg(ByScheme<dkls::dkg::Run, frost::dkg::Run>);

impl Dkg {
    /// Starts a DKG as `role`. Both parties must use the same `scheme` and `session_id` (fresh
    /// for every run) and different roles. Returns the machine and the first message to send.
    pub fn start(scheme: Scheme, role: Role, session_id: &SessionId) -> Result<(Dkg, Vec<u8>), MpcError> {
        let (state, message) = match scheme {
            Scheme::Dkls => {
                let (m, f) = dkls::dkg::Run::start(role, session_id)?;
                (ByScheme::Dkls(m), f)
            }
            Scheme::Frost => {
                let (m, f) = frost::dkg::Run::start(role, session_id)?;
                (ByScheme::Frost(m), f)
            }
        };
        Ok((Dkg(state), message))
    }

    /// Starts a DKLs DKG as `role` that attaches `setup` (made ahead of time by
    /// [`Setup`](crate::Setup) with the same peer) instead of setting up the multiplication
    /// itself: round 3 then carries no base OTs, and most of the work is already done. The
    /// setup is used up, whatever the outcome. The peer must start with the other half of the
    /// same setup; the setup's id is bound into the run's session id, so halves of different
    /// setups fail the key's proofs.
    pub fn start_with_setup(role: Role, session_id: &SessionId, setup: KeySetup) -> Result<(Dkg, Vec<u8>), MpcError> {
        let (setup_id, setup_role, prepared) = setup.into_parts();
        if setup_role != role {
            return Err(MpcError::Protocol("the key setup is the other party's half".into()));
        }
        let (m, f) = dkls::dkg::Run::start_with_setup(role, session_id, &setup_id, prepared)?;
        Ok((Dkg(ByScheme::Dkls(m)), f))
    }
}

impl Machine for Dkg {
    type Output = KeyShare;

    fn receive(self, message: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(self.0.receive(message)?.map(Dkg))
    }

    fn awaits_last_round(&self) -> bool {
        self.0.awaits_last_round()
    }
}

impl fmt::Debug for Dkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_debug("Dkg", f)
    }
}
