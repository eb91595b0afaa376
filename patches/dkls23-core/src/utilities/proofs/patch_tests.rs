//! PATCH (PATCHES.md, "Tests"): tamper tests for every batched or variable-time check of this
//! patched copy, and cross-checks against upstream's code.
//!
//! The `reference_*` functions are upstream `dkls23-core` 0.6.2's own code for the same
//! checks and proofs (one equation at a time, generic multiplications, whole-message
//! hashing), kept here so that every test can say "the patched code accepts exactly what
//! upstream accepts" on valid and on tampered input.

use elliptic_curve::CurveArithmetic;
use ff::Field;
use group::{Curve as GroupCurve, CurveAffine, Group};
use rand::RngExt;

use super::*;
use crate::utilities::hashes::{
    point_to_bytes, scalar_to_bytes, tagged_hash, tagged_hash_as_point,
};
use crate::utilities::oracle_tags::{TAG_DLOG_PROOF_FISCHLIN, TAG_ENCPROOF_FS, TAG_OT_BASE_H};
use crate::utilities::ot::base::{OTReceiver, OTSender};
use crate::utilities::rng;

type K256 = k256::Secp256k1;
type P256 = p256::NistP256;

fn random_scalar<C: DklsCurve>() -> C::Scalar {
    <C::Scalar as Field>::random(&mut rng::get_rng())
}

fn plus_generator<C: DklsCurve>(point: &C::AffinePoint) -> C::AffinePoint {
    (C::ProjectivePoint::from(*point) + C::ProjectivePoint::generator()).to_affine()
}

// ----- upstream's code, for comparison -----

fn reference_cp_verify<C: DklsCurve>(
    proof: &CPProof<C>,
    rc: &RandomCommitments<C>,
    challenge: &C::Scalar,
) -> bool {
    let g = ((proof.base_g * proof.challenge_response) + (proof.point_u * *challenge)).to_affine();
    let h = ((proof.base_h * proof.challenge_response) + (proof.point_v * *challenge)).to_affine();
    g == rc.rc_g && h == rc.rc_h
}

fn enc_challenge<C: DklsCurve>(session_id: &[u8], points: [&C::AffinePoint; 8]) -> C::Scalar {
    let msg: Vec<u8> = points.iter().flat_map(|p| point_to_bytes::<C>(p)).collect();
    tagged_hash_as_scalar::<C>(TAG_ENCPROOF_FS, &[session_id, &msg])
}

fn reference_enc_verify<C: DklsCurve>(p: &EncProof<C>, session_id: &[u8]) -> bool {
    let generator = <C::AffinePoint as CurveAffine>::generator();
    if (p.proof0.base_g != generator)
        || (p.proof0.base_g != p.proof1.base_g)
        || (p.proof0.base_h != p.proof1.base_h)
        || (p.proof0.point_v != p.proof1.point_v)
        || (p.proof0.point_u
            != (C::ProjectivePoint::from(p.proof1.point_u)
                + C::ProjectivePoint::from(p.proof1.base_h))
            .to_affine())
    {
        return false;
    }
    let expected = enc_challenge::<C>(
        session_id,
        [
            &p.proof0.base_g,
            &p.proof0.base_h,
            &p.proof0.point_v,
            &p.proof0.point_u,
            &p.commitments0.rc_g,
            &p.commitments0.rc_h,
            &p.commitments1.rc_g,
            &p.commitments1.rc_h,
        ],
    );
    if expected != p.challenge0 + p.challenge1 {
        return false;
    }
    reference_cp_verify(&p.proof0, &p.commitments0, &p.challenge0)
        && reference_cp_verify(&p.proof1, &p.commitments1, &p.challenge1)
}

/// Upstream's `EncProof::prove`, built from the `CPProof` steps it used (branching on the bit
/// is fine in a test).
fn reference_enc_prove<C: DklsCurve>(
    session_id: &[u8],
    base_h: &C::AffinePoint,
    scalar: &C::Scalar,
    bit: bool,
) -> EncProof<C> {
    let base_g = <C::AffinePoint as CurveAffine>::generator();
    let u = (*base_h * *scalar).to_affine();
    let h = C::ProjectivePoint::from(*base_h);
    let gs = base_g * *scalar;
    let v = if bit {
        (gs + h).to_affine()
    } else {
        gs.to_affine()
    };
    let fake_v = if bit { v } else { (gs - h).to_affine() };
    let (k, real_rc) = CPProof::<C>::prove_step1(&base_g, base_h);
    let (fake_rc, fake_c, fake_proof) = CPProof::<C>::simulate(&base_g, base_h, &fake_v, &u);
    let (first, second) = if bit {
        (&fake_rc, &real_rc)
    } else {
        (&real_rc, &fake_rc)
    };
    let challenge = enc_challenge::<C>(
        session_id,
        [
            &base_g,
            base_h,
            &u,
            &v,
            &first.rc_g,
            &first.rc_h,
            &second.rc_g,
            &second.rc_h,
        ],
    );
    let real_c = challenge - fake_c;
    let real_proof = CPProof::<C>::prove_step2(&base_g, base_h, scalar, &k, &real_c);
    if bit {
        EncProof {
            proof0: fake_proof,
            proof1: real_proof,
            commitments0: fake_rc,
            commitments1: real_rc,
            challenge0: fake_c,
            challenge1: real_c,
        }
    } else {
        EncProof {
            proof0: real_proof,
            proof1: fake_proof,
            commitments0: real_rc,
            commitments1: fake_rc,
            challenge0: real_c,
            challenge1: fake_c,
        }
    }
}

fn reference_dlog_verify<C: DklsCurve>(proof: &DLogProof<C>, session_id: &[u8]) -> bool {
    if proof.rand_commitments.len() != R as usize || proof.proofs.len() != R as usize {
        return false;
    }
    let rcs: Vec<Vec<u8>> = proof
        .rand_commitments
        .iter()
        .map(|x| point_to_bytes::<C>(x))
        .collect();
    let mut seen = std::collections::HashSet::new();
    if !rcs.iter().all(|x| seen.insert(x.clone())) {
        return false;
    }
    let rc_as_bytes = rcs.concat();
    let generator = <C::AffinePoint as CurveAffine>::generator();
    let hash = |i: u16| {
        let p = &proof.proofs[i as usize];
        let msg = [
            &point_to_bytes::<C>(&generator),
            &rc_as_bytes[..],
            &i.to_be_bytes(),
            &p.challenge,
            &scalar_to_bytes::<C>(&p.challenge_response),
        ]
        .concat();
        tagged_hash(TAG_DLOG_PROOF_FISCHLIN, &[session_id, &msg])[0..(L / 4) as usize].to_vec()
    };
    let one = |i: usize| {
        let p = &proof.proofs[i];
        if p.challenge.is_empty() || p.challenge.len() > (T / 8) as usize {
            return false;
        }
        let c = challenge_to_scalar::<C>(&p.challenge);
        ((generator * p.challenge_response) + (proof.point * c)).to_affine()
            == proof.rand_commitments[i]
    };
    (0..R / 2).all(|i| hash(i) == hash(i + R / 2) && one(i as usize) && one((i + R / 2) as usize))
}

// ----- a batch of encryption proofs as the base OT makes them -----

struct Batch<C: DklsCurve> {
    session_ids: Vec<Vec<u8>>,
    proofs: Vec<EncProof<C>>,
}

impl<C: DklsCurve> Batch<C> {
    fn new(n: u16) -> Self {
        let sid: [u8; 32] = rng::get_rng().random();
        let seed: [u8; 32] = rng::get_rng().random();
        let mut session_ids = Vec::new();
        let mut proofs = Vec::new();
        for i in 0..n {
            let current = [&i.to_be_bytes()[..], &sid].concat();
            let h = tagged_hash_as_point::<C>(TAG_OT_BASE_H, &[&current, &seed]);
            let bit = rng::get_rng().random::<bool>();
            proofs.push(EncProof::prove(&current, &h, &random_scalar::<C>(), bit));
            session_ids.push(current);
        }
        Batch {
            session_ids,
            proofs,
        }
    }

    fn verify(&self) -> bool {
        let items: Vec<(&EncProof<C>, &[u8])> = self
            .proofs
            .iter()
            .zip(&self.session_ids)
            .map(|(p, s)| (p, s.as_slice()))
            .collect();
        EncProof::verify_batch(&items)
    }

    fn reference(&self, i: usize) -> bool {
        reference_enc_verify(&self.proofs[i], &self.session_ids[i])
    }
}

/// Every way of changing one proof that a verifier must catch. Each keeps the Fiat-Shamir
/// challenge valid where it can (responses and the split of the challenge are not hashed), so
/// that the multi-scalar check itself, not the hash, has to catch them.
/// A named change to one proof.
type Tamper<C> = (&'static str, fn(&mut EncProof<C>));

fn tampers<C: DklsCurve>() -> Vec<Tamper<C>> {
    vec![
        ("response 0", |p| {
            p.proof0.challenge_response += <C::Scalar as Field>::ONE
        }),
        ("response 1", |p| {
            p.proof1.challenge_response += <C::Scalar as Field>::ONE
        }),
        ("challenge split", |p| {
            p.challenge0 += <C::Scalar as Field>::ONE;
            p.challenge1 -= <C::Scalar as Field>::ONE;
        }),
        ("commitment 0 g", |p| {
            p.commitments0.rc_g = plus_generator::<C>(&p.commitments0.rc_g)
        }),
        ("commitment 0 h", |p| {
            p.commitments0.rc_h = plus_generator::<C>(&p.commitments0.rc_h)
        }),
        ("commitment 1 g", |p| {
            p.commitments1.rc_g = plus_generator::<C>(&p.commitments1.rc_g)
        }),
        ("commitment 1 h", |p| {
            p.commitments1.rc_h = plus_generator::<C>(&p.commitments1.rc_h)
        }),
        ("v in both proofs", |p| {
            p.proof0.point_u = plus_generator::<C>(&p.proof0.point_u);
            p.proof1.point_u = plus_generator::<C>(&p.proof1.point_u);
        }),
        ("u in both proofs", |p| {
            p.proof0.point_v = plus_generator::<C>(&p.proof0.point_v);
            p.proof1.point_v = p.proof0.point_v;
        }),
        ("h in both proofs", |p| {
            p.proof0.base_h = plus_generator::<C>(&p.proof0.base_h);
            p.proof1.base_h = p.proof0.base_h;
            p.proof1.point_u = (C::ProjectivePoint::from(p.proof0.point_u)
                - C::ProjectivePoint::from(p.proof1.base_h))
            .to_affine();
        }),
        ("u only in proof 1", |p| {
            p.proof1.point_v = plus_generator::<C>(&p.proof1.point_v)
        }),
        ("g", |p| {
            p.proof0.base_g = plus_generator::<C>(&p.proof0.base_g);
            p.proof1.base_g = p.proof0.base_g;
        }),
    ]
}

fn enc_batch_catches_every_single_tamper<C: DklsCurve>() {
    let n = 48u16;
    let clean = Batch::<C>::new(n);
    assert!(clean.verify(), "an honest batch passes");
    for i in 0..n as usize {
        assert!(
            clean.reference(i),
            "upstream accepts the patched prover's proof {i}"
        );
    }
    for (name, tamper) in tampers::<C>() {
        for at in [0, n as usize / 2, n as usize - 1] {
            let mut batch = Batch::<C> {
                session_ids: clean.session_ids.clone(),
                proofs: clean.proofs.clone(),
            };
            tamper(&mut batch.proofs[at]);
            assert!(!batch.reference(at), "upstream rejects the tamper {name}");
            assert!(
                !batch.verify(),
                "one bad proof ({name}) at {at} of {n} fails the batch"
            );
        }
    }
}

#[test]
fn enc_batch_catches_every_single_tamper_k256() {
    enc_batch_catches_every_single_tamper::<K256>();
}

#[test]
fn enc_batch_catches_every_single_tamper_p256() {
    enc_batch_catches_every_single_tamper::<P256>();
}

/// A response moved by `+d` in one half of a proof and by `-d` in the other cancels in the
/// unweighted sum of its four equations (`g*d + h*d - g*d - h*d`): a batch check without
/// random weights would pass it. The weighted check catches it, and a pair of changes across
/// two proofs.
#[test]
fn enc_batch_weights_catch_tampers_that_cancel() {
    let d = random_scalar::<K256>();
    let clean = Batch::<K256>::new(8);
    assert!(unweighted_sum_is_identity(&clean));

    let mut within = Batch::<K256> {
        session_ids: clean.session_ids.clone(),
        proofs: clean.proofs.clone(),
    };
    within.proofs[3].proof0.challenge_response += d;
    within.proofs[3].proof1.challenge_response -= d;
    assert!(
        unweighted_sum_is_identity(&within),
        "the tamper cancels without weights"
    );
    assert!(!within.reference(3));
    assert!(!within.verify());

    let mut across = Batch::<K256> {
        session_ids: clean.session_ids.clone(),
        proofs: clean.proofs.clone(),
    };
    across.proofs[2].proof0.challenge_response += d;
    across.proofs[5].proof0.challenge_response -= d;
    assert!(!across.reference(2) && !across.reference(5));
    assert!(!across.verify());
}

/// `sum_j E_j` over the four equations of every proof, each with weight 1.
fn unweighted_sum_is_identity(batch: &Batch<K256>) -> bool {
    type P = <K256 as CurveArithmetic>::ProjectivePoint;
    type A = <K256 as CurveArithmetic>::AffinePoint;
    type S = <K256 as CurveArithmetic>::Scalar;
    let eq =
        |base: &A, s: &S, point: &A, c: &S, rc: &A| (*base * *s) + (*point * *c) - P::from(*rc);
    let mut sum = P::identity();
    for p in &batch.proofs {
        let (p0, p1) = (&p.proof0, &p.proof1);
        sum += eq(
            &p0.base_g,
            &p0.challenge_response,
            &p0.point_u,
            &p.challenge0,
            &p.commitments0.rc_g,
        );
        sum += eq(
            &p0.base_h,
            &p0.challenge_response,
            &p0.point_v,
            &p.challenge0,
            &p.commitments0.rc_h,
        );
        sum += eq(
            &p1.base_g,
            &p1.challenge_response,
            &p1.point_u,
            &p.challenge1,
            &p.commitments1.rc_g,
        );
        sum += eq(
            &p1.base_h,
            &p1.challenge_response,
            &p1.point_v,
            &p.challenge1,
            &p.commitments1.rc_h,
        );
    }
    bool::from(sum.is_identity())
}

#[test]
fn upstream_enc_proofs_pass_the_patched_verifier_and_tampered_ones_fail() {
    for curve_round in 0..16u8 {
        let sid = [curve_round; 32];
        let h = tagged_hash_as_point::<K256>(TAG_OT_BASE_H, &[&sid, b"h"]);
        let bit = curve_round % 2 == 1;
        let proof = reference_enc_prove::<K256>(&sid, &h, &random_scalar::<K256>(), bit);
        assert!(reference_enc_verify(&proof, &sid));
        assert!(proof.verify(&sid));
        assert!(
            !proof.verify(&[curve_round ^ 1; 32]),
            "another session id fails"
        );
        for (name, tamper) in tampers::<K256>() {
            let mut bad = proof.clone();
            tamper(&mut bad);
            assert_eq!(bad.verify(&sid), reference_enc_verify(&bad, &sid), "{name}");
            assert!(!bad.verify(&sid), "{name}");
        }
    }
}

// ----- DLog proofs (Fischlin) -----

fn dlog_matches_upstream<C: DklsCurve>() {
    let sid: [u8; 32] = rng::get_rng().random();
    let proof = DLogProof::<C>::prove(&random_scalar::<C>(), &sid).expect("proof");
    assert!(
        reference_dlog_verify(&proof, &sid),
        "upstream accepts the patched prover's proof"
    );
    assert!(DLogProof::verify(&proof, &sid));

    let mut other_point = proof.clone();
    other_point.point = plus_generator::<C>(&proof.point);
    assert!(!reference_dlog_verify(&other_point, &sid));
    assert!(
        !DLogProof::verify(&other_point, &sid),
        "a proof for another point fails"
    );

    let mut short = proof.clone();
    short.proofs[7].challenge.pop();
    assert!(!reference_dlog_verify(&short, &sid));
    assert!(
        !DLogProof::verify(&short, &sid),
        "a shorter challenge fails"
    );

    let mut empty = proof.clone();
    empty.proofs[R as usize - 1].challenge.clear();
    assert!(!DLogProof::verify(&empty, &sid), "an empty challenge fails");
}

#[test]
fn dlog_proofs_match_upstream_k256() {
    dlog_matches_upstream::<K256>();
}

#[test]
fn dlog_proofs_match_upstream_p256() {
    dlog_matches_upstream::<P256>();
}

/// The batched Schnorr equations, reached directly (a changed response would otherwise be
/// caught first by the Fischlin hash): one bad equation among the 64 fails, and so does a pair
/// of changes that cancels without weights.
#[test]
fn dlog_batch_catches_one_bad_equation_and_cancelling_pairs() {
    let sid: [u8; 32] = rng::get_rng().random();
    let proof = DLogProof::<K256>::prove(&random_scalar::<K256>(), &sid).expect("proof");
    assert!(DLogProof::equations_hold(&proof));
    for at in [0usize, 31, 32, 63] {
        let mut bad = proof.clone();
        bad.proofs[at].challenge_response += <<K256 as CurveArithmetic>::Scalar as Field>::ONE;
        assert!(!DLogProof::equations_hold(&bad), "one bad response at {at}");
        let mut bad = proof.clone();
        bad.rand_commitments[at] = plus_generator::<K256>(&bad.rand_commitments[at]);
        assert!(
            !DLogProof::equations_hold(&bad),
            "one bad commitment at {at}"
        );
    }
    let d = random_scalar::<K256>();
    let mut pair = proof.clone();
    pair.proofs[3].challenge_response += d;
    pair.proofs[40].challenge_response -= d;
    assert!(!DLogProof::equations_hold(&pair), "a cancelling pair fails");
}

// ----- the base OT, end to end -----

/// A receiver that sends one bad encryption proof among 256 makes the sender's batch phase
/// fail; the honest run gives both sides matching messages.
#[test]
fn base_ot_sender_rejects_one_bad_proof_in_256() {
    let sid: [u8; 32] = rng::get_rng().random();
    let sender = OTSender::<K256>::init(&sid);
    let receiver = OTReceiver::init();
    let bits: Vec<bool> = (0..256).map(|_| rng::get_rng().random()).collect();
    let (rs, proofs) = receiver
        .run_phase1_batch::<K256>(&sid, &bits)
        .expect("phase 1");

    let (m0, m1) = sender
        .run_phase2_batch(&sid, &receiver.seed, &proofs)
        .expect("honest batch");
    let mb = receiver
        .run_phase2_batch::<K256>(&sid, &rs, &sender.run_phase1())
        .expect("honest dlog proof");
    for i in 0..256 {
        assert_eq!(mb[i], if bits[i] { m1[i] } else { m0[i] }, "OT {i}");
        assert_ne!(m0[i], m1[i]);
    }

    for at in [0usize, 200, 255] {
        let mut bad = proofs.clone();
        bad[at].proof1.challenge_response += <<K256 as CurveArithmetic>::Scalar as Field>::ONE;
        assert!(
            sender.run_phase2_batch(&sid, &receiver.seed, &bad).is_err(),
            "bad proof at {at}"
        );
    }
    // A proof made for another OT index (its h) is caught too.
    let mut swapped = proofs.clone();
    swapped.swap(10, 11);
    assert!(sender
        .run_phase2_batch(&sid, &receiver.seed, &swapped)
        .is_err());
}

/// The streamed and prefix-cached hashing gives upstream's bytes: `len(tag)||tag||len(c)||c...`
/// hashed whole.
#[test]
fn tagged_hasher_hashes_the_upstream_encoding() {
    use sha2::{Digest, Sha256};
    let components: [&[u8]; 3] = [b"session", &[7u8; 100], b""];
    let mut whole = Vec::new();
    for part in [&b"tag"[..]].iter().chain(components.iter()) {
        whole.extend_from_slice(&(part.len() as u64).to_be_bytes());
        whole.extend_from_slice(part);
    }
    let expected: [u8; 32] = Sha256::digest(&whole).into();
    assert_eq!(tagged_hash(b"tag", &components), expected);

    let mut split = TaggedHasher::new(b"tag");
    split.component(b"session");
    split.open_component(100);
    let prefix = split.clone();
    split.bytes(&[7u8; 60]);
    split.bytes(&[7u8; 40]);
    split.component(b"");
    assert_eq!(split.finish(), expected);
    let mut again = prefix;
    again.bytes(&[7u8; 100]);
    again.component(b"");
    assert_eq!(
        again.finish(),
        expected,
        "a cloned prefix gives the same hash"
    );
}
