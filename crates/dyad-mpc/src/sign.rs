//! Two-party signing, whichever the scheme.

use std::fmt;

use crate::machine::ByScheme;
use crate::share::Secret;
use crate::{dkls, frost, KeyShare, Machine, MpcError, SessionId, SignInput, Signature, Transition};

/// Two-party signing. Output: the [`Signature`], which both parties compute and which has been
/// checked with the standard verifier before it is returned.
///
/// Holds this run's nonces: it must not be sent, persisted or cloned, and a run is never
/// resumed. Dropping it aborts the run for good; a retry is a new run with a new session id.
pub struct Sign(ByScheme<dkls::sign::Run, frost::sign::Run>);

impl Sign {
    /// Starts signing `input` with `share`. Both parties must use the same `session_id` (fresh
    /// for every run) and the same `input`. DKLS signs a [`SignInput::Digest`], ED25519 a
    /// [`SignInput::Message`]; anything else is [`MpcError::InputMismatch`].
    pub fn start(share: &KeyShare, session_id: &SessionId, input: &SignInput) -> Result<(Sign, Vec<u8>), MpcError> {
        let (state, message) = match (share.secret(), input) {
            (Secret::Dkls(party), SignInput::Digest(digest)) => {
                let (m, f) = dkls::sign::Run::start(party, share.role(), share.public_key(), session_id, *digest)?;
                (ByScheme::Dkls(m), f)
            }
            (
                Secret::Frost {
                    key_package,
                    public_key_package,
                },
                SignInput::Message(message),
            ) => {
                let (m, f) = frost::sign::Run::start(
                    key_package,
                    public_key_package,
                    share.role(),
                    share.public_key(),
                    session_id,
                    message,
                )?;
                (ByScheme::Frost(m), f)
            }
            _ => return Err(MpcError::InputMismatch),
        };
        Ok((Sign(state), message))
    }
}

impl Machine for Sign {
    type Output = Signature;

    fn receive(self, message: &[u8]) -> Result<Transition<Self, Signature>, MpcError> {
        Ok(self.0.receive(message)?.map(Sign))
    }

    fn awaits_last_round(&self) -> bool {
        self.0.awaits_last_round()
    }
}

impl fmt::Debug for Sign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_debug("Sign", f)
    }
}
