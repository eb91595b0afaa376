//! The claim ceremony's sequence, written once for both parties, sans-IO. A claim rotates a
//! wallet's shares: same public key and address, a new share on each side, the old pair dead
//! once the cloud party deletes its old share.
//!
//! 1. [`Claim::refresh`]: the complete refresh of the current pair (DKLs re-runs the OT setup
//!    too; FROST a refresh DKG), session id `session_id(ceremony, Run::Refresh)`.
//! 2. [`Claim::test_signature`]: the refreshed share must be for the same public key; then the
//!    test signature key generation ends with (`Run::Confirm`, over [`crate::confirmation_input`]).
//! 3. [`TestSignature::verify`]: each party checks it on its own with the standard verifier.
//! 4. The cloud party sends `Frame::Recovery`; the user party keeps the secret and its new share
//!    and answers `Frame::Confirm`; only then does the cloud commit (new cloud share, old ones
//!    deleted, owner and key version changed, in one transaction) and answer `Done(Claimed)`.
//!    Until the commit the old pair still signs, so a claim cut short at any point leaves one
//!    working pair.

use std::sync::Arc;

use dyad_mpc::{KeyShare, MpcError, PublicKey, Refresh, Role, Sign};

use crate::ids::CeremonyId;
use crate::keygen::TestSignature;
use crate::runner::RunStart;
use crate::session::{session_id, Run};

/// Start of a claim ceremony for one party, holding nothing secret.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    role: Role,
    ceremony: CeremonyId,
    public_key: PublicKey,
}

impl Claim {
    /// The claim in ceremony `ceremony` of the wallet whose current share (this party's) is
    /// `current`.
    pub fn new(role: Role, ceremony: &CeremonyId, current: &KeyShare) -> Self {
        Self {
            role,
            ceremony: *ceremony,
            public_key: current.public_key(),
        }
    }

    /// Step 1: the refresh run of `current`.
    pub fn refresh(&self, current: Arc<KeyShare>) -> RunStart<Refresh> {
        let sid = session_id(&self.ceremony, Run::Refresh);
        RunStart::new(current.scheme(), move || Refresh::start(&current, &sid))
    }

    /// Step 2: the refresh produced `refreshed`; check it is this party's share of the same key,
    /// and start the test signature with it.
    pub fn test_signature(self, refreshed: KeyShare) -> Result<(TestSignature, RunStart<Sign>), MpcError> {
        if refreshed.public_key() != self.public_key || refreshed.role() != self.role {
            return Err(MpcError::Protocol(
                "the refreshed share is not of this wallet's key".into(),
            ));
        }
        Ok(TestSignature::start(
            self.public_key.scheme(),
            &self.ceremony,
            refreshed,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keygen::KeyGeneration;
    use dyad_mpc::Scheme;

    fn keys(scheme: Scheme) -> (KeyShare, KeyShare) {
        let c = CeremonyId::random();
        let (u, k) = (
            KeyGeneration::new(Role::User, scheme, &c),
            KeyGeneration::new(Role::Cloud, scheme, &c),
        );
        dyad_mpc::run_local(u.dkg().begin().unwrap(), k.dkg().begin().unwrap()).unwrap()
    }

    #[test]
    fn both_parties_rotate_to_new_shares_of_the_same_key_and_confirm_them() {
        for scheme in [Scheme::Dkls, Scheme::Frost] {
            let (user, cloud) = keys(scheme);
            let ceremony = CeremonyId::random();
            let cu = Claim::new(Role::User, &ceremony, &user);
            let cc = Claim::new(Role::Cloud, &ceremony, &cloud);
            let (nu, nc) = dyad_mpc::run_local(
                cu.refresh(Arc::new(user.clone())).begin().unwrap(),
                cc.refresh(Arc::new(cloud.clone())).begin().unwrap(),
            )
            .expect("refresh");
            assert_eq!(nu.public_key(), user.public_key());
            assert_ne!(nu.to_bytes()[..], user.to_bytes()[..]);
            let (tu, su) = cu.test_signature(nu).unwrap();
            let (tc, sc) = cc.test_signature(nc).unwrap();
            let (sig_u, sig_c) = dyad_mpc::run_local(su.begin().unwrap(), sc.begin().unwrap()).expect("test signature");
            assert_eq!(tu.verify(&sig_u).unwrap().public_key(), user.public_key());
            assert!(tc.verify(&sig_c).is_ok());
        }
    }

    #[test]
    fn a_share_of_another_key_is_refused_before_the_test_signature() {
        let (user, _) = keys(Scheme::Frost);
        let (other, _) = keys(Scheme::Frost);
        let claim = Claim::new(Role::User, &CeremonyId::random(), &user);
        assert!(matches!(claim.test_signature(other), Err(MpcError::Protocol(_))));
    }
}
