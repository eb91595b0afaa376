//! Share refresh for both schemes.

mod support;

use dyad_mpc::{KeyShare, MpcError, Scheme};
use support::*;

fn check_refresh(scheme: Scheme, user: &KeyShare, cloud: &KeyShare) {
    let (new_user, new_cloud) = refresh(user, cloud).unwrap();
    assert_eq!(new_user.public_key(), user.public_key(), "refresh moved the key");
    assert_eq!(new_cloud.public_key(), user.public_key(), "refresh moved the key");
    assert_eq!((new_user.role(), new_cloud.role()), (user.role(), cloud.role()));
    // Each party's secret scalar changed, and the new pair recombines to the same key...
    // (`assert!`, not `assert_ne!`: a failure must not print a secret.)
    assert!(
        new_user.danger_secret_scalar() != user.danger_secret_scalar(),
        "user share unchanged"
    );
    assert!(
        new_cloud.danger_secret_scalar() != cloud.danger_secret_scalar(),
        "cloud share unchanged"
    );
    assert_shares_of_the_key(&new_user, &new_cloud);
    // ...while an old scalar with a new one does not.
    for (u, c) in [(user, &new_cloud), (&new_user, cloud)] {
        assert_ne!(
            recombined_public_key(u, c),
            user.public_key().as_bytes(),
            "{scheme}: an old and a refreshed share recombine to the key"
        );
    }

    // New shares sign, and the standard verifier accepts.
    let input = input_for(scheme);
    let (sig, _) = sign(&new_user, &new_cloud, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();

    // An old share with a new one must not produce a valid signature, in either combination.
    for (u, c) in [(user, &new_cloud), (&new_user, cloud)] {
        let input = input_for(scheme);
        match sign(u, c, &input) {
            Err(_) => {}
            Ok((sig, _)) => assert!(
                standard_verify(&user.public_key(), &input, &sig).is_err(),
                "{scheme}: old and refreshed shares produced a valid signature"
            ),
        }
    }

    // The refreshed shares survive storage.
    let restored = KeyShare::from_bytes(&new_user.to_bytes()).unwrap();
    assert_eq!(restored.public_key(), user.public_key());
}

#[test]
fn dkls_refresh_keeps_the_key_and_retires_old_shares() {
    let (user, cloud) = dkls_pair();
    check_refresh(Scheme::Dkls, user, cloud);
}

#[test]
fn ed25519_refresh_keeps_the_key_and_retires_old_shares() {
    let (user, cloud) = ed25519_pair();
    check_refresh(Scheme::Frost, user, cloud);
}

#[test]
fn ed25519_refresh_twice() {
    let (user, cloud) = ed25519_pair();
    let (u1, c1) = refresh(user, cloud).unwrap();
    let (u2, c2) = refresh(&u1, &c1).unwrap();
    assert_eq!(u2.public_key(), user.public_key());
    assert_shares_of_the_key(&u2, &c2);
    let input = input_for(Scheme::Frost);
    let (sig, _) = sign(&u2, &c2, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();
    let mixed = sign(&u1, &c2, &input_for(Scheme::Frost));
    assert!(matches!(mixed, Err(MpcError::Protocol(_))), "{mixed:?}");
}
