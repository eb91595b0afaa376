//! The patched `frost-core`/`frost-ed25519` (patches/frost-core/PATCHES.md): each Ed25519
//! override of a ciphersuite hook computes what upstream's arithmetic computes, on random
//! inputs and on the edges, and the signature check still refuses every changed value.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use frost_ed25519::{Ciphersuite, Ed25519Group, Ed25519Sha512, Group};
use rand_core::{OsRng, RngCore};

fn scalar() -> Scalar {
    let mut wide = [0u8; 64];
    OsRng.fill_bytes(&mut wide);
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn point() -> EdwardsPoint {
    B * scalar()
}

/// Upstream's check in `VerifyingKey::verify_prehashed`, written out with the group's own
/// cofactor (one for frost-ed25519: the check is cofactorless).
fn upstream_holds(z: &Scalar, c: &Scalar, a: &EdwardsPoint, r: &EdwardsPoint) -> bool {
    (B * z - a * c - r) * Ed25519Group::cofactor() == Ed25519Group::identity()
}

#[test]
fn the_generator_hook_is_the_generator_times_the_scalar() {
    let mut cases = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE];
    cases.extend((0..200).map(|_| scalar()));
    for s in cases {
        assert_eq!(Ed25519Sha512::mul_generator(&s), B * s);
    }
}

#[test]
fn the_multiscalar_hook_is_the_sum_of_the_products() {
    for n in [0usize, 1, 2, 3, 5] {
        for _ in 0..40 {
            let scalars: Vec<Scalar> = (0..n).map(|_| scalar()).collect();
            let points: Vec<EdwardsPoint> = (0..n).map(|_| point()).collect();
            let expected = scalars
                .iter()
                .zip(&points)
                .fold(EdwardsPoint::identity(), |sum, (s, p)| sum + p * s);
            assert_eq!(Ed25519Sha512::vartime_multiscalar_mul(&scalars, &points), expected);
        }
    }
    // Zero scalars and the identity among the points.
    let p = point();
    assert_eq!(
        Ed25519Sha512::vartime_multiscalar_mul(&[Scalar::ZERO, Scalar::ONE], &[p, EdwardsPoint::identity()]),
        EdwardsPoint::identity()
    );
}

#[test]
fn the_signature_check_hook_agrees_with_upstream_and_refuses_every_changed_value() {
    // A small-order point: the check is cofactorless, so it changes the verdict.
    let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
    assert_eq!(Ed25519Group::cofactor(), Scalar::ONE);
    for _ in 0..100 {
        // A Schnorr signature: R = k·B, z = k + c·x, public key A = x·B.
        let (x, k, c) = (scalar(), scalar(), scalar());
        let (a, r, z) = (B * x, B * k, k + c * x);
        assert!(Ed25519Sha512::vartime_signature_holds(&z, &c, &a, &r));
        assert!(upstream_holds(&z, &c, &a, &r));
        let one = Scalar::ONE;
        for (z2, c2, a2, r2) in [
            (z + one, c, a, r),
            (z, c + one, a, r),
            (z, c, a + B, r),
            (z, c, a, r + B),
            (z, c, a, r + torsion),
            (z, c, a + torsion, r),
            (z, Scalar::ZERO, torsion, r),
            (scalar(), c, a, r),
        ] {
            assert_eq!(
                Ed25519Sha512::vartime_signature_holds(&z2, &c2, &a2, &r2),
                upstream_holds(&z2, &c2, &a2, &r2)
            );
        }
        assert!(!Ed25519Sha512::vartime_signature_holds(&(z + one), &c, &a, &r));
        assert!(!Ed25519Sha512::vartime_signature_holds(&z, &(c + one), &a, &r));
        assert!(!Ed25519Sha512::vartime_signature_holds(&z, &c, &a, &(r + B)));
        assert!(!Ed25519Sha512::vartime_signature_holds(&z, &c, &a, &(r + torsion)));
    }
}
