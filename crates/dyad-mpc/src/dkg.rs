//! Distributed key generation, whichever the scheme.

use std::fmt;

use crate::ecdsa::dkg::EcdsaDkg;
use crate::ed25519::dkg::FrostDkg;
use crate::machine::ByScheme;
use crate::{KeyShare, Machine, MpcError, Role, Scheme, Transition};

/// Distributed key generation. Output: this party's [`KeyShare`]; both parties get the same
/// public key, and neither ever sees the whole private key.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run for good.
pub struct Dkg(ByScheme<EcdsaDkg, FrostDkg>);

impl Dkg {
    /// Starts a DKG as `role`. Both parties must use the same `scheme` and `session_id` (fresh
    /// for every run) and different roles. Returns the machine and the first frame to send.
    pub fn start(scheme: Scheme, role: Role, session_id: &[u8; 32]) -> Result<(Dkg, Vec<u8>), MpcError> {
        let (state, frame) = match scheme {
            Scheme::Dkls => {
                let (m, f) = EcdsaDkg::start(role, session_id)?;
                (ByScheme::Ecdsa(m), f)
            }
            Scheme::Ed25519 => {
                let (m, f) = FrostDkg::start(role, session_id)?;
                (ByScheme::Ed25519(m), f)
            }
        };
        Ok((Dkg(state), frame))
    }
}

impl Machine for Dkg {
    type Output = KeyShare;

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(self.0.receive(frame)?.map(Dkg))
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
