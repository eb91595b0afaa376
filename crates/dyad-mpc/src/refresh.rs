//! Share refresh (proactive re-sharing), whichever the scheme.

use std::fmt;

use crate::ecdsa::refresh::EcdsaRefresh;
use crate::ed25519::refresh::FrostRefresh;
use crate::share::Secret;
use crate::{KeyShare, Machine, MpcError, Scheme, Transition};

/// Share refresh. Output: this party's new [`KeyShare`] for the same public key. The old and
/// new shares do not combine: once both parties hold new shares and have destroyed the old
/// ones, an old share (say, a copy someone kept) is useless.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run; the old shares stay valid until the new ones are committed.
pub struct Refresh(State);

enum State {
    Ecdsa(EcdsaRefresh),
    Ed25519(FrostRefresh),
}

impl Refresh {
    /// Starts refreshing `share`. Both parties must use the same `session_id`, fresh for every
    /// run. DKLS uses the complete refresh (new OT setup too), not the fast one.
    pub fn start(share: &KeyShare, session_id: &[u8; 32]) -> Result<(Refresh, Vec<u8>), MpcError> {
        let (state, frame) = match share.secret() {
            Secret::Ecdsa(party) => {
                let (m, f) = EcdsaRefresh::start(party, share.role(), share.public_key(), session_id)?;
                (State::Ecdsa(m), f)
            }
            Secret::Ed25519 {
                key_package,
                public_key_package,
            } => {
                let (m, f) = FrostRefresh::start(
                    key_package,
                    public_key_package,
                    share.role(),
                    share.public_key(),
                    session_id,
                )?;
                (State::Ed25519(m), f)
            }
        };
        Ok((Refresh(state), frame))
    }
}

impl Machine for Refresh {
    type Output = KeyShare;

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(match self.0 {
            State::Ecdsa(m) => m.receive(frame)?.map(|m| Refresh(State::Ecdsa(m))),
            State::Ed25519(m) => m.receive(frame)?.map(|m| Refresh(State::Ed25519(m))),
        })
    }
}

impl fmt::Debug for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, round) = match &self.0 {
            State::Ecdsa(m) => (Scheme::Dkls, m.round()),
            State::Ed25519(m) => (Scheme::Ed25519, m.round()),
        };
        f.debug_struct("Refresh")
            .field("scheme", &format_args!("{scheme}"))
            .field("awaiting_round", &round)
            .finish_non_exhaustive()
    }
}
