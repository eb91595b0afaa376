//! Helpers shared by the integration tests: running both parties, and checking signatures with
//! the standard verifiers directly (not through `PublicKey::verify`).
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::OnceLock;

use dyad_mpc::{
    run_local, Digest, Dkg, KeyShare, Machine, MpcError, PublicKey, Refresh, Role, Scheme, SessionId, Sign, SignInput,
    Signature, Transition,
};
use rand_core::{OsRng, RngCore};

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    OsRng.fill_bytes(&mut out);
    out
}

pub fn sid() -> SessionId {
    SessionId::new(random_bytes())
}

pub fn dkg(scheme: Scheme) -> (KeyShare, KeyShare) {
    let sid = sid();
    run_local(
        Dkg::start(scheme, Role::User, &sid).unwrap(),
        Dkg::start(scheme, Role::Cloud, &sid).unwrap(),
    )
    .unwrap()
}

/// One DKLs key pair per test binary: a DKLs DKG costs about a second.
pub fn dkls_pair() -> &'static (KeyShare, KeyShare) {
    static PAIR: OnceLock<(KeyShare, KeyShare)> = OnceLock::new();
    PAIR.get_or_init(|| dkg(Scheme::Dkls))
}

pub fn ed25519_pair() -> &'static (KeyShare, KeyShare) {
    static PAIR: OnceLock<(KeyShare, KeyShare)> = OnceLock::new();
    PAIR.get_or_init(|| dkg(Scheme::Frost))
}

pub fn sign(user: &KeyShare, cloud: &KeyShare, input: &SignInput) -> Result<(Signature, Signature), MpcError> {
    let sid = sid();
    run_local(Sign::start(user, &sid, input)?, Sign::start(cloud, &sid, input)?)
}

pub fn refresh(user: &KeyShare, cloud: &KeyShare) -> Result<(KeyShare, KeyShare), MpcError> {
    let sid = sid();
    run_local(Refresh::start(user, &sid)?, Refresh::start(cloud, &sid)?)
}

/// A sign input that fits the scheme.
pub fn input_for(scheme: Scheme) -> SignInput {
    match scheme {
        Scheme::Dkls => SignInput::Digest(Digest::new(random_bytes())),
        Scheme::Frost => SignInput::Message(random_bytes::<45>().to_vec()),
    }
}

/// Like `run_local`, but the message party `a` sends in round `round` (0 = the message from `start`)
/// is passed through `tamper` before party `b` receives it.
pub fn run_tampered<M: Machine>(
    a: (M, Vec<u8>),
    b: (M, Vec<u8>),
    round: usize,
    tamper: impl FnOnce(&mut Vec<u8>),
) -> Result<(M::Output, M::Output), MpcError> {
    let (mut machine_a, mut frame_a) = a;
    let (mut machine_b, mut frame_b) = b;
    let mut tamper = Some(tamper);
    for current in 0.. {
        if current == round {
            if let Some(f) = tamper.take() {
                f(&mut frame_a);
            }
        }
        let step_a = machine_a.receive(&frame_b)?;
        let step_b = machine_b.receive(&frame_a)?;
        match (step_a, step_b) {
            (Transition::Continue(na, fa), Transition::Continue(nb, fb)) => {
                machine_a = na;
                machine_b = nb;
                frame_a = fa;
                frame_b = fb;
            }
            (Transition::Done(oa), Transition::Done(ob)) => return Ok((oa, ob)),
            _ => panic!("parties finished in different rounds"),
        }
    }
    unreachable!()
}

/// The messages party `a` sends, round by round, in an untampered run.
pub fn messages_of<M: Machine>(a: (M, Vec<u8>), b: (M, Vec<u8>)) -> Vec<Vec<u8>> {
    let (mut machine_a, frame_a) = a;
    let (mut machine_b, mut frame_b) = b;
    let mut sent = vec![frame_a];
    loop {
        let step_a = machine_a.receive(&frame_b).unwrap();
        let step_b = machine_b.receive(sent.last().unwrap()).unwrap();
        match (step_a, step_b) {
            (Transition::Continue(na, fa), Transition::Continue(nb, fb)) => {
                machine_a = na;
                machine_b = nb;
                sent.push(fa);
                frame_b = fb;
            }
            (Transition::Done(_), Transition::Done(_)) => return sent,
            _ => panic!("parties finished in different rounds"),
        }
    }
}

/// ECDSA with k256 0.13 directly: verify_prehash, low-s, and recovery with the given id gives
/// back the key.
pub fn k256_verify(pk: &PublicKey, digest: &[u8; 32], sig: &Signature) -> Result<(), &'static str> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use k256::ecdsa::{RecoveryId, Signature as KSig, VerifyingKey};

    let Signature::Secp256k1 { r, s, recovery_id } = sig else {
        return Err("not an ECDSA signature");
    };
    let vk = VerifyingKey::from_sec1_bytes(pk.as_bytes()).map_err(|_| "bad public key")?;
    let ksig = KSig::from_scalars(*r, *s).map_err(|_| "r or s out of range")?;
    vk.verify_prehash(digest, &ksig)
        .map_err(|_| "k256 verify_prehash rejected the signature")?;
    if ksig.normalize_s().is_some() {
        return Err("signature is not low-s");
    }
    let id = RecoveryId::from_byte(*recovery_id).ok_or("recovery id out of range")?;
    if *recovery_id > 1 {
        return Err("recovery id out of range");
    }
    let recovered = VerifyingKey::recover_from_prehash(digest, &ksig, id).map_err(|_| "recovery failed")?;
    if recovered != vk {
        return Err("recovery id does not recover the signing key");
    }
    Ok(())
}

/// Ed25519 with ed25519-dalek `verify_strict` directly.
pub fn dalek_verify(pk: &PublicKey, message: &[u8], sig: &Signature) -> Result<(), &'static str> {
    let Signature::Ed25519(bytes) = sig else {
        return Err("not an Ed25519 signature");
    };
    let pk: [u8; 32] = pk.as_bytes().try_into().map_err(|_| "bad public key")?;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|_| "bad public key")?;
    vk.verify_strict(message, &ed25519_dalek::Signature::from_bytes(bytes))
        .map_err(|_| "ed25519-dalek verify_strict rejected the signature")
}

/// Standard verification of whichever scheme.
pub fn standard_verify(pk: &PublicKey, input: &SignInput, sig: &Signature) -> Result<(), &'static str> {
    match input {
        SignInput::Digest(d) => k256_verify(pk, d.as_bytes(), sig),
        SignInput::Message(m) => dalek_verify(pk, m, sig),
    }
}

/// `secret` (a share's scalar in its canonical encoding) times the scheme's generator, as the
/// standard encoding of a public key (SEC1 compressed, or compressed Edwards).
pub fn times_generator(scheme: Scheme, secret: &[u8]) -> Vec<u8> {
    match scheme {
        Scheme::Dkls => {
            let point = k256::ProjectivePoint::GENERATOR * secp256k1_scalar(secret);
            use k256::elliptic_curve::sec1::ToEncodedPoint;
            point.to_affine().to_encoded_point(true).as_bytes().to_vec()
        }
        Scheme::Frost => (curve25519_dalek::constants::ED25519_BASEPOINT_POINT * ed25519_scalar(secret))
            .compress()
            .to_bytes()
            .to_vec(),
    }
}

/// The public key the two shares are shares of, recombined from their secret scalars: the
/// shares are a degree-1 polynomial's values at the parties' indices (user 1, cloud 2), so the
/// key's secret is its value at 0, by Lagrange: p(0) = 2·p(1) − p(2). Tests only: the product
/// never brings the two scalars together.
pub fn recombined_public_key(user: &KeyShare, cloud: &KeyShare) -> Vec<u8> {
    assert_eq!((user.role(), cloud.role()), (Role::User, Role::Cloud));
    assert_eq!(user.scheme(), cloud.scheme());
    let (p1, p2) = (user.danger_secret_scalar(), cloud.danger_secret_scalar());
    match user.scheme() {
        Scheme::Dkls => {
            let (p1, p2) = (secp256k1_scalar(&p1), secp256k1_scalar(&p2));
            let secret = p1 + p1 - p2;
            times_generator(Scheme::Dkls, &secret.to_bytes())
        }
        Scheme::Frost => {
            let (p1, p2) = (ed25519_scalar(&p1), ed25519_scalar(&p2));
            let secret = p1 + p1 - p2;
            times_generator(Scheme::Frost, secret.as_bytes())
        }
    }
}

/// A canonical big-endian secp256k1 scalar.
fn secp256k1_scalar(bytes: &[u8]) -> k256::Scalar {
    use k256::elliptic_curve::PrimeField;
    Option::from(k256::Scalar::from_repr(*k256::FieldBytes::from_slice(bytes))).expect("a canonical secp256k1 scalar")
}

/// A canonical little-endian Ed25519 scalar.
fn ed25519_scalar(bytes: &[u8]) -> curve25519_dalek::Scalar {
    let bytes: [u8; 32] = bytes.try_into().expect("32 bytes");
    Option::from(curve25519_dalek::Scalar::from_canonical_bytes(bytes)).expect("a canonical Ed25519 scalar")
}

/// Checks that `user` and `cloud` are shares of exactly their public key, and that neither
/// share alone is the key (each party's scalar times the generator is not the key).
pub fn assert_shares_of_the_key(user: &KeyShare, cloud: &KeyShare) {
    let scheme = user.scheme();
    let key = user.public_key();
    assert_eq!(cloud.public_key(), key, "{scheme}: the parties disagree on the key");
    assert_eq!(
        recombined_public_key(user, cloud),
        key.as_bytes(),
        "{scheme}: the shares do not recombine to the public key"
    );
    for share in [user, cloud] {
        assert_ne!(
            times_generator(scheme, &share.danger_secret_scalar()),
            key.as_bytes(),
            "{scheme}: the {:?} share alone is the whole key",
            share.role()
        );
    }
}
