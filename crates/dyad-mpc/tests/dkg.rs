//! Key generation for both schemes, and the key share storage encoding.

mod support;

use dyad_mpc::{run_local, Dkg, KeyShare, MpcError, PublicKey, Role, Scheme};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use support::*;

fn check_pair(scheme: Scheme, user: &KeyShare, cloud: &KeyShare) {
    assert_eq!(user.scheme(), scheme);
    assert_eq!(cloud.scheme(), scheme);
    assert_eq!(user.role(), Role::User);
    assert_eq!(cloud.role(), Role::Cloud);
    assert_eq!(user.public_key(), cloud.public_key(), "parties disagree on the key");
    assert_eq!(user.public_key().scheme(), scheme);
    // The public key re-parses, so it is a valid point of the scheme.
    let pk = user.public_key();
    assert_eq!(PublicKey::from_bytes(scheme, pk.as_bytes()).unwrap(), pk);
    // The two secret scalars are shares of exactly this key, and neither alone is the key.
    assert_shares_of_the_key(user, cloud);
}

fn check_share_bytes(share: &KeyShare) {
    let bytes = share.to_bytes();
    let back = KeyShare::from_bytes(&bytes).unwrap();
    assert_eq!(back.public_key(), share.public_key());
    assert_eq!(back.role(), share.role());
    assert_eq!(back.scheme(), share.scheme());
    assert_eq!(*back.to_bytes(), *bytes, "encoding is not stable");

    // Refused afresh and with the share's own public package kept from a good read.
    let packages = dyad_mpc::PublicPackages::new();
    KeyShare::from_bytes_with(&bytes, &packages).unwrap();
    let invalid = |b: &[u8]| {
        matches!(KeyShare::from_bytes(b), Err(MpcError::InvalidShare))
            && matches!(KeyShare::from_bytes_with(b, &packages), Err(MpcError::InvalidShare))
    };
    assert!(invalid(&[]));
    assert!(invalid(&bytes[..1]));
    assert!(invalid(&bytes[..bytes.len() / 2]));
    assert!(invalid(&bytes[..bytes.len() - 1]));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(invalid(&longer), "trailing bytes accepted");
    // Format 1 (DKLs) and 2 (FROST) are the known versions: neither share reads as the other.
    let other = if bytes[0] == 1 { 2 } else { 1 };
    for version in [0u8, other, 3, 0xff] {
        let mut bumped = bytes.to_vec();
        bumped[0] = version;
        assert!(
            invalid(&bumped),
            "version {version} accepted for a share of format {}",
            bytes[0]
        );
    }
    let mut garbage = vec![bytes[0]];
    garbage.extend_from_slice(&random_bytes::<512>());
    assert!(invalid(&garbage));
}

#[test]
fn dkls_dkg_both_parties_get_the_same_key() {
    let (user, cloud) = dkls_pair();
    check_pair(Scheme::Dkls, user, cloud);
    check_share_bytes(user);
    check_share_bytes(cloud);

    // The uncompressed form is the same point.
    let pk = user.public_key();
    let uncompressed = pk.uncompressed_secp256k1().unwrap();
    let k = k256::PublicKey::from_sec1_bytes(pk.as_bytes()).unwrap();
    assert_eq!(uncompressed.as_slice(), k.to_encoded_point(false).as_bytes());
    assert_eq!(uncompressed[0], 4);
}

#[test]
fn ed25519_dkg_both_parties_get_the_same_key() {
    let (user, cloud) = ed25519_pair();
    check_pair(Scheme::Frost, user, cloud);
    check_share_bytes(user);
    check_share_bytes(cloud);
    assert!(matches!(
        user.public_key().uncompressed_secp256k1().map_err(MpcError::from),
        Err(MpcError::InvalidPublicKey)
    ));
}

#[test]
fn ed25519_dkg_gives_a_fresh_key_each_run() {
    let (a, _) = dkg(Scheme::Frost);
    let (b, _) = dkg(Scheme::Frost);
    assert_ne!(a.public_key(), b.public_key());
}

#[test]
fn share_of_one_scheme_does_not_parse_as_tampered_other() {
    // Swapping the scheme tag inside the encoding must not yield a share. Ed25519 shares are
    // format 2, which has no scheme tag; read as format 1, their first byte is that tag.
    let (user, _) = ed25519_pair();
    let mut bytes = user.to_bytes().to_vec();
    assert_eq!(bytes[0], 2);
    bytes[0] = 1;
    for tag in [0u8, 1] {
        bytes[1] = tag; // format 1's enum variant right after the version byte
        assert!(matches!(KeyShare::from_bytes(&bytes), Err(MpcError::InvalidShare)));
    }
}

#[test]
fn debug_of_key_share_is_redacted() {
    for (share, scheme) in [(&dkls_pair().0, "DKLS"), (&ed25519_pair().1, "ED25519")] {
        let debug = format!("{share:?}");
        let bytes = share.to_bytes();
        assert!(debug.contains(scheme), "{debug}");
        assert!(debug.contains(&hex::encode(share.public_key().as_bytes())), "{debug}");
        for window in [&bytes[10..20], &bytes[bytes.len() - 10..]] {
            assert!(
                !debug.contains(&hex::encode(window)),
                "Debug leaks share bytes: {debug}"
            );
        }
        assert!(debug.len() < 300, "Debug prints too much: {debug}");
    }
}

#[test]
fn both_parties_claiming_the_same_role_fail() {
    for scheme in [Scheme::Frost, Scheme::Dkls] {
        let sid = sid();
        let result = run_local(
            Dkg::start(scheme, Role::User, &sid).unwrap(),
            Dkg::start(scheme, Role::User, &sid).unwrap(),
        );
        assert!(
            matches!(result, Err(MpcError::Protocol(_))),
            "{scheme}: two users: {:?}",
            result.map(|_| "a key")
        );
    }
}

#[test]
fn different_session_ids_fail() {
    for scheme in [Scheme::Frost, Scheme::Dkls] {
        let result = run_local(
            Dkg::start(scheme, Role::User, &sid()).unwrap(),
            Dkg::start(scheme, Role::Cloud, &sid()).unwrap(),
        );
        assert!(
            matches!(result, Err(MpcError::Protocol(_))),
            "{scheme}: DKG across sessions: {:?}",
            result.map(|_| "a key")
        );
    }
}

#[test]
fn public_key_parsing_validates_points() {
    let (user, _) = dkls_pair();
    let pk = user.public_key();
    let bad = |scheme, bytes: &[u8]| {
        matches!(
            PublicKey::from_bytes(scheme, bytes).map_err(MpcError::from),
            Err(MpcError::InvalidPublicKey)
        )
    };
    // Wrong lengths, including the uncompressed form and the other scheme's length.
    assert!(bad(Scheme::Dkls, &pk.as_bytes()[..32]));
    assert!(bad(Scheme::Dkls, &pk.uncompressed_secp256k1().unwrap()));
    assert!(bad(Scheme::Frost, pk.as_bytes()));
    // Not on the curve: x = 5 has no secp256k1 point (5³ + 7 = 132 is not a square mod p).
    let mut off_curve = [0u8; 33];
    off_curve[0] = 2;
    off_curve[32] = 5;
    assert!(bad(Scheme::Dkls, &off_curve));
    let mut bad_prefix = *<&[u8; 33]>::try_from(pk.as_bytes()).unwrap();
    bad_prefix[0] = 5;
    assert!(bad(Scheme::Dkls, &bad_prefix));
    // Ed25519: the identity (small order) and a y with no x.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(bad(Scheme::Frost, &identity));
    let mut no_point = [0u8; 32];
    no_point[0] = 2;
    assert!(bad(Scheme::Frost, &no_point));

    let (ed, _) = ed25519_pair();
    assert_eq!(
        PublicKey::from_bytes(Scheme::Frost, ed.public_key().as_bytes()).unwrap(),
        ed.public_key()
    );
    assert!(format!("{:?}", ed.public_key()).contains(&hex::encode(ed.public_key().as_bytes())));
}

#[test]
fn scheme_names() {
    assert_eq!(Scheme::Dkls.to_string(), "DKLS");
    assert_eq!(Scheme::Frost.to_string(), "ED25519");
    assert_eq!(serde_json::to_string(&Scheme::Dkls).unwrap(), "\"DKLS\"");
    assert_eq!(serde_json::to_string(&Scheme::Frost).unwrap(), "\"ED25519\"");
    assert_eq!(serde_json::from_str::<Scheme>("\"ED25519\"").unwrap(), Scheme::Frost);
    assert!(serde_json::from_str::<Scheme>("\"ECDSA\"").is_err());
    assert_eq!(Role::User.peer(), Role::Cloud);
    assert_eq!((Role::User.index(), Role::Cloud.index()), (1, 2));
}
