//! Share refresh (proactive re-sharing), whichever the scheme.

use std::fmt;

use crate::ecdsa::refresh::EcdsaRefresh;
use crate::ed25519::refresh::FrostRefresh;
use crate::machine::ByScheme;
use crate::share::Secret;
use crate::{KeyShare, Machine, MpcError, PublicKey, Transition};

/// Share refresh. Output: this party's new [`KeyShare`] for the same public key. The old and
/// new shares do not combine: once both parties hold new shares and have destroyed the old
/// ones, an old share (say, a copy someone kept) is useless.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run; the old shares stay valid until the new ones are committed.
pub struct Refresh(ByScheme<EcdsaRefresh, FrostRefresh>);

impl Refresh {
    /// Starts refreshing `share`. Both parties must use the same `session_id`, fresh for every
    /// run. DKLS uses the complete refresh (new OT setup too), not the fast one.
    pub fn start(share: &KeyShare, session_id: &[u8; 32]) -> Result<(Refresh, Vec<u8>), MpcError> {
        let (state, frame) = match share.secret() {
            Secret::Ecdsa(party) => {
                let (m, f) = EcdsaRefresh::start(party, share.role(), share.public_key(), session_id)?;
                (ByScheme::Ecdsa(m), f)
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
                (ByScheme::Ed25519(m), f)
            }
        };
        Ok((Refresh(state), frame))
    }
}

impl Machine for Refresh {
    type Output = KeyShare;

    fn receive(self, frame: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(self.0.receive(frame)?.map(Refresh))
    }

    fn awaits_last_round(&self) -> bool {
        self.0.awaits_last_round()
    }
}

impl fmt::Debug for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_debug("Refresh", f)
    }
}

/// The last check of either scheme's refresh: the new share must be for the old public key.
pub(crate) fn check_same_key(share: &KeyShare, old: PublicKey) -> Result<(), MpcError> {
    if share.public_key() != old {
        return Err(MpcError::Protocol("refresh changed the public key".into()));
    }
    Ok(())
}
