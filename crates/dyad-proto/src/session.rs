//! Session ids: which protocol run of which ceremony a transcript belongs to. Both parties
//! derive the same ids from the ceremony id, so a transcript from one ceremony or run is useless
//! in another.

use sha2::{Digest, Sha256};

use dyad_mpc::SessionId;

use crate::ids::CeremonyId;

/// The protocol runs of a ceremony. Each gets its own session id, so that a transcript of one
/// run is useless in another run of the same ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Key generation's DKG.
    Dkg,
    /// The test signature that ends key generation.
    Confirm,
    /// A signature.
    Sign,
    /// A claim's share refresh (the test signature after it is `Confirm`).
    Refresh,
    /// A DKLs key setup made ahead of a key (the warm setup pool).
    KeySetup,
}

impl Run {
    /// The label the run's session id is derived with. Part of the derivation: never change one.
    pub const fn label(self) -> &'static str {
        match self {
            Run::Dkg => "dkg",
            Run::Confirm => "confirm",
            Run::Sign => "sign",
            Run::Refresh => "refresh",
            Run::KeySetup => "key-setup",
        }
    }
}

/// The session id both parties derive for one protocol run within a ceremony. Binding the
/// ceremony id means a transcript from one ceremony is useless in another; the run's label
/// separates runs within one ceremony (key generation, then the test signature).
pub fn session_id(ceremony: &CeremonyId, run: Run) -> SessionId {
    SessionId::new(derive(ceremony, run.label()))
}

/// `sha256("dyad/v1/session" ‖ be32(len(label)) ‖ label ‖ ceremony id)`.
fn derive(ceremony: &CeremonyId, label: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"dyad/v1/session");
    h.update((label.len() as u32).to_be_bytes());
    h.update(label.as_bytes());
    h.update(ceremony.0);
    h.finalize().into()
}

/// What the test signature at the end of key generation signs: a value both parties derive from
/// the ceremony id, so neither can steer it toward a transaction or message hash of its choosing.
pub fn confirmation_input(scheme: dyad_mpc::Scheme, ceremony: &CeremonyId) -> dyad_mpc::SignInput {
    let digest = derive(ceremony, "key-confirmation");
    match scheme {
        dyad_mpc::Scheme::Dkls => dyad_mpc::SignInput::Digest(dyad_mpc::Digest::new(digest)),
        dyad_mpc::Scheme::Frost => dyad_mpc::SignInput::Message(digest.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_separate_labels_and_ceremonies() {
        let a = CeremonyId::random();
        let b = CeremonyId::random();
        assert_ne!(session_id(&a, Run::Dkg), session_id(&a, Run::Confirm));
        assert_ne!(session_id(&a, Run::Confirm), session_id(&a, Run::Sign));
        assert_ne!(session_id(&a, Run::Dkg), session_id(&b, Run::Dkg));
    }

    /// Pinned to values computed outside this code (Python's hashlib over the documented
    /// layout `sha256("dyad/v1/session" ‖ be32(len(label)) ‖ label ‖ ceremony id)`): a change
    /// to the derivation would split the parties of existing deployments.
    #[test]
    fn session_ids_match_the_documented_derivation() {
        let c = CeremonyId([7; 32]);
        let hex = |id: SessionId| hex::encode(id.as_bytes());
        assert_eq!(
            hex(session_id(&c, Run::Dkg)),
            "232cfc9893aae701a1cfd1af8bf0fdc1c501de7c24657871008730439cf5136b"
        );
        assert_eq!(
            hex(session_id(&c, Run::Confirm)),
            "9f82f89a81d1d4cd986e917cb3a7712cbddca6eccc1fb6fa2ba76186276dbcae"
        );
        assert_eq!(
            hex(session_id(&c, Run::Sign)),
            "caf21bf7c2b5aa1cab7f43e3f014d34079e53892b6af5f72b529085597774359"
        );
        let digest = "c36681649c53f2492946ab267b7fa968a95278c73e66fb60ab8e0585592419ca";
        match confirmation_input(dyad_mpc::Scheme::Dkls, &c) {
            dyad_mpc::SignInput::Digest(d) => assert_eq!(hex::encode(d), digest),
            other => panic!("{other:?}"),
        }
        match confirmation_input(dyad_mpc::Scheme::Frost, &c) {
            dyad_mpc::SignInput::Message(m) => assert_eq!(hex::encode(m), digest),
            other => panic!("{other:?}"),
        }
    }
}
