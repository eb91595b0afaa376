//! Session ids: which protocol run of which ceremony a transcript belongs to. Both parties
//! derive the same ids from the ceremony id, so a transcript from one ceremony or run is useless
//! in another.

use sha2::{Digest, Sha256};

use crate::ids::CeremonyId;

/// The 32-byte session id both parties derive for one protocol run within a ceremony. Binding
/// the ceremony id means a transcript from one ceremony is useless in another; the label
/// separates runs within one ceremony (key generation, then the test signature).
pub fn session_id(ceremony: &CeremonyId, label: &str) -> [u8; 32] {
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
    let digest = session_id(ceremony, "key-confirmation");
    match scheme {
        dyad_mpc::Scheme::Dkls => dyad_mpc::SignInput::Digest(digest),
        dyad_mpc::Scheme::Ed25519 => dyad_mpc::SignInput::Message(digest.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_separate_labels_and_ceremonies() {
        let a = CeremonyId::random();
        let b = CeremonyId::random();
        assert_ne!(session_id(&a, "dkg"), session_id(&a, "confirm"));
        assert_ne!(session_id(&a, "dkg"), session_id(&b, "dkg"));
    }

    /// Pinned to values computed outside this code (Python's hashlib over the documented
    /// layout `sha256("dyad/v1/session" ‖ be32(len(label)) ‖ label ‖ ceremony id)`): a change
    /// to the derivation would split the parties of existing deployments.
    #[test]
    fn session_ids_match_the_documented_derivation() {
        let c = CeremonyId([7; 32]);
        let hex = |b: [u8; 32]| hex::encode(b);
        assert_eq!(
            hex(session_id(&c, "dkg")),
            "232cfc9893aae701a1cfd1af8bf0fdc1c501de7c24657871008730439cf5136b"
        );
        assert_eq!(
            hex(session_id(&c, "confirm")),
            "9f82f89a81d1d4cd986e917cb3a7712cbddca6eccc1fb6fa2ba76186276dbcae"
        );
        let digest = "c36681649c53f2492946ab267b7fa968a95278c73e66fb60ab8e0585592419ca";
        match confirmation_input(dyad_mpc::Scheme::Dkls, &c) {
            dyad_mpc::SignInput::Digest(d) => assert_eq!(hex::encode(d), digest),
            other => panic!("{other:?}"),
        }
        match confirmation_input(dyad_mpc::Scheme::Ed25519, &c) {
            dyad_mpc::SignInput::Message(m) => assert_eq!(hex::encode(m), digest),
            other => panic!("{other:?}"),
        }
    }
}
