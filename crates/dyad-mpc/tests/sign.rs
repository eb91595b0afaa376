//! Signing for both schemes, checked with the standard verifiers directly.

mod support;

use dyad_mpc::{Digest, KeyShare, MpcError, Scheme, Sign, SignInput, Signature};
use support::*;

/// secp256k1 group order n, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc,
    0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// n − s, big-endian (the high-s twin of a signature).
fn negate(s: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

#[test]
fn dkls_signatures_verify_with_k256() {
    let (user, cloud) = dkls_pair();
    let pk = user.public_key();
    let mut ids_seen = [false; 2];
    // Enough runs that both recovery ids occur (and s needed normalizing in about half of them)
    // except with probability 2⁻²³.
    for _ in 0..24 {
        let digest: [u8; 32] = random_bytes();
        let input = SignInput::Digest(Digest::new(digest));
        let (a, b) = sign(user, cloud, &input).unwrap();
        assert_eq!(a, b, "parties computed different signatures");
        k256_verify(&pk, &digest, &a).unwrap();
        pk.verify(&input, &a).unwrap();

        let Signature::Secp256k1 { r, s, recovery_id } = a.clone() else {
            panic!("DKLS gave a non-ECDSA signature");
        };
        ids_seen[usize::from(recovery_id)] = true;

        // Another digest, the other recovery id, and the high-s twin are all rejected.
        let mut other = digest;
        other[0] ^= 1;
        assert!(k256_verify(&pk, &other, &a).is_err());
        assert!(matches!(
            pk.verify(&SignInput::Digest(Digest::new(other)), &a)
                .map_err(MpcError::from),
            Err(MpcError::BadSignature)
        ));
        let flipped = Signature::Secp256k1 {
            r,
            s,
            recovery_id: recovery_id ^ 1,
        };
        assert!(k256_verify(&pk, &digest, &flipped).is_err());
        assert!(matches!(
            pk.verify(&input, &flipped).map_err(MpcError::from),
            Err(MpcError::BadSignature)
        ));
        let high = Signature::Secp256k1 {
            r,
            s: negate(&s),
            recovery_id: recovery_id ^ 1,
        };
        assert!(
            matches!(
                pk.verify(&input, &high).map_err(MpcError::from),
                Err(MpcError::BadSignature)
            ),
            "high-s accepted"
        );
        // Wrong input kind for the key.
        assert!(matches!(
            pk.verify(&SignInput::Message(digest.to_vec()), &a)
                .map_err(MpcError::from),
            Err(MpcError::InputMismatch)
        ));
    }
    assert!(ids_seen[0] && ids_seen[1], "only one recovery id ever seen");
}

#[test]
fn ed25519_signatures_verify_with_dalek() {
    let (user, cloud) = ed25519_pair();
    let pk = user.public_key();
    for message in [
        Vec::new(),
        b"hello".to_vec(),
        random_bytes::<32>().to_vec(),
        vec![7u8; 5000],
    ] {
        let input = SignInput::Message(message.clone());
        let (a, b) = sign(user, cloud, &input).unwrap();
        assert_eq!(a, b, "parties computed different signatures");
        dalek_verify(&pk, &message, &a).unwrap();
        pk.verify(&input, &a).unwrap();

        let mut other = message.clone();
        other.push(0);
        assert!(dalek_verify(&pk, &other, &a).is_err());
        assert!(matches!(
            pk.verify(&SignInput::Message(other), &a).map_err(MpcError::from),
            Err(MpcError::BadSignature)
        ));
        let Signature::Ed25519(mut bytes) = a else {
            panic!("ED25519 gave a non-Ed25519 signature");
        };
        bytes[40] ^= 1;
        assert!(matches!(
            pk.verify(&input, &Signature::Ed25519(bytes)).map_err(MpcError::from),
            Err(MpcError::BadSignature)
        ));
    }
}

#[test]
fn sign_input_must_fit_the_scheme() {
    let dkls = &dkls_pair().0;
    let ed = &ed25519_pair().0;
    let sid = sid();
    assert!(matches!(
        Sign::start(dkls, &sid, &SignInput::Message(b"raw".to_vec())),
        Err(MpcError::InputMismatch)
    ));
    assert!(matches!(
        Sign::start(ed, &sid, &SignInput::Digest(Digest::new([1; 32]))),
        Err(MpcError::InputMismatch)
    ));
}

#[test]
fn parties_signing_different_inputs_get_no_signature() {
    for (user, cloud, scheme) in [
        (&dkls_pair().0, &dkls_pair().1, Scheme::Dkls),
        (&ed25519_pair().0, &ed25519_pair().1, Scheme::Frost),
    ] {
        let sid = sid();
        let result = dyad_mpc::run_local(
            Sign::start(user, &sid, &input_for(scheme)).unwrap(),
            Sign::start(cloud, &sid, &input_for(scheme)).unwrap(),
        );
        assert!(
            matches!(result, Err(MpcError::Protocol(_))),
            "{scheme}: two different inputs: {:?}",
            result.map(|_| "a signature")
        );
    }
}

#[test]
fn shares_of_different_keys_do_not_sign() {
    // A user share from one key with a cloud share from another.
    let (other_user, _) = dkg(Scheme::Frost);
    let input = input_for(Scheme::Frost);
    let result = sign(&other_user, &ed25519_pair().1, &input);
    assert!(matches!(result, Err(MpcError::Protocol(_))), "{result:?}");
}

#[test]
fn signature_serde_roundtrip() {
    let (user, cloud) = ed25519_pair();
    let (ed_sig, _) = sign(user, cloud, &input_for(Scheme::Frost)).unwrap();
    let (user, cloud) = dkls_pair();
    let (ec_sig, _) = sign(user, cloud, &input_for(Scheme::Dkls)).unwrap();
    for sig in [ed_sig, ec_sig] {
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
        let bin = postcard::to_allocvec(&sig).unwrap();
        assert_eq!(postcard::from_bytes::<Signature>(&bin).unwrap(), sig);
    }
    // 65 elements where 64 are expected is refused.
    let long = format!("{{\"Ed25519\":{:?}}}", vec![1u8; 65]);
    assert!(serde_json::from_str::<Signature>(&long).is_err());
    let short = format!("{{\"Ed25519\":{:?}}}", vec![1u8; 63]);
    assert!(serde_json::from_str::<Signature>(&short).is_err());
    for input in [SignInput::Digest(Digest::new([3; 32])), SignInput::Message(vec![1, 2])] {
        let json = serde_json::to_string(&input).unwrap();
        assert_eq!(serde_json::from_str::<SignInput>(&json).unwrap(), input);
    }
}

#[test]
fn a_share_restored_from_bytes_signs() {
    let (user, cloud) = dkls_pair();
    let user = KeyShare::from_bytes(&user.to_bytes()).unwrap();
    let input = input_for(Scheme::Dkls);
    let (sig, _) = sign(&user, cloud, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();

    let (user, cloud) = ed25519_pair();
    let cloud = KeyShare::from_bytes(&cloud.to_bytes()).unwrap();
    let input = input_for(Scheme::Frost);
    let (sig, _) = sign(user, &cloud, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();
}
