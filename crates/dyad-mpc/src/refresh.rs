//! Share refresh (proactive re-sharing), whichever the scheme.

use std::fmt;

use crate::machine::ByScheme;
use crate::share::Secret;
use crate::{dkls, frost, KeyShare, Machine, MpcError, PublicKey, SessionId, Transition};

/// Share refresh. Output: this party's new [`KeyShare`] for the same public key. The old and
/// new shares do not combine: once both parties hold new shares and have destroyed the old
/// ones, an old share (say, a copy someone kept) is useless.
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run; the old shares stay valid until the new ones are committed.
pub struct Refresh(ByScheme<dkls::refresh::Run, frost::refresh::Run>);

impl Refresh {
    /// Starts refreshing `share`. Both parties must use the same `session_id`, fresh for every
    /// run. DKLS uses the complete refresh (new OT setup too), not the fast one.
    pub fn start(share: &KeyShare, session_id: &SessionId) -> Result<(Refresh, Vec<u8>), MpcError> {
        let (state, message) = match share.secret() {
            Secret::Dkls(party) => {
                let (m, f) = dkls::refresh::Run::start(party, share.role(), share.public_key(), session_id)?;
                (ByScheme::Dkls(m), f)
            }
            Secret::Frost {
                key_package,
                public_key_package,
            } => {
                let (m, f) = frost::refresh::Run::start(
                    key_package,
                    public_key_package,
                    share.role(),
                    share.public_key(),
                    session_id,
                )?;
                (ByScheme::Frost(m), f)
            }
        };
        Ok((Refresh(state), message))
    }
}

impl Machine for Refresh {
    type Output = KeyShare;

    fn receive(self, message: &[u8]) -> Result<Transition<Self, KeyShare>, MpcError> {
        Ok(self.0.receive(message)?.map(Refresh))
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
