//! DKLs keys whose multiplication was set up ahead of time (the warm setup pool).

mod support;

use dyad_mpc::{run_local, Dkg, KeySetup, MpcError, Role, Scheme, Setup};
use support::*;

fn setup_pair() -> (KeySetup, KeySetup) {
    let id = sid();
    run_local(
        Setup::start(Role::User, &id).unwrap(),
        Setup::start(Role::Cloud, &id).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_key_on_a_setup_made_ahead_signs_and_verifies_with_k256() {
    let (user_setup, cloud_setup) = setup_pair();
    assert_eq!(user_setup.id(), cloud_setup.id());
    assert_eq!((user_setup.role(), cloud_setup.role()), (Role::User, Role::Cloud));
    let key_sid = sid();
    let (user, cloud) = run_local(
        Dkg::start_with_setup(Role::User, &key_sid, user_setup).unwrap(),
        Dkg::start_with_setup(Role::Cloud, &key_sid, cloud_setup).unwrap(),
    )
    .unwrap();
    assert_eq!(user.public_key(), cloud.public_key());
    assert_eq!(user.scheme(), Scheme::Dkls);
    assert_shares_of_the_key(&user, &cloud);
    for _ in 0..3 {
        let input = input_for(Scheme::Dkls);
        let (a, b) = sign(&user, &cloud, &input).unwrap();
        assert_eq!(a, b);
        standard_verify(&user.public_key(), &input, &a).unwrap();
    }
    // The shares are ordinary shares: stored, read back, they sign.
    let user = dyad_mpc::KeyShare::from_bytes(&user.to_bytes()).unwrap();
    let input = input_for(Scheme::Dkls);
    let (sig, _) = sign(&user, &cloud, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();
}

#[test]
fn the_key_generation_round_3_carries_no_base_ots() {
    let (user_setup, cloud_setup) = setup_pair();
    let key_sid = sid();
    let with_setup = messages_of(
        Dkg::start_with_setup(Role::User, &key_sid, user_setup).unwrap(),
        Dkg::start_with_setup(Role::Cloud, &key_sid, cloud_setup).unwrap(),
    );
    let without = messages_of(
        Dkg::start(Scheme::Dkls, Role::User, &key_sid).unwrap(),
        Dkg::start(Scheme::Dkls, Role::Cloud, &key_sid).unwrap(),
    );
    assert_eq!((with_setup.len(), without.len()), (3, 3));
    let round3 = |messages: &[Vec<u8>]| messages[2].len();
    // The base OTs are ~100 KB; what is left of round 3 is the two openings.
    assert!(round3(&with_setup) < 1_000, "{}", round3(&with_setup));
    assert!(round3(&without) > 50_000, "{}", round3(&without));
}

#[test]
fn halves_of_different_setups_make_no_key() {
    let (user_setup, _) = setup_pair();
    let (_, cloud_setup) = setup_pair();
    let key_sid = sid();
    let result = run_local(
        Dkg::start_with_setup(Role::User, &key_sid, user_setup).unwrap(),
        Dkg::start_with_setup(Role::Cloud, &key_sid, cloud_setup).unwrap(),
    );
    assert!(matches!(result, Err(MpcError::Protocol(_))), "{result:?}");
}

#[test]
fn a_setup_half_is_refused_for_the_other_role() {
    let (user_setup, _) = setup_pair();
    assert!(matches!(
        Dkg::start_with_setup(Role::Cloud, &sid(), user_setup),
        Err(MpcError::Protocol(_))
    ));
}

#[test]
fn one_side_with_a_setup_and_one_without_make_no_key() {
    let (user_setup, _) = setup_pair();
    let key_sid = sid();
    let result = run_local(
        Dkg::start_with_setup(Role::User, &key_sid, user_setup).unwrap(),
        Dkg::start(Scheme::Dkls, Role::Cloud, &key_sid).unwrap(),
    );
    assert!(result.is_err());
}

#[test]
fn a_setup_half_round_trips_its_storage_encoding_and_refuses_garbage() {
    let (user_setup, cloud_setup) = setup_pair();
    let bytes = user_setup.to_bytes();
    let back = KeySetup::from_bytes(&bytes).unwrap();
    assert_eq!(back.id(), user_setup.id());
    assert_eq!(back.role(), Role::User);
    assert_eq!(*back.to_bytes(), *bytes);
    let invalid = |b: &[u8]| matches!(KeySetup::from_bytes(b), Err(MpcError::InvalidShare));
    assert!(invalid(&[]));
    assert!(invalid(&bytes[..bytes.len() / 2]));
    assert!(invalid(&bytes[..bytes.len() - 1]));
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(invalid(&longer));
    let mut bumped = bytes.to_vec();
    bumped[0] = 2;
    assert!(invalid(&bumped));
    // A half restored from storage still makes a key with its peer.
    let key_sid = sid();
    let (user, cloud) = run_local(
        Dkg::start_with_setup(Role::User, &key_sid, back).unwrap(),
        Dkg::start_with_setup(Role::Cloud, &key_sid, cloud_setup).unwrap(),
    )
    .unwrap();
    let input = input_for(Scheme::Dkls);
    let (sig, _) = sign(&user, &cloud, &input).unwrap();
    standard_verify(&user.public_key(), &input, &sig).unwrap();
}

#[test]
fn debug_of_a_setup_half_shows_no_state() {
    let (user_setup, _) = setup_pair();
    let shown = format!("{user_setup:?}");
    assert!(shown.starts_with("KeySetup"), "{shown}");
    assert!(shown.len() < 200, "{shown}");
}

#[test]
fn a_bad_setup_message_is_refused() {
    use dyad_mpc::Machine;
    let id = sid();
    let (user, message) = Setup::start(Role::User, &id).unwrap();
    assert!(matches!(user.receive(&message[..10]), Err(MpcError::Decode)));
    // Our own message back names us as its sender: not the peer's.
    let (user, message) = Setup::start(Role::User, &id).unwrap();
    assert!(matches!(user.receive(&message), Err(MpcError::Protocol(_))));
}
