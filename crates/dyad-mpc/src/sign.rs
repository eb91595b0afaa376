//! Two-party signing, whichever the scheme.

use std::fmt;

use crate::ecdsa::sign::EcdsaSign;
use crate::ed25519::sign::FrostSign;
use crate::share::Secret;
use crate::{KeyShare, Machine, MpcError, Scheme, SignInput, Signature, Transition};

/// Two-party signing. Output: the [`Signature`], which both parties compute and which has been
/// checked with the standard verifier before it is returned.
///
/// Holds this run's nonces: it must not be sent, persisted or cloned, and a run is never
/// resumed. Dropping it aborts the run for good; a retry is a new run with a new session id.
pub struct Sign(State);

enum State {
    Ecdsa(EcdsaSign),
    Ed25519(FrostSign),
}

impl Sign {
    /// Starts signing `input` with `share`. Both parties must use the same `session_id` (fresh
    /// for every run) and the same `input`. DKLS signs a [`SignInput::Digest`], ED25519 a
    /// [`SignInput::Message`]; anything else is [`MpcError::InputMismatch`].
    pub fn start(share: &KeyShare, session_id: &[u8; 32], input: &SignInput) -> Result<(Sign, Vec<u8>), MpcError> {
        let (state, frame) = match (share.secret(), input) {
            (Secret::Ecdsa(party), SignInput::Digest(digest)) => {
                let (m, f) = EcdsaSign::start(party, share.role(), share.public_key(), session_id, *digest)?;
                (State::Ecdsa(m), f)
            }
            (
                Secret::Ed25519 {
                    key_package,
                    public_key_package,
                },
                SignInput::Message(message),
            ) => {
                let (m, f) = FrostSign::start(
                    key_package,
                    public_key_package,
                    share.role(),
                    share.public_key(),
                    session_id,
                    message,
                )?;
                (State::Ed25519(m), f)
            }
            _ => return Err(MpcError::InputMismatch),
        };
        Ok((Sign(state), frame))
    }
}

impl Machine for Sign {
    type Output = Signature;

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, Signature>, MpcError> {
        Ok(match self.0 {
            State::Ecdsa(m) => m.receive(frame)?.map(|m| Sign(State::Ecdsa(m))),
            State::Ed25519(m) => m.receive(frame)?.map(|m| Sign(State::Ed25519(m))),
        })
    }
}

impl fmt::Debug for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, round) = match &self.0 {
            State::Ecdsa(m) => (Scheme::Dkls, m.round()),
            State::Ed25519(m) => (Scheme::Ed25519, m.round()),
        };
        f.debug_struct("Sign")
            .field("scheme", &format_args!("{scheme}"))
            .field("awaiting_round", &round)
            .finish_non_exhaustive()
    }
}
