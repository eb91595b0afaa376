//! Ceremonies under attack, driven by hand over a real WebSocket: a tampered, truncated,
//! garbage, reordered or oversized frame aborts the ceremony with an error, and key generation
//! leaves no wallet behind.

mod support;

use dyad_mpc::{Dkg, Role, Scheme};
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{session_id, ErrorCode, Frame, KeyGeneration, Run, WalletType};
use dyad_test_support::email;
use serde_json::{json, Value};
use support::{connect_ceremony, frame_over_the_cap, Manual, RawNoise, TestServer};

#[derive(Clone, Copy, Debug)]
enum Attack {
    FlipBit,
    Truncate,
    GarbageRound,
    WrongRoundMessage,
}

async fn attack(attack: Attack, wallet_type: &str, scheme: Scheme) {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let who = "victim@example.com";
    let resp = t.post_wallet(&key, who, wallet_type).await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();

    let mut client = Manual::connect(&t.url(), &ticket).await;
    let sid = session_id(&ticket.ceremony_id, Run::Dkg);
    let (_, first) = Dkg::start(scheme, Role::User, &sid).unwrap();
    let sealed = match attack {
        Attack::FlipBit => {
            let mut s = client.channel.seal(&Frame::Protocol(first.into()).to_bytes()).unwrap();
            let mid = s.len() / 2;
            s[mid] ^= 0x01;
            s
        }
        Attack::Truncate => {
            let s = client.channel.seal(&Frame::Protocol(first.into()).to_bytes()).unwrap();
            s[..s.len() - 7].to_vec()
        }
        // Properly encrypted, but not a round message: a malicious client, not a broken network.
        Attack::GarbageRound => client
            .channel
            .seal(&Frame::Protocol(vec![0xff; 40].into()).to_bytes())
            .unwrap(),
        Attack::WrongRoundMessage => client.channel.seal(&Frame::Confirm.to_bytes()).unwrap(),
    };
    client.send_sealed(sealed).await;
    assert_eq!(client.abort_code().await, ErrorCode::CeremonyAborted, "{attack:?}");

    // No wallet, visible or pending: the identifier is free again at once.
    let list: Value = t
        .get(&key, &format!("/v1/wallets?email={who}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["wallets"], json!([]));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets").await,
        0,
        "{attack:?} left a wallet row"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM cloud_shares").await, 0);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_log WHERE action = 'wallet.create_failed'")
            .await,
        1
    );

    // The ceremony id is spent: a second connection is refused.
    let again = connect_ceremony(&t.url(), &ticket.ceremony_id).await;
    assert!(matches!(&again, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404));

    // And a new, honest attempt for the same identifier works.
    let dyad = dyad_sdk::Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(wallet_type.parse().unwrap(), &email(who))
        .await
        .unwrap();
    assert_eq!(w.wallet_type.as_str(), wallet_type);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_frame_aborts_dkls_keygen() {
    attack(Attack::FlipBit, "EVM", Scheme::Dkls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frame_aborts_dkls_keygen() {
    attack(Attack::Truncate, "COSMOS", Scheme::Dkls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_round_aborts_ed25519_keygen() {
    attack(Attack::GarbageRound, "SOLANA", Scheme::Frost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_frame_aborts_ed25519_keygen() {
    attack(Attack::FlipBit, "STELLAR", Scheme::Frost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_frame_aborts_keygen() {
    attack(Attack::WrongRoundMessage, "EVM", Scheme::Dkls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_keygen_is_a_conflict_until_it_fails() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let first = t.post_wallet(&key, "race@example.com", "EVM").await;
    assert_eq!(first.status().as_u16(), 201);
    let ticket: CeremonyTicket = first.json().await.unwrap();
    let second = t.post_wallet(&key, "race@example.com", "EVM").await;
    assert_eq!(second.status().as_u16(), 409);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["code"], "CEREMONY_IN_PROGRESS");
    assert_eq!(body["walletId"], json!(ticket.wallet_id));
    // Invisible while pending.
    let got = t.get(&key, &format!("/v1/wallets/{}", ticket.wallet_id)).await;
    assert_eq!(got.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_frame_aborts_signing_without_a_signature() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = dyad_sdk::Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &email("sig@example.com"))
        .await
        .unwrap();
    let resp = t.post_sign_message(&key, w.id, b"hello").await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    assert_eq!(ticket.summary.as_ref().map(|s| s.kind.as_str()), Some("message"));

    let mut client = Manual::connect(&t.url(), &ticket).await;
    let mut sealed = client
        .channel
        .seal(&Frame::Protocol(vec![7; 64].into()).to_bytes())
        .unwrap();
    sealed[10] ^= 0x80;
    client.send_sealed(sealed).await;
    assert_eq!(client.abort_code().await, ErrorCode::CeremonyAborted);

    let n = |action: &str| format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'");
    assert_eq!(t.count(&n("sign.requested")).await, 1);
    assert_eq!(t.count(&n("sign.failed")).await, 1);
    assert_eq!(t.count(&n("sign.completed")).await, 0);
    let again = connect_ceremony(&t.url(), &ticket.ceremony_id).await;
    assert!(matches!(&again, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404));
    // The wallet itself is untouched and still signs.
    let sig = dyad.sign_message(w.id, b"hello").await.unwrap();
    dyad_test_support::verify::verify_message(&w, b"hello", &sig.signature).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_cut_off_at_the_deadline_and_leaves_no_wallet() {
    let config = dyad_server::ServerConfig {
        ceremony_deadline: std::time::Duration::from_secs(1),
        ..dyad_server::ServerConfig::default()
    };
    let t = TestServer::start_with(config).await;
    let key = t.app("shop").await;
    let resp = t.post_wallet(&key, "silent@example.com", "SOLANA").await;
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut client = Manual::connect(&t.url(), &ticket).await;
    // Say nothing. The server must give up on its own, say so, and have cleaned up by then.
    assert_eq!(client.abort_code().await, ErrorCode::CeremonyAborted);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_log WHERE action = 'wallet.create_failed'")
            .await,
        1
    );
}

/// What a key generation that failed before its commit must leave: no wallet row, pending or
/// live, no cloud share, one `wallet.create_failed` entry, and a spent ceremony id.
async fn nothing_created(t: &TestServer, ticket: &CeremonyTicket) -> Value {
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets").await,
        0,
        "a wallet row was left"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM cloud_shares").await, 0);
    let log = t.audit_log().await;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "wallet.create_failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(log.iter().filter(|r| r.action == "wallet.created").count(), 0);
    let again = connect_ceremony(&t.url(), &ticket.ceremony_id).await;
    assert!(matches!(&again, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404));
    failed[0].detail.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_cap_aborts_keygen_and_leaves_no_wallet() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let resp = t.post_wallet(&key, "big@example.com", "EVM").await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut client = RawNoise::connect(&t.url(), &ticket).await;

    // The hand-written channel is the real one: an honest first round sealed with it is
    // answered with the server's next round, not an abort.
    let (_, first) = Dkg::start(Scheme::Dkls, Role::User, &session_id(&ticket.ceremony_id, Run::Dkg)).unwrap();
    client.recv_protocol().await;
    client.send(&Frame::Protocol(first.into())).await;
    client.recv_protocol().await;

    // Then a frame of just over 4 MiB, sealed the same way.
    client.send(&frame_over_the_cap()).await;
    let (code, message) = client.abort().await;
    assert_eq!(code, ErrorCode::CeremonyAborted);
    assert!(message.contains("frame too large"), "{message}");
    let detail = nothing_created(&t, &ticket).await;
    assert!(
        detail["error"].as_str().unwrap().contains("frame too large"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_over_the_cap_aborts_signing_without_a_signature() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = dyad_sdk::Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Solana, &email("bigsig@example.com"))
        .await
        .unwrap();
    let resp = t.post_sign_message(&key, w.id, b"hello").await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();

    let mut client = RawNoise::connect(&t.url(), &ticket).await;
    client.send(&frame_over_the_cap()).await;
    let (code, message) = client.abort().await;
    assert_eq!(code, ErrorCode::CeremonyAborted);
    assert!(message.contains("frame too large"), "{message}");

    let n = |action: &str| format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'");
    assert_eq!(t.count(&n("sign.failed")).await, 1);
    assert_eq!(t.count(&n("sign.completed")).await, 0);
    let again = connect_ceremony(&t.url(), &ticket.ceremony_id).await;
    assert!(matches!(&again, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404));
}

/// A whole key generation driven by hand, up to the client's last two frames: its last
/// test-signature round and `Confirm`, sealed in that order. Sent in order, the wallet is
/// created; sent the other way round, the ceremony aborts and nothing is created.
async fn last_two_frames(wallet_type: WalletType, scheme: Scheme, reversed: bool) {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let who = "order@example.com";
    let resp = t.post_wallet(&key, who, wallet_type.as_str()).await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut client = Manual::connect(&t.url(), &ticket).await;

    let script = KeyGeneration::new(Role::User, scheme, &ticket.ceremony_id);
    let share = client.run(script.dkg()().unwrap()).await;
    let (_, start) = script.test_signature(share);
    let (_, last) = client.run_until_last(start().unwrap()).await;
    let last = client.channel.seal(&Frame::Protocol(last.into()).to_bytes()).unwrap();
    let confirm = client.channel.seal(&Frame::Confirm.to_bytes()).unwrap();

    if !reversed {
        client.send_sealed(last).await;
        client.send_sealed(confirm).await;
        client.recv_protocol().await;
        match client.recv().await {
            Some(Frame::Done(dyad_proto::Outcome::WalletCreated(w))) => {
                assert_eq!(w.id, ticket.wallet_id);
            }
            other => panic!("expected the wallet, got {other:?}"),
        }
        assert_eq!(t.count("SELECT COUNT(*) FROM wallets WHERE status = 'pregen'").await, 1);
        assert_eq!(t.count("SELECT COUNT(*) FROM cloud_shares").await, 1);
        return;
    }
    client.send_sealed(confirm).await;
    client.send_sealed(last).await;
    let (code, message) = client.abort().await;
    assert_eq!(code, ErrorCode::CeremonyAborted, "{message}");
    assert!(message.contains("failed authentication"), "{message}");
    nothing_created(&t, &ticket).await;
    // The identifier is free again.
    let list: Value = t
        .get(&key, &format!("/v1/wallets?email={who}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["wallets"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_frames_in_order_create_the_wallet() {
    last_two_frames(WalletType::Solana, Scheme::Frost, false).await;
    last_two_frames(WalletType::Evm, Scheme::Dkls, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_frames_abort_dkls_keygen_and_create_nothing() {
    last_two_frames(WalletType::Evm, Scheme::Dkls, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_frames_abort_ed25519_keygen_and_create_nothing() {
    last_two_frames(WalletType::Stellar, Scheme::Frost, true).await;
}
