//! Distributed key generation, whichever the scheme.

use std::fmt;

use crate::ecdsa::dkg::EcdsaDkg;
use crate::ed25519::dkg::FrostDkg;
use crate::{KeyShare, Machine, MpcError, Role, Scheme, Transition};

/// Distributed key generation. Output: this party's [`KeyShare`]; both parties get the same
/// public key, and neither ever sees the whole private key.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run for good.
pub struct Dkg(State);

enum State {
    Ecdsa(EcdsaDkg),
    Ed25519(FrostDkg),
}

impl Dkg {
    /// Starts a DKG as `role`. Both parties must use the same `scheme` and `session_id` (fresh
    /// for every run) and different roles. Returns the machine and the first frame to send.
    pub fn start(scheme: Scheme, role: Role, session_id: &[u8; 32]) -> Result<(Dkg, Vec<u8>), MpcError> {
        let (state, frame) = match scheme {
            Scheme::Dkls => {
                let (m, f) = EcdsaDkg::start(role, session_id)?;
                (State::Ecdsa(m), f)
            }
            Scheme::Ed25519 => {
                let (m, f) = FrostDkg::start(role, session_id)?;
                (State::Ed25519(m), f)
            }
        };
        Ok((Dkg(state), frame))
    }
}

impl Machine for Dkg {
    type Output = KeyShare;

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(match self.0 {
            State::Ecdsa(m) => m.receive(frame)?.map(|m| Dkg(State::Ecdsa(m))),
            State::Ed25519(m) => m.receive(frame)?.map(|m| Dkg(State::Ed25519(m))),
        })
    }
}

impl fmt::Debug for Dkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, round) = match &self.0 {
            State::Ecdsa(m) => (Scheme::Dkls, m.round()),
            State::Ed25519(m) => (Scheme::Ed25519, m.round()),
        };
        f.debug_struct("Dkg")
            .field("scheme", &format_args!("{scheme}"))
            .field("awaiting_round", &round)
            .finish_non_exhaustive()
    }
}
