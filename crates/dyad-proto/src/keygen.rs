//! The key generation ceremony's sequence, written once for both parties, sans-IO.
//!
//! Both sides go through the same phases; only the transport that moves each run's frames is
//! theirs. Each phase is a type, each step a function from what the previous run produced to
//! the next run to drive:
//!
//! 1. [`KeyGeneration::dkg`]: the DKG, session id `session_id(ceremony, Run::Dkg)`.
//! 2. [`KeyGeneration::test_signature`]: with the share the DKG gave, a test signature under
//!    `session_id(ceremony, Run::Confirm)` over [`confirmation_input`], a value both derive from the
//!    ceremony id (so neither party can steer it toward a hash of its choosing).
//! 3. [`TestSignature::verify`]: each party checks the signature under the new public key with
//!    the standard verifier, on its own: a key both parties cannot sign with is never used.
//! 4. Then the user party sends `Frame::Confirm` (it holds its share) and the cloud party waits
//!    for it before it commits; the cloud answers `Done(WalletCreated)`.

use std::sync::Arc;

use dyad_mpc::{Dkg, KeySetup, KeyShare, MpcError, PublicKey, Role, Scheme, Setup, Sign, SignInput, Signature};

use crate::ids::CeremonyId;
use crate::runner::RunStart;
use crate::session::{confirmation_input, session_id, Run};

/// Start of a key generation ceremony for one party.
#[derive(Clone, Copy, Debug)]
pub struct KeyGeneration {
    role: Role,
    scheme: Scheme,
    ceremony: CeremonyId,
}

impl KeyGeneration {
    /// Key generation of a `scheme` key in ceremony `ceremony`, as `role`.
    pub fn new(role: Role, scheme: Scheme, ceremony: &CeremonyId) -> Self {
        Self {
            role,
            scheme,
            ceremony: *ceremony,
        }
    }

    /// Step 1: the DKG run.
    pub fn dkg(&self) -> RunStart<Dkg> {
        let (scheme, role) = (self.scheme, self.role);
        let sid = session_id(&self.ceremony, Run::Dkg);
        RunStart::new(scheme, move || Dkg::start(scheme, role, &sid))
    }

    /// Step 1 for a DKLs key whose multiplication was set up ahead of time: the DKG run that
    /// attaches `setup` (used up by it), same session id. Both parties must hold halves of the
    /// same setup; the setup's id is bound into the run, so halves of different setups fail.
    pub fn dkg_with_setup(&self, setup: KeySetup) -> RunStart<Dkg> {
        let role = self.role;
        let sid = session_id(&self.ceremony, Run::Dkg);
        RunStart::new(self.scheme, move || Dkg::start_with_setup(role, &sid, setup))
    }

    /// Step 2: the DKG produced `share`; the test signature run, and the phase that checks it.
    pub fn test_signature(self, share: KeyShare) -> (TestSignature, RunStart<Sign>) {
        TestSignature::start(self.scheme, &self.ceremony, share)
    }
}

/// The key setup ceremony (the warm setup pool): one run of [`Setup`] as `role`, session id
/// `session_id(ceremony, Run::KeySetup)`, which both halves keep as the setup's id. The cloud
/// then seals and stores its half and answers `Done(KeySetupStored)`.
pub fn key_setup(role: Role, ceremony: &CeremonyId) -> RunStart<Setup> {
    let sid = session_id(ceremony, Run::KeySetup);
    RunStart::new(Scheme::Dkls, move || Setup::start(role, &sid))
}

/// Waiting for the test signature. Holds the new share: must not be sent, `Debug` redacts it.
pub struct TestSignature {
    share: Arc<KeyShare>,
    input: SignInput,
}

impl std::fmt::Debug for TestSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSignature").finish_non_exhaustive()
    }
}

impl TestSignature {
    /// The test signature of `ceremony` with `share`: under `session_id(ceremony, Run::Confirm)`,
    /// over [`confirmation_input`]. Key generation and claims both end with it.
    pub(crate) fn start(scheme: Scheme, ceremony: &CeremonyId, share: KeyShare) -> (TestSignature, RunStart<Sign>) {
        let share = Arc::new(share);
        let input = confirmation_input(scheme, ceremony);
        let sid = session_id(ceremony, Run::Confirm);
        let start = RunStart::sign(share.clone(), sid, input.clone());
        (TestSignature { share, input }, start)
    }

    /// Step 3: accept the key only if `signature` verifies under it with the standard verifier.
    /// Gives the share, now known to sign together with the peer's.
    pub fn verify(self, signature: &Signature) -> Result<Confirmed, MpcError> {
        self.share.public_key().verify(&self.input, signature)?;
        // The run consumed its start, and with it the only other handle: the share is never
        // copied.
        let share = Arc::try_unwrap(self.share)
            .map_err(|_| MpcError::Protocol("the test signature's run still holds the share".into()))?;
        Ok(Confirmed { share })
    }
}

/// A key both parties signed with. Holds this party's share: must not be sent.
pub struct Confirmed {
    share: KeyShare,
}

impl std::fmt::Debug for Confirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmed")
            .field("public_key", &self.share.public_key())
            .finish_non_exhaustive()
    }
}

impl Confirmed {
    /// The group public key.
    pub fn public_key(&self) -> PublicKey {
        self.share.public_key()
    }

    /// This party's share, to keep (user) or seal (cloud).
    pub fn share(&self) -> &KeyShare {
        &self.share
    }

    /// This party's share, by value.
    pub fn into_share(self) -> KeyShare {
        self.share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both parties' scripts, driven against each other in one process.
    fn run_both(scheme: Scheme) -> (Result<Confirmed, MpcError>, Result<Confirmed, MpcError>) {
        let ceremony = CeremonyId::random();
        let user = KeyGeneration::new(Role::User, scheme, &ceremony);
        let cloud = KeyGeneration::new(Role::Cloud, scheme, &ceremony);
        let (u, c) = dyad_mpc::run_local(user.dkg().begin().unwrap(), cloud.dkg().begin().unwrap()).expect("dkg");
        let (ut, us) = user.test_signature(u);
        let (ct, cs) = cloud.test_signature(c);
        let (su, sc) = dyad_mpc::run_local(us.begin().unwrap(), cs.begin().unwrap()).expect("test signature");
        (ut.verify(&su), ct.verify(&sc))
    }

    #[test]
    fn both_parties_confirm_the_same_key_for_each_scheme() {
        for scheme in [Scheme::Dkls, Scheme::Frost] {
            let (u, c) = run_both(scheme);
            let (u, c) = (u.expect("user confirms"), c.expect("cloud confirms"));
            assert_eq!(u.public_key(), c.public_key());
            assert_eq!(u.public_key().scheme(), scheme);
            assert_eq!(u.share().role(), Role::User);
            assert_eq!(c.share().role(), Role::Cloud);
        }
    }

    #[test]
    fn a_signature_over_anything_else_is_refused() {
        let ceremony = CeremonyId::random();
        let user = KeyGeneration::new(Role::User, Scheme::Frost, &ceremony);
        let cloud = KeyGeneration::new(Role::Cloud, Scheme::Frost, &ceremony);
        let (u, c) = dyad_mpc::run_local(user.dkg().begin().unwrap(), cloud.dkg().begin().unwrap()).expect("dkg");
        // A signature made in another ceremony (other input) must not confirm this one.
        let other = CeremonyId::random();
        let (_, us) = KeyGeneration::new(Role::User, Scheme::Frost, &other).test_signature(u.clone());
        let (_, cs) = KeyGeneration::new(Role::Cloud, Scheme::Frost, &other).test_signature(c);
        let (elsewhere, _) = dyad_mpc::run_local(us.begin().unwrap(), cs.begin().unwrap()).expect("signature");
        let (test, _) = user.test_signature(u);
        assert!(matches!(test.verify(&elsewhere), Err(MpcError::BadSignature)));
    }
}
