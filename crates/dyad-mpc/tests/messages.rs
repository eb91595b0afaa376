//! Messages from the peer are untrusted: garbage, truncation, another round's message and tampering
//! give an error, never a panic and never a result.

mod support;

use dyad_mpc::{Dkg, Machine, MpcError, Refresh, Role, Scheme, Sign, SignInput, Transition};
use support::*;

/// Feeds `bad` to a machine waiting for round 1 and expects `Decode`.
fn expect_decode<M: Machine>(fresh: &impl Fn() -> (M, Vec<u8>), bad: &[u8], what: &str) {
    let (machine, _) = fresh();
    match machine.receive(bad) {
        Err(MpcError::Decode) => {}
        Err(other) => panic!("{what}: expected Decode, got {other}"),
        Ok(_) => panic!("{what}: accepted"),
    }
}

/// Malformed and misplaced messages, for a protocol whose parties start with `user` and `cloud`.
fn check_bad_messages<M: Machine>(user: impl Fn() -> (M, Vec<u8>), cloud: impl Fn() -> (M, Vec<u8>)) {
    let messages = messages_of(cloud(), user()); // what the cloud sends, round by round
    let first = &messages[0];

    expect_decode(&user, &[], "empty message");
    expect_decode(&user, &first[..1], "tag only");
    expect_decode(&user, &first[..first.len() - 1], "truncated by one byte");
    expect_decode(&user, &first[..first.len() / 2], "truncated by half");
    let mut longer = first.clone();
    longer.push(0);
    expect_decode(&user, &longer, "trailing byte");
    let mut garbage = random_bytes::<200>().to_vec();
    garbage[0] = first[0];
    expect_decode(&user, &garbage, "garbage after a valid tag");
    for later in &messages[1..] {
        expect_decode(&user, later, "a later round's message in round 1");
    }

    // A machine waiting for round 2 refuses round 1 again (a replay) and a truncated round 2.
    let (machine, _) = user();
    let Ok(dyad_mpc::Transition::Continue(waiting_round_2, _)) = machine.receive(first) else {
        panic!("round 1 failed");
    };
    assert!(matches!(waiting_round_2.receive(first), Err(MpcError::Decode)));
    let (machine, _) = user();
    let Ok(dyad_mpc::Transition::Continue(waiting_round_2, _)) = machine.receive(first) else {
        panic!("round 1 failed");
    };
    let second = &messages[1];
    assert!(matches!(
        waiting_round_2.receive(&second[..second.len() - 1]),
        Err(MpcError::Decode)
    ));
}

#[test]
fn dkg_bad_messages_are_decode_errors() {
    for scheme in [Scheme::Frost, Scheme::Dkls] {
        let sid = sid();
        check_bad_messages(
            || Dkg::start(scheme, Role::User, &sid).unwrap(),
            || Dkg::start(scheme, Role::Cloud, &sid).unwrap(),
        );
    }
}

#[test]
fn sign_bad_messages_are_decode_errors() {
    for (user, cloud, scheme) in [
        (&ed25519_pair().0, &ed25519_pair().1, Scheme::Frost),
        (&dkls_pair().0, &dkls_pair().1, Scheme::Dkls),
    ] {
        let sid = sid();
        let input = input_for(scheme);
        check_bad_messages(
            || Sign::start(user, &sid, &input).unwrap(),
            || Sign::start(cloud, &sid, &input).unwrap(),
        );
    }
}

#[test]
fn refresh_bad_messages_are_decode_errors() {
    let (user, cloud) = ed25519_pair();
    let sid = sid();
    check_bad_messages(
        || Refresh::start(user, &sid).unwrap(),
        || Refresh::start(cloud, &sid).unwrap(),
    );
}

#[test]
fn messages_of_another_scheme_or_protocol_are_refused() {
    let sid = sid();
    let dkls = Dkg::start(Scheme::Dkls, Role::Cloud, &sid).unwrap().1;
    let (ed_user, ed_cloud) = ed25519_pair();
    let ed_sign = Sign::start(ed_cloud, &sid, &SignInput::Message(vec![1])).unwrap().1;
    let ed_refresh = Refresh::start(ed_cloud, &sid).unwrap().1;
    let (machine, _) = Dkg::start(Scheme::Frost, Role::User, &sid).unwrap();
    assert!(matches!(machine.receive(&dkls), Err(MpcError::Decode)));
    let (machine, _) = Dkg::start(Scheme::Frost, Role::User, &sid).unwrap();
    assert!(matches!(machine.receive(&ed_sign), Err(MpcError::Decode)));
    let (machine, _) = Sign::start(ed_user, &sid, &SignInput::Message(vec![1])).unwrap();
    assert!(matches!(machine.receive(&ed_refresh), Err(MpcError::Decode)));
}

/// Every bit flip (of `bits`) at `positions` of each message party A sends in `rounds` must end
/// the run with an error: no panic, and no result.
fn check_tampering<M: Machine>(
    name: &str,
    a: impl Fn() -> (M, Vec<u8>),
    b: impl Fn() -> (M, Vec<u8>),
    rounds: std::ops::Range<usize>,
    positions: impl Fn(usize) -> Vec<usize>,
    bits: &[u8],
) {
    let lengths: Vec<usize> = messages_of(a(), b()).iter().map(Vec::len).collect();
    for round in rounds {
        let len = lengths[round];
        for pos in positions(len) {
            for &bit in bits {
                let result = run_tampered(a(), b(), round, |f| f[pos] ^= bit);
                // An error the peer's message explains (one of the kinds the SDK and server act
                // on), not one about this party's own share or input.
                assert!(
                    matches!(
                        result,
                        Err(MpcError::Decode | MpcError::Protocol(_) | MpcError::PeerMisbehaved(_))
                    ),
                    "{name}: round {round} message ({len} bytes) with byte {pos} ^ {bit:#x}: {:?}",
                    result.map(|_| "accepted")
                );
            }
        }
    }
}

fn every_byte(len: usize) -> Vec<usize> {
    (0..len).collect()
}

/// First bytes, last bytes, and evenly spread ones in between.
fn spread(count: usize) -> impl Fn(usize) -> Vec<usize> {
    move |len| {
        let mut p: Vec<usize> = (0..count).map(|i| i * len / count).collect();
        p.extend([1, 2, len - 2, len - 1]);
        p.sort_unstable();
        p.dedup();
        p
    }
}

#[test]
fn ed25519_tampering_with_any_byte_is_detected() {
    let sid = sid();
    check_tampering(
        "ED25519 DKG",
        || Dkg::start(Scheme::Frost, Role::User, &sid).unwrap(),
        || Dkg::start(Scheme::Frost, Role::Cloud, &sid).unwrap(),
        0..2,
        every_byte,
        &[0x01, 0x80],
    );
    let (user, cloud) = ed25519_pair();
    let input = input_for(Scheme::Frost);
    check_tampering(
        "ED25519 sign",
        || Sign::start(user, &sid, &input).unwrap(),
        || Sign::start(cloud, &sid, &input).unwrap(),
        0..2,
        every_byte,
        &[0x01, 0x80],
    );
    // Party A is the cloud here, so tampering hits what the user receives. The round-1 package
    // ends with a proof of knowledge (R ‖ z, 64 bytes) that the library deliberately ignores in
    // a refresh: it would prove knowledge of the zero constant term, which the commitment format
    // already forces. Every other byte is checked.
    check_tampering(
        "ED25519 refresh",
        || Refresh::start(cloud, &sid).unwrap(),
        || Refresh::start(user, &sid).unwrap(),
        0..1,
        |len| (0..len - 64).collect(),
        &[0x01, 0x80],
    );
    check_tampering(
        "ED25519 refresh",
        || Refresh::start(cloud, &sid).unwrap(),
        || Refresh::start(user, &sid).unwrap(),
        1..2,
        every_byte,
        &[0x01, 0x80],
    );
}

#[test]
fn dkls_sign_tampering_is_detected() {
    let (user, cloud) = dkls_pair();
    let sid = sid();
    let input = input_for(Scheme::Dkls);
    check_tampering(
        "DKLS sign",
        || Sign::start(user, &sid, &input).unwrap(),
        || Sign::start(cloud, &sid, &input).unwrap(),
        0..3,
        spread(24),
        &[0x01, 0x80],
    );
}

#[test]
fn dkls_dkg_tampering_is_detected() {
    // Round 1 is left out on purpose: it is the sender's random polynomial value, and a changed
    // value is just different randomness (a different, equally valid key). Only the transport's
    // authentication can tell; the later rounds commit and prove, and those are checked here.
    let sid = sid();
    // Each run is a full DKLs DKG (about a second), so only a few positions: the sender index
    // (first byte after the tag), the middle, and the last byte.
    check_tampering(
        "DKLS DKG",
        || Dkg::start(Scheme::Dkls, Role::User, &sid).unwrap(),
        || Dkg::start(Scheme::Dkls, Role::Cloud, &sid).unwrap(),
        1..3,
        |len| vec![1, len / 2, len - 1],
        &[0x01],
    );
}

#[test]
fn dkls_tampered_multiplication_data_is_cheating_not_a_mere_failure() {
    // The middle of a signing round-1 message is the OT-extension matrix of the multiplication;
    // a peer that changes it under the right session binding is the cheater DKLs asks to ban.
    let (user, cloud) = dkls_pair();
    let sid = sid();
    let input = input_for(Scheme::Dkls);
    for (name, a, b) in [("cloud", cloud, user), ("user", user, cloud)] {
        let result = run_tampered(
            Sign::start(a, &sid, &input).unwrap(),
            Sign::start(b, &sid, &input).unwrap(),
            0,
            |f| {
                let mid = f.len() / 2;
                f[mid] ^= 0x01;
            },
        );
        assert!(
            matches!(result, Err(MpcError::PeerMisbehaved(_))),
            "tampering by the {name}: {result:?}"
        );
    }
}

/// Runs both parties, checking at every step that `awaits_last_round` says exactly whether the
/// next message ends the protocol.
fn check_last_round<M: Machine>(name: &str, a: (M, Vec<u8>), b: (M, Vec<u8>)) {
    let (mut ma, mut fa) = a;
    let (mut mb, mut fb) = b;
    loop {
        let last = ma.awaits_last_round();
        assert_eq!(last, mb.awaits_last_round(), "{name}: the parties disagree");
        match (ma.receive(&fb).unwrap(), mb.receive(&fa).unwrap()) {
            (Transition::Continue(na, oa), Transition::Continue(nb, ob)) => {
                assert!(!last, "{name}: went on past the announced last round");
                (ma, mb, fa, fb) = (na, nb, oa, ob);
            }
            (Transition::Done(_), Transition::Done(_)) => {
                assert!(last, "{name}: ended on a round not announced as the last");
                return;
            }
            _ => panic!("{name}: parties finished in different rounds"),
        }
    }
}

#[test]
fn every_machine_knows_its_last_round() {
    let sid = sid();
    for scheme in [Scheme::Dkls, Scheme::Frost] {
        let (user, cloud) = match scheme {
            Scheme::Dkls => dkls_pair(),
            Scheme::Frost => ed25519_pair(),
        };
        let input = input_for(scheme);
        check_last_round(
            "sign",
            Sign::start(user, &sid, &input).unwrap(),
            Sign::start(cloud, &sid, &input).unwrap(),
        );
        check_last_round(
            "refresh",
            Refresh::start(user, &sid).unwrap(),
            Refresh::start(cloud, &sid).unwrap(),
        );
        check_last_round(
            "dkg",
            Dkg::start(scheme, Role::User, &sid).unwrap(),
            Dkg::start(scheme, Role::Cloud, &sid).unwrap(),
        );
    }
}

#[test]
fn ed25519_a_changed_signature_share_fails_the_share_check() {
    // The round-2 message ends with the signature share (a little-endian scalar); changing its
    // lowest bit keeps it a well-formed scalar, so what catches it is FROST's share check,
    // a protocol failure the SDK treats as a cheating server, not a decoding error.
    let (user, cloud) = ed25519_pair();
    let sid = sid();
    let input = input_for(Scheme::Frost);
    let result = run_tampered(
        Sign::start(cloud, &sid, &input).unwrap(),
        Sign::start(user, &sid, &input).unwrap(),
        1,
        |f| {
            let at = f.len() - 32;
            f[at] ^= 0x01;
        },
    );
    assert!(matches!(result, Err(MpcError::Protocol(_))), "{result:?}");
}
