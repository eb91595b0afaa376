//! The warm setup pool (issue 9, part 2): DKLs key setups made ahead of time with one app over
//! the batch connection, each sealed on the server, reserved by exactly one create request and
//! used up by its key generation, whatever its outcome.

mod support;

use dyad_proto::{ErrorCode, Frame, WalletType};
use dyad_sdk::Dyad;
use dyad_test_support::email;
use dyad_test_support::verify::verify_message;
use serde_json::json;
use support::{expect_error, Manual, TestServer};

/// The ids of the key setups the server holds, reserved or not.
async fn setup_ids(t: &TestServer) -> Vec<String> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT id FROM key_setups ORDER BY id")
        .fetch_all(&t.db().await)
        .await
        .unwrap();
    rows.iter().map(|r| r.get::<String, _>("id")).collect()
}

/// `POST /v1/wallets` with a key setup named.
async fn post_with_setup(t: &TestServer, key: &str, who: &str, wallet_type: &str, setup: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/v1/wallets", t.url()))
        .header("x-api-key", key)
        .json(&json!({ "type": wallet_type, "pregenId": { "email": who }, "keySetupId": setup }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_from_the_pool_uses_up_one_setup_and_signs() {
    let t = TestServer::start().await;
    let key = t.app("pool").await;
    let dyad = Dyad::builder(&t.url(), &key).setup_pool(2).build();
    assert_eq!(dyad.setup_pool_ready(), 0);
    assert_eq!(dyad.fill_setup_pool().await.unwrap(), 2);
    let before = setup_ids(&t).await;
    assert_eq!(before.len(), 2, "the server holds its half of each");

    let wallet = dyad
        .create_pregen_wallet(WalletType::Evm, &email("pool@example.com"))
        .await
        .unwrap();
    // The create request named one of the pooled setups, and that setup is gone.
    let log = t.audit_log().await;
    let requested = log
        .iter()
        .find(|e| e.action.as_str() == "wallet.create_requested")
        .expect("audited");
    let used = requested.detail["keySetupId"]
        .as_str()
        .expect("names its setup")
        .to_string();
    assert!(before.contains(&used), "{used} is not one of {before:?}");
    // Wait for the background refill (fill waits for it), then check: the used one is gone
    // for good, the pool is full again with a new one.
    assert_eq!(dyad.fill_setup_pool().await.unwrap(), 2);
    let after = setup_ids(&t).await;
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&used), "a used setup is still stored");

    // The key is an ordinary wallet: it signs, checked by the independent verifier, and the
    // server's cloud share is sealed as any other.
    let message = b"a key from the warm pool";
    let signed = dyad.sign_message(wallet.id, message).await.unwrap();
    verify_message(&wallet, message, &signed.signature).unwrap();
    let user_share = dyad.get_user_share().unwrap();
    let fresh = Dyad::new(&t.url(), &key);
    fresh.set_user_share(user_share.expose()).await.unwrap();
    let again = fresh.sign_message(wallet.id, b"again").await.unwrap();
    verify_message(&wallet, b"again", &again.signature).unwrap();

    // Over a batch connection too, and Ed25519 types simply create without a setup.
    let batch = dyad.batch().await.unwrap();
    let evm = batch
        .create_pregen_wallet(WalletType::Evm, &email("pool2@example.com"))
        .await
        .unwrap();
    let sol = batch
        .create_pregen_wallet(WalletType::Solana, &email("pool2@example.com"))
        .await
        .unwrap();
    for w in [&evm, &sol] {
        let s = dyad.sign_message(w.id, b"batch").await.unwrap();
        verify_message(w, b"batch", &s.signature).unwrap();
    }
    let named = t
        .audit_log()
        .await
        .iter()
        .filter(|e| e.action.as_str() == "wallet.create_requested" && e.detail.get("keySetupId").is_some())
        .count();
    assert_eq!(named, 2, "the two EVM keys used setups, the Solana key none");
}

#[tokio::test]
async fn a_setup_serves_one_request_of_its_own_app_and_a_refusal_writes_nothing() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("owner").await;
    let other = t.app("other").await;
    let dyad = Dyad::builder(&t.url(), &key).setup_pool(1).build();
    dyad.fill_setup_pool().await.unwrap();
    let id = setup_ids(&t).await.pop().unwrap();

    // Another app, an Ed25519 type, an unknown id: refused, and nothing written.
    let rows = t.rows().await;
    let r = post_with_setup(&t, &other, "x@example.com", "EVM", &id).await;
    expect_error(r, 409, "KEY_SETUP_UNAVAILABLE").await;
    let r = post_with_setup(&t, &key, "x@example.com", "SOLANA", &id).await;
    expect_error(r, 409, "KEY_SETUP_UNAVAILABLE").await;
    let unknown = dyad_proto::KeySetupId::random().to_string();
    let r = post_with_setup(&t, &key, "x@example.com", "EVM", &unknown).await;
    expect_error(r, 409, "KEY_SETUP_UNAVAILABLE").await;
    let r = post_with_setup(&t, &key, "x@example.com", "EVM", "not-an-id").await;
    assert_eq!(r.status().as_u16(), 400);
    t.assert_unchanged(&rows, "refused key setups").await;

    // Its own app reserves it once; a second request naming it is refused, and writes
    // nothing either (the identifier stays free).
    let r = post_with_setup(&t, &key, "x@example.com", "EVM", &id).await;
    assert_eq!(r.status().as_u16(), 201);
    let rows = t.rows().await;
    let r = post_with_setup(&t, &key, "y@example.com", "EVM", &id).await;
    expect_error(r, 409, "KEY_SETUP_UNAVAILABLE").await;
    t.assert_unchanged(&rows, "a setup named twice").await;
    let plain = t.post_wallet(&key, "y@example.com", "EVM").await;
    assert_eq!(plain.status().as_u16(), 201, "the identifier is free");

    // A reservation whose ceremony never runs goes with its pending wallet.
    let store = support::open_store(&t.data_dir()).await;
    let far = dyad_server::clock::now() + 10_000;
    store
        .reap(
            far,
            dyad_server::store::Abandoned {
                unstarted_before: far,
                before: far,
                key_setups_before: 0,
            },
        )
        .await
        .unwrap();
    assert!(setup_ids(&t).await.is_empty(), "the reserved setup outlived its wallet");
}

#[tokio::test]
async fn a_setup_whose_key_generation_fails_is_gone() {
    let t = TestServer::start().await;
    let key = t.app("fails").await;
    let dyad = Dyad::builder(&t.url(), &key).setup_pool(1).build();
    dyad.fill_setup_pool().await.unwrap();
    let id = setup_ids(&t).await.pop().unwrap();
    let r = post_with_setup(&t, &key, "f@example.com", "EVM", &id).await;
    assert_eq!(r.status().as_u16(), 201);
    let ticket: dyad_proto::rest::CeremonyTicket = r.json().await.unwrap();
    // The client opens the ceremony and sends garbage for round 1.
    let mut manual = Manual::connect(&t.url(), &ticket).await;
    manual.send(&Frame::Confirm).await;
    assert_eq!(manual.abort_code().await, ErrorCode::CeremonyAborted);
    // Recorded before the abort was sent: the setup was taken as the run began, and is gone.
    assert!(setup_ids(&t).await.is_empty());
    assert_eq!(t.audited("wallet.create_failed").await, 1);
}

#[tokio::test]
async fn a_pool_whose_setups_the_server_lost_falls_back_to_a_full_key_generation() {
    let t = TestServer::start().await;
    let key = t.app("stale").await;
    let dyad = Dyad::builder(&t.url(), &key).setup_pool(1).build();
    dyad.fill_setup_pool().await.unwrap();
    t.execute("DELETE FROM key_setups").await;
    let wallet = dyad
        .create_pregen_wallet(WalletType::Evm, &email("stale@example.com"))
        .await
        .unwrap();
    let signed = dyad.sign_message(wallet.id, b"fallback").await.unwrap();
    verify_message(&wallet, b"fallback", &signed.signature).unwrap();
}
