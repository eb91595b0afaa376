//! End to end: a real server on port 0 with a temporary SQLite file, driven through the SDK (and
//! raw HTTP/WebSocket where a test must misbehave). Signatures are checked with the standard
//! verifiers (k256 with ecrecover, ed25519-dalek verify_strict) on digests rebuilt independently.

mod support;

use base64::Engine;
use dyad_proto::{CeremonyKey, ErrorCode, WalletType};
use dyad_sdk::{Dyad, SdkError, TransactionRequest};
use dyad_test_support::fixtures::{eip155_unsigned, mail_typed_data};
use dyad_test_support::verify::{verify_message, VerifyError};
use dyad_test_support::{custom_id, email};
use serde_json::{json, Value};
use support::{expect_error, server_key, Manual, TestServer};

fn api_code(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pregenerate_all_types_then_sign_from_a_fresh_client() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let who = email("User1@Example.com");
    let creator = Dyad::new(&t.url(), &key);
    assert!(!creator.has_pregen_wallet(&who, None).await.unwrap());

    let wallets = creator
        .create_pregen_wallet_per_type(&WalletType::ALL, &who)
        .await
        .unwrap();
    assert_eq!(wallets.len(), 4);
    for (w, t) in wallets.iter().zip(WalletType::ALL) {
        assert_eq!(w.wallet_type, t);
        assert_eq!(w.pregen_id, email("user1@example.com"));
        assert_eq!(w.status, dyad_proto::WalletStatus::Pregen);
    }
    assert!(wallets[0].address.starts_with("0x") && wallets[0].address.len() == 42);
    assert!(wallets[2].address.starts_with("cosmos1"));
    assert!(wallets[3].address.starts_with('G'));
    assert_eq!(wallets[0].public_key.len(), 2 + 66);
    assert_eq!(wallets[1].public_key.len(), 2 + 64);
    assert!(creator.has_pregen_wallet(&who, Some(WalletType::Solana)).await.unwrap());

    // A second wallet of a type for the same person is a conflict naming the existing one.
    let dup = creator
        .create_pregen_wallet(WalletType::Evm, &email("user1@example.com"))
        .await
        .unwrap_err();
    match &dup {
        SdkError::Api {
            status,
            code,
            wallet_id,
            ..
        } => {
            assert_eq!(*status, 409);
            assert_eq!(*code, ErrorCode::WalletExists);
            assert_eq!(*wallet_id, Some(wallets[0].id));
        }
        other => panic!("expected 409, got {other:?}"),
    }

    let share = creator.get_user_share().unwrap();
    assert_eq!(share.expose().split('-').count(), 4);
    let fresh = Dyad::new(&t.url(), &key);
    fresh.set_user_share(share.expose()).await.unwrap();
    for w in &wallets {
        let msg = format!("hello {}", w.wallet_type);
        let sig = fresh.sign_message(w.id, msg.as_bytes()).await.unwrap();
        assert_eq!(sig.wallet_id, w.id);
        let expected_len = if w.wallet_type == WalletType::Evm { 65 } else { 64 };
        assert_eq!(sig.signature.len(), expected_len, "{}", w.wallet_type);
        verify_message(w, msg.as_bytes(), &sig.signature).unwrap();
        // The verifier is not a rubber stamp.
        assert!(
            matches!(
                verify_message(w, b"another message", &sig.signature),
                Err(VerifyError::Invalid(_))
            ),
            "{}",
            w.wallet_type
        );
        if w.wallet_type == WalletType::Evm {
            assert!(matches!(sig.signature[64], 27 | 28));
        }
    }
    let listed = fresh.get_pregen_wallets(&who).await.unwrap();
    assert_eq!(
        listed.iter().map(|w| w.id).collect::<Vec<_>>(),
        wallets.iter().map(|w| w.id).collect::<Vec<_>>()
    );

    // Every sign was audited with what it signed.
    let log = t.audit_log().await;
    let count = |a: &str| log.iter().filter(|r| r.action == a).count();
    assert_eq!(count("wallet.created"), 4);
    assert_eq!(count("sign.requested"), 4);
    assert_eq!(count("sign.completed"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_the_identifier_moves_the_wallet_and_the_share() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let custom = custom_id("user-42");
    let w = dyad.create_pregen_wallet(WalletType::Solana, &custom).await.unwrap();

    let new_id = email("claimer@example.com");
    let updated = dyad.update_pregen_wallet_identifier(w.id, &new_id).await.unwrap();
    assert_eq!(updated.pregen_id, new_id);
    assert_eq!(updated.address, w.address);
    assert!(dyad.get_pregen_wallets(&custom).await.unwrap().is_empty());
    assert_eq!(dyad.get_pregen_wallets(&new_id).await.unwrap()[0].id, w.id);

    // The share string now carries the new identifier, and still signs.
    let share = dyad.get_user_share().unwrap();
    let entry: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(share.expose())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(entry["pregenId"], json!({ "email": "claimer@example.com" }));
    let fresh = Dyad::new(&t.url(), &key);
    fresh.set_user_share(share.expose()).await.unwrap();
    assert_eq!(fresh.loaded_wallets()[0].pregen_id, new_id);
    let sig = fresh.sign_message(w.id, b"after update").await.unwrap();
    verify_message(&updated, b"after update", &sig.signature).unwrap();

    // Moving onto an identifier that already has a wallet of this type is a conflict.
    let other = dyad
        .create_pregen_wallet(WalletType::Solana, &email("taken@example.com"))
        .await
        .unwrap();
    let err = dyad
        .update_pregen_wallet_identifier(w.id, &email("taken@example.com"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::WalletExists));
    assert_eq!(
        dyad.get_wallet(other.id).await.unwrap().pregen_id,
        email("taken@example.com")
    );
    assert_eq!(dyad.get_wallet(w.id).await.unwrap().pregen_id, new_id);
}

/// Refused as another app's wallet is: 404 `WALLET_NOT_FOUND`, as if it did not exist.
#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(what: &str, result: Result<T, SdkError>) {
    match result {
        Err(SdkError::Api {
            status: 404,
            code: ErrorCode::WalletNotFound,
            wallet_id: None,
            ..
        }) => {}
        other => panic!("{what}: expected 404 WALLET_NOT_FOUND, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_app_cannot_see_or_use_a_wallet() {
    let t = TestServer::start_without_reaping().await;
    let key_a = t.app("a").await;
    // App B may sign raw digests: its `sign-raw` is refused for the wallet, not the setting.
    let key_b = t.app_allowing_raw_signing("b").await;
    let a = Dyad::new(&t.url(), &key_a);
    let who = email("shared@example.com");
    // EVM: the one type every sign route applies to, so each request below would sign for A.
    let w = a.create_pregen_wallet(WalletType::Evm, &who).await.unwrap();
    let share = a.get_user_share().unwrap();

    // Even holding app A's user share, app B's key can do nothing with A's wallet, through
    // any of the wallet-scoped routes (routes/mod.rs): GET/PATCH /v1/wallets/{id}, the four
    // sign routes, and GET /v1/wallets (list, and `has` through it).
    let b = Dyad::new(&t.url(), &key_b);
    b.set_user_share(share.expose()).await.unwrap();
    let message = b"steal".to_vec();
    let transaction = TransactionRequest {
        bytes: eip155_unsigned(),
        chain_id: Some(1),
        network_passphrase: None,
        cosmos_sign_mode: None,
    };
    let typed = mail_typed_data();
    let digest = [7u8; 32];
    let before = t.rows().await;

    assert!(b.get_pregen_wallets(&who).await.unwrap().is_empty());
    let all: Value = t.get(&key_b, "/v1/wallets").await.json().await.unwrap();
    assert_eq!(all, json!({ "wallets": [] }));
    assert!(!b.has_pregen_wallet(&who, None).await.unwrap());
    assert!(!b.has_pregen_wallet(&who, Some(WalletType::Evm)).await.unwrap());
    assert_not_found("get", b.get_wallet(w.id).await);
    assert_not_found("sign-message", b.sign_message(w.id, &message).await);
    assert_not_found("sign-transaction", b.sign_transaction(w.id, &transaction).await);
    assert_not_found("sign-typed-data", b.sign_typed_data(w.id, &typed).await);
    assert_not_found("sign-raw", b.sign_raw(w.id, digest).await);
    assert_not_found(
        "update identifier",
        b.update_pregen_wallet_identifier(w.id, &email("thief@example.com"))
            .await,
    );
    // Refused before anything is written: no ceremony, no audit entry in either app's log (a
    // `sign.denied` in B's log would tell B the wallet exists).
    t.assert_unchanged(&before, "app B's calls on app A's wallet").await;
    assert_eq!(a.get_wallet(w.id).await.unwrap(), w);

    // B may have its own wallet for the same person, and every one of those requests signs
    // for it: they were refused for the wallet, not for what they asked.
    let own = b.create_pregen_wallet(WalletType::Evm, &who).await.unwrap();
    assert_ne!(own.id, w.id);
    b.sign_message(own.id, &message).await.unwrap();
    b.sign_transaction(own.id, &transaction).await.unwrap();
    b.sign_typed_data(own.id, &typed).await.unwrap();
    b.sign_raw(own.id, digest).await.unwrap();
    assert_eq!(b.get_pregen_wallets(&who).await.unwrap(), vec![own.clone()]);
    assert_eq!(a.get_pregen_wallets(&who).await.unwrap(), vec![w.clone()]);

    let unauth = Dyad::new(&t.url(), "dyad_beta_nope_nope");
    assert_eq!(
        api_code(&unauth.get_pregen_wallets(&who).await.unwrap_err()),
        Some(ErrorCode::Unauthenticated)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_still_signs() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &email("restart@example.com"))
        .await
        .unwrap();
    let share = dyad.get_user_share().unwrap();
    let TestServer { server, store, dir } = t;
    server.shutdown().await.unwrap();
    drop(store);

    let (server, _store) = support::serve(dir.path()).await;
    let fresh = Dyad::new(&server.url(), &key);
    fresh.set_user_share(share.expose()).await.unwrap();
    let sig = fresh.sign_message(w.id, b"still here").await.unwrap();
    verify_message(&w, b"still here", &sig.signature).unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_codes_and_change_nothing() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("shop").await;
    let http = reqwest::Client::new();
    let url = t.url();
    let post = |body: &'static str| {
        http.post(format!("{url}/v1/wallets"))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Each request is refused with its status and code, and the database is as it was before
    // it: no row of `wallets`, `ceremonies`, `cloud_shares` or `audit_log` added, removed or
    // changed, except the audit entries listed (a refusal that concerns a real wallet is
    // audited by design: exactly that entry, nothing else).
    macro_rules! refused {
        ($what:expr, $status:expr, $code:expr, $request:expr) => {
            refused!($what, $status, $code, [], $request)
        };
        ($what:expr, $status:expr, $code:expr, $audited:expr, $request:expr) => {{
            let before = t.rows().await;
            expect_error($request.await.unwrap(), $status, $code).await;
            t.assert_only_audited(&before, &$audited, $what).await;
        }};
    }
    refused!("not JSON", 400, "INVALID_JSON", post("{not json"));
    refused!("an empty body", 400, "INVALID_JSON", post(""));
    refused!(
        "an unknown type",
        422,
        "UNSUPPORTED_WALLET_TYPE",
        post(r#"{"type":"BITCOIN","pregenId":{"email":"a@b.co"}}"#)
    );
    refused!(
        "a bad email",
        400,
        "INVALID_IDENTIFIER",
        post(r#"{"type":"EVM","pregenId":{"email":"nope"}}"#)
    );
    refused!(
        "an unknown identifier kind",
        400,
        "INVALID_IDENTIFIER",
        post(r#"{"type":"EVM","pregenId":{"nickname":"x"}}"#)
    );
    refused!("no identifier", 400, "INVALID_REQUEST", post(r#"{"type":"EVM"}"#));
    refused!("an array", 400, "INVALID_REQUEST", post(r#"[1,2]"#));
    refused!(
        "a create without a key",
        401,
        "UNAUTHENTICATED",
        http.post(format!("{url}/v1/wallets"))
            .json(&json!({ "type": "EVM", "pregenId": { "email": "a@b.co" } }))
            .send()
    );
    refused!(
        "a create with an unknown key",
        401,
        "UNAUTHENTICATED",
        http.post(format!("{url}/v1/wallets"))
            .header("x-api-key", "dyad_beta_0123456789abcdef_nope")
            .json(&json!({ "type": "EVM", "pregenId": { "email": "a@b.co" } }))
            .send()
    );
    refused!(
        "a list without a key",
        401,
        "UNAUTHENTICATED",
        http.get(format!("{url}/v1/wallets")).send()
    );
    refused!(
        "two filters",
        400,
        "INVALID_REQUEST",
        http.get(format!("{url}/v1/wallets?email=a@b.co&phone=%2B14155550100"))
            .header("x-api-key", &key)
            .send()
    );
    refused!(
        "a repeated filter",
        400,
        "INVALID_REQUEST",
        http.get(format!("{url}/v1/wallets?email=a@b.co&email=c@d.co"))
            .header("x-api-key", &key)
            .send()
    );
    refused!(
        "no such endpoint",
        404,
        "NOT_FOUND",
        http.get(format!("{url}/v1/nothing-here")).send()
    );
    refused!(
        "no such method",
        405,
        "METHOD_NOT_ALLOWED",
        http.delete(format!("{url}/v1/wallets")).send()
    );
    refused!(
        "a malformed path",
        400,
        "INVALID_REQUEST",
        http.get(format!("{url}/v1/wallets/%FF"))
            .header("x-api-key", &key)
            .send()
    );
    refused!(
        "a wallet id that is no id",
        404,
        "WALLET_NOT_FOUND",
        http.get(format!("{url}/v1/wallets/not-a-uuid"))
            .header("x-api-key", &key)
            .send()
    );
    refused!(
        "a ceremony without an upgrade",
        400,
        "INVALID_REQUEST",
        http.get(format!("{url}/v1/ceremonies/{}", "00".repeat(32))).send()
    );
    let before = t.rows().await;
    let ws = url.replace("http://", "ws://");
    let refused = tokio_tungstenite::connect_async(format!("{ws}/v1/ceremonies/{}", "00".repeat(32))).await;
    assert!(
        matches!(&refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404),
        "{refused:?}"
    );
    t.assert_unchanged(&before, "an unknown ceremony").await;

    // A real wallet, then bad requests against it.
    let dyad = Dyad::new(&url, &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Cosmos, &email("bad@example.com"))
        .await
        .unwrap();
    let other = dyad
        .create_pregen_wallet(WalletType::Cosmos, &email("other@example.com"))
        .await
        .unwrap();
    let created = t.rows().await;
    assert_eq!((created.wallets, created.cloud_shares), (2, 2));
    let sign = |op: &str, body: &'static str| {
        http.post(format!("{url}/v1/wallets/{}/{op}", w.id))
            .header("x-api-key", &key)
            .body(body)
            .send()
    };
    refused!(
        "a second wallet of a type for the same person",
        409,
        "WALLET_EXISTS",
        http.post(format!("{url}/v1/wallets"))
            .header("x-api-key", &key)
            .json(&json!({ "type": "COSMOS", "pregenId": { "email": "bad@example.com" } }))
            .send()
    );
    refused!(
        "a signature of no wallet",
        404,
        "WALLET_NOT_FOUND",
        http.post(format!(
            "{url}/v1/wallets/{}/sign-message",
            dyad_proto::WalletId::random()
        ))
        .header("x-api-key", &key)
        .json(&json!({ "messageBase64": "aGk=" }))
        .send()
    );
    refused!(
        "a signature without a key",
        401,
        "UNAUTHENTICATED",
        http.post(format!("{url}/v1/wallets/{}/sign-message", w.id))
            .json(&json!({ "messageBase64": "aGk=" }))
            .send()
    );
    // Refusals of a real wallet's sign request are audited as `sign.denied` (signing::authorise),
    // down to a body that does not parse: exactly one entry each, and no ceremony row.
    refused!(
        "a message that is not base64",
        400,
        "INVALID_REQUEST",
        [("sign.denied", w.id, "INVALID_REQUEST")],
        sign("sign-message", r#"{"messageBase64":"***"}"#)
    );
    refused!(
        "a sign body that is not JSON",
        400,
        "INVALID_JSON",
        [("sign.denied", w.id, "INVALID_JSON")],
        sign("sign-message", "{")
    );
    refused!(
        "a transaction that does not decode",
        400,
        "INVALID_TRANSACTION",
        [("sign.denied", w.id, "INVALID_TRANSACTION")],
        sign("sign-transaction", r#"{"transaction":"0xdeadbeef"}"#)
    );
    refused!(
        "raw signing, off for the app",
        403,
        "RAW_SIGNING_DISABLED",
        [("sign.denied", w.id, "RAW_SIGNING_DISABLED")],
        sign(
            "sign-raw",
            r#"{"digest":"0x0707070707070707070707070707070707070707070707070707070707070707"}"#
        )
    );
    let patch = |id: dyad_proto::WalletId, body: &'static str| {
        http.patch(format!("{url}/v1/wallets/{id}"))
            .header("x-api-key", &key)
            .body(body)
            .send()
    };
    refused!(
        "a bad phone number",
        400,
        "INVALID_IDENTIFIER",
        patch(w.id, r#"{"pregenId":{"phone":"12"}}"#)
    );
    refused!("a patch that is not JSON", 400, "INVALID_JSON", patch(w.id, "{"));
    refused!(
        "a patch of no wallet",
        404,
        "WALLET_NOT_FOUND",
        patch(
            dyad_proto::WalletId::random(),
            r#"{"pregenId":{"email":"x@example.com"}}"#
        )
    );
    // The store's update and its audit entry are one transaction: the refused move leaves
    // neither the new identifier nor a `wallet.identifier_changed` entry.
    refused!(
        "a move onto another wallet's identifier",
        409,
        "WALLET_EXISTS",
        patch(other.id, r#"{"pregenId":{"email":"bad@example.com"}}"#)
    );
    let huge = format!(r#"{{"messageBase64":"{}"}}"#, "A".repeat(3 * 1024 * 1024));
    refused!(
        "a body over the limit",
        413,
        "PAYLOAD_TOO_LARGE",
        http.post(format!("{url}/v1/wallets/{}/sign-message", w.id))
            .header("x-api-key", &key)
            .body(huge)
            .send()
    );

    // Both wallets are as they were made.
    assert_eq!(dyad.get_wallet(w.id).await.unwrap(), w);
    assert_eq!(dyad.get_wallet(other.id).await.unwrap(), other);
    let all: Value = t.get(&key, "/v1/wallets").await.json().await.unwrap();
    assert_eq!(all["wallets"].as_array().unwrap().len(), 2);
    assert_eq!(all["wallets"][0]["pregenId"], json!({ "email": "bad@example.com" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_and_foreign_shares_are_refused() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    dyad.create_pregen_wallet(WalletType::Solana, &email("s@example.com"))
        .await
        .unwrap();
    let share = dyad.get_user_share().unwrap();
    let s = share.expose();

    let fresh = Dyad::new(&t.url(), &key);
    for bad in ["", "garbage", &s[..s.len() / 2], &s[..s.len() - 3], "eyJ2IjoxfQ=="] {
        let err = fresh.set_user_share(bad).await.unwrap_err();
        assert!(matches!(err, SdkError::InvalidShare(_)), "{err:?}");
    }
    assert!(fresh.loaded_wallets().is_empty());

    // A share made on another server (another master key) is named as such.
    let other = TestServer::start().await;
    let other_key = other.app("elsewhere").await;
    let o = Dyad::new(&other.url(), &other_key);
    o.create_pregen_wallet(WalletType::Solana, &email("s@example.com"))
        .await
        .unwrap();
    let err = fresh
        .set_user_share(o.get_user_share().unwrap().expose())
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::ForeignShare { .. }), "{err:?}");
    assert!(fresh.loaded_wallets().is_empty());

    // Debug output of a share never shows it.
    assert!(!format!("{share:?}").contains(&s[..20]));
}

/// The share string entry `entry` with its `share` field replaced by `share`'s encoding: what
/// someone who edits a share string by hand would make.
fn entry_with_share(entry: &str, share: &dyad_mpc::KeyShare) -> String {
    use base64::engine::general_purpose::STANDARD;
    let mut fields: Value = serde_json::from_slice(&STANDARD.decode(entry).unwrap()).unwrap();
    assert!(fields["share"].is_string(), "{fields}");
    fields["share"] = json!(STANDARD.encode(&*share.to_bytes()));
    STANDARD.encode(serde_json::to_vec(&fields).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_user_share_refuses_a_cloud_share_and_a_share_of_another_key() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("shop").await;
    let maker = Dyad::new(&t.url(), &key);
    let evm = maker
        .create_pregen_wallet(WalletType::Evm, &email("one@example.com"))
        .await
        .unwrap();
    let sol = maker
        .create_pregen_wallet(WalletType::Solana, &email("one@example.com"))
        .await
        .unwrap();
    let sol2 = maker
        .create_pregen_wallet(WalletType::Solana, &email("two@example.com"))
        .await
        .unwrap();
    let share = maker.get_user_share().unwrap();
    let entries: Vec<&str> = share.expose().split('-').collect();
    let users = dyad_sdk::UserShare::decode(share.expose()).unwrap();
    assert_eq!(
        users.iter().map(|w| w.view.id).collect::<Vec<_>>(),
        [evm.id, sol.id, sol2.id]
    );

    // The client under test holds one good wallet; a refused string leaves it as it was.
    let client = Dyad::new(&t.url(), &key);
    client.set_user_share(entries[1]).await.unwrap();
    assert_eq!(client.loaded_wallets(), vec![sol.clone()]);
    let before = t.rows().await;
    let refused = |s: String, why: &'static str| {
        let client = &client;
        let sol = sol.clone();
        async move {
            match client.set_user_share(&s).await {
                Err(SdkError::InvalidShare(m)) => assert_eq!(m, why),
                other => panic!("expected InvalidShare({why:?}), got {other:?}"),
            }
            assert_eq!(client.loaded_wallets(), vec![sol]);
        }
    };

    // The editing itself is sound: the entry with its own user share loads.
    let own = entry_with_share(entries[0], &users[0].share);
    Dyad::new(&t.url(), &key).set_user_share(&own).await.unwrap();

    // The cloud party's share of the very same key, in place of the user's, for each scheme.
    for (i, w) in [(0, &evm), (1, &sol)] {
        let (cloud, _) = t.cloud_share(w.id).await;
        assert_eq!(cloud.public_key(), users[i].share.public_key());
        refused(
            entry_with_share(entries[i], &cloud),
            "wallet 1: this is not a user share",
        )
        .await;
    }
    // A user share of another key of the same scheme.
    refused(
        entry_with_share(entries[1], &users[2].share),
        "wallet 1: key share does not belong to the wallet's public key",
    )
    .await;
    // A user share of another scheme.
    refused(
        entry_with_share(entries[0], &users[1].share),
        "wallet 1: scheme does not match the wallet type",
    )
    .await;
    // One bad entry among good ones refuses the whole string, naming the entry.
    let (cloud, _) = t.cloud_share(sol2.id).await;
    refused(
        [entries[0], entries[1], entry_with_share(entries[2], &cloud).as_str()].join("-"),
        "wallet 3: this is not a user share",
    )
    .await;
    // Checked in the client: the server saw nothing of it.
    t.assert_unchanged(&before, "refused share strings").await;
    // The wallet the client holds still signs.
    let sig = client.sign_message(sol.id, b"still mine").await.unwrap();
    verify_message(&sol, b"still mine", &sig.signature).unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `secret` shows in `haystack`, in any form a careless write could give it: the raw
/// bytes, lowercase or uppercase hex, or standard or URL-safe base64 with or without padding.
///
/// Hex maps each byte to two characters on its own, so the hex of any text holding `secret`
/// holds the hex of `secret`. Base64 does not: it encodes groups of three bytes, and how
/// `secret` falls into groups depends on where it starts (its offset modulo 3). But if the
/// first whole group inside `secret` starts after `d` bytes (d = 0, 1 or 2), the encoding of
/// the surrounding text contains the encoding of `secret[d..]` cut to whole groups, with no
/// padding (padding comes only at the very end). So searching for those three inner strings
/// finds `secret` at every alignment, padded or not; the whole encodings, padded and unpadded,
/// are searched too for plain measure. The searched text is ASCII, which the lossy UTF-8 view
/// of the haystack keeps byte for byte.
fn leaked_form(haystack: &[u8], text: &str, secret: &[u8]) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if contains(haystack, secret) {
        return Some("raw bytes".into());
    }
    let mut forms = vec![
        ("lowercase hex".to_string(), hex::encode(secret)),
        ("uppercase hex".to_string(), hex::encode_upper(secret)),
    ];
    for (name, padded, bare) in [
        ("base64", &STANDARD, &STANDARD_NO_PAD),
        ("url-safe base64", &URL_SAFE, &URL_SAFE_NO_PAD),
    ] {
        forms.push((format!("{name}, padded"), padded.encode(secret)));
        forms.push((format!("{name}, unpadded"), bare.encode(secret)));
        for d in 0..3 {
            let whole = (secret.len() - d) / 3 * 3;
            forms.push((format!("{name}, from byte {d}"), bare.encode(&secret[d..d + whole])));
        }
    }
    forms
        .into_iter()
        .find(|(_, form)| text.contains(form.as_str()))
        .map(|(name, _)| name)
}

#[test]
fn the_leak_search_finds_every_encoding_at_every_alignment() {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let secret: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let find = |stored: &[u8]| {
        let mut haystack = vec![0xffu8; 100];
        haystack.extend_from_slice(stored);
        haystack.extend_from_slice(&[0x80; 100]);
        let text = String::from_utf8_lossy(&haystack).into_owned();
        leaked_form(&haystack, &text, &secret)
    };
    assert_eq!(find(b"nothing to see"), None);
    for lead in 0..3 {
        for trail in 0..3 {
            let mut around = vec![b'x'; lead];
            around.extend_from_slice(&secret);
            around.extend(std::iter::repeat_n(b'y', trail));
            let encodings = [
                around.clone(),
                hex::encode(&around).into_bytes(),
                hex::encode_upper(&around).into_bytes(),
                STANDARD.encode(&around).into_bytes(),
                STANDARD_NO_PAD.encode(&around).into_bytes(),
                URL_SAFE.encode(&around).into_bytes(),
                URL_SAFE_NO_PAD.encode(&around).into_bytes(),
            ];
            for (i, stored) in encodings.iter().enumerate() {
                assert!(find(stored).is_some(), "encoding {i}, {lead} bytes before");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_no_plaintext_share() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let who = email("secret@example.com");
    let wallets = dyad
        .create_pregen_wallet_per_type(&[WalletType::Evm, WalletType::Solana], &who)
        .await
        .unwrap();
    for w in &wallets {
        dyad.sign_message(w.id, b"leave traces").await.unwrap();
    }
    dyad.update_pregen_wallet_identifier(wallets[1].id, &email("moved@example.com"))
        .await
        .unwrap();
    // The person claims the EVM wallet: its new shares, the session and the recovery secret
    // must not be stored either.
    let person = t.person(&key, "secret@example.com").await;
    person
        .set_user_share(dyad.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let claimed = person.claim_pregen_wallets(None).await.unwrap();
    assert_eq!(claimed.len(), 1);
    person.sign_message(wallets[0].id, b"leave traces").await.unwrap();
    let exported = person.export_session().unwrap();
    let token: serde_json::Value = serde_json::from_str(&exported).unwrap();
    let token = token["session"].as_str().unwrap().to_string();
    let recovery = claimed[0].recovery_secret.expose().to_string();

    // What must not be stored anywhere, in any form (name, bytes).
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    // The user side: each share's secret scalar and its whole encoding, from the share string
    // the app holds; and that string itself, whole and per wallet.
    let share_string = person.get_user_share().unwrap();
    let old_user = dyad_sdk::UserShare::decode(dyad.get_user_share().unwrap().expose()).unwrap();
    secrets.push((
        "old EVM user scalar".into(),
        old_user[0].share.danger_secret_scalar().to_vec(),
    ));
    secrets.push(("session token".into(), token.as_bytes().to_vec()));
    secrets.push(("recovery secret".into(), recovery.as_bytes().to_vec()));
    let recovery_hex = recovery.strip_prefix("dyad_recovery_").unwrap();
    secrets.push(("recovery secret bytes".into(), hex::decode(recovery_hex).unwrap()));
    for w in dyad_sdk::UserShare::decode(share_string.expose()).unwrap() {
        let ty = w.view.wallet_type;
        secrets.push((format!("{ty} user scalar"), w.share.danger_secret_scalar().to_vec()));
        secrets.push((format!("{ty} user share encoding"), w.share.to_bytes().to_vec()));
    }
    secrets.push(("user share string".into(), share_string.expose().as_bytes().to_vec()));
    for (i, entry) in share_string.expose().split('-').enumerate() {
        secrets.push((format!("user share string entry {i}"), entry.as_bytes().to_vec()));
    }
    // The cloud side's, by opening the sealed rows with the master key file, as only the
    // server can.
    for w in &wallets {
        let (share, plain) = t.cloud_share(w.id).await;
        let scalar = share.danger_secret_scalar().to_vec();
        // The search below would find a plaintext share: its encoding contains the scalar.
        let mut reversed = scalar.clone();
        reversed.reverse();
        assert!(
            contains(&plain, &scalar) || contains(&plain, &reversed),
            "{}",
            w.wallet_type
        );
        secrets.push((format!("{} cloud scalar", w.wallet_type), scalar));
        secrets.push((format!("{} cloud share encoding", w.wallet_type), plain));
    }
    // The API key's secret part, as the text the app sends and as the bytes it spells.
    let secret_part = key.rsplit('_').next().unwrap();
    assert_eq!(secret_part.len(), 64, "dyad_<env>_<id>_<64 hex digits>");
    secrets.push(("API key secret".into(), secret_part.as_bytes().to_vec()));
    secrets.push(("API key secret bytes".into(), hex::decode(secret_part).unwrap()));
    secrets.push(("API key".into(), key.as_bytes().to_vec()));
    // A scalar may be written in either byte order (secp256k1 big-endian, Ed25519 little-endian).
    for i in 0..secrets.len() {
        if secrets[i].0.ends_with("scalar") {
            let (name, mut bytes) = secrets[i].clone();
            bytes.reverse();
            secrets.push((format!("{name}, reversed"), bytes));
        }
    }
    assert_eq!(secrets.len(), 4 + 4 * 2 + 1 + 2 + 3 + 5);

    let mut scanned = Vec::new();
    if support::on_postgres() {
        // The server's files are PostgreSQL's own: scan every row of every table instead, each
        // cell as text (byte strings in hex, which the hex forms above find).
        for (table, bytes) in t.every_table().await {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            for (what, secret) in &secrets {
                if let Some(form) = leaked_form(&bytes, &text, secret) {
                    panic!("{what} found in table {table} as {form}");
                }
            }
            scanned.push((table, bytes.len()));
        }
        assert!(
            scanned.iter().any(|(t, n)| t == "cloud_shares" && *n > 1000),
            "{scanned:?}"
        );
        return;
    }
    for entry in std::fs::read_dir(t.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "master.key" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        for (what, secret) in &secrets {
            if let Some(form) = leaked_form(&bytes, &text, secret) {
                panic!("{what} found in {name} as {form}");
            }
        }
        scanned.push((name, bytes.len()));
    }
    scanned.sort();
    let names: Vec<&str> = scanned.iter().map(|(n, _)| n.as_str()).collect();
    // The server runs in WAL mode: the log and its index are scanned with the database.
    assert_eq!(names, ["dyad.db", "dyad.db-shm", "dyad.db-wal"], "{scanned:?}");
    assert!(
        scanned.iter().map(|(_, n)| n).sum::<usize>() > 10_000,
        "the database files were not scanned: {scanned:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_wallet_refuses_to_sign() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &email("locked@example.com"))
        .await
        .unwrap();
    dyad.sign_message(w.id, b"before").await.unwrap();
    // What the sign ceremony does when DKLs reports a cheating peer (BanCounterparty).
    let scope = t.first_scope().await;
    let entry = dyad_server::audit::entry(
        scope,
        Some(w.id),
        dyad_server::audit::AuditAction::WalletLocked,
        json!({ "reason": "test" }),
    );
    t.store.lock_wallet(w.id, &entry).await.unwrap();
    let err = dyad.sign_message(w.id, b"after").await.unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::WalletLocked));
    assert!(matches!(err, SdkError::Api { status: 403, .. }));
    let log = t.store.audit_log(scope).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.action == "sign.denied").count(), 1);
    assert_eq!(log.iter().filter(|r| r.action == "sign.completed").count(), 1);
}

/// Refused as a claimed wallet is: 403 `WALLET_CLAIMED`.
#[track_caller]
fn assert_claimed<T: std::fmt::Debug>(what: &str, result: Result<T, SdkError>) {
    match result {
        Err(SdkError::Api {
            status: 403,
            code: ErrorCode::WalletClaimed,
            ..
        }) => {}
        other => panic!("{what}: expected 403 WALLET_CLAIMED, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_wallet_refuses_to_sign_and_to_change_its_identifier() {
    let t = TestServer::start_without_reaping().await;
    // Raw signing on, so `sign-raw` is refused for the claim, not the setting.
    let key = t.app_allowing_raw_signing("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let who = email("claimed@example.com");
    let w = dyad.create_pregen_wallet(WalletType::Evm, &who).await.unwrap();
    // A signature authorised before the claim, whose ceremony connects after it.
    let ticket = t.sign_ticket(&key, w.id, b"authorised before").await;

    // The person claims it (their session, the app's share handed over).
    let person = t.person(&key, "claimed@example.com").await;
    person
        .set_user_share(dyad.get_user_share().unwrap().expose())
        .await
        .unwrap();
    person.claim_pregen_wallets(None).await.unwrap();
    let claimed = dyad.get_wallet(w.id).await.unwrap();
    assert_eq!(claimed.status, dyad_proto::WalletStatus::Claimed);
    assert_eq!(claimed.pregen_id, who);

    // Each refusal writes its one audit entry by design (signing::authorise and
    // pregen::change_identifier audit a real wallet's refusals), and nothing else: no ceremony.
    let transaction = TransactionRequest {
        bytes: eip155_unsigned(),
        chain_id: Some(1),
        network_passphrase: None,
        cosmos_sign_mode: None,
    };
    let denied = [("sign.denied", w.id, "WALLET_CLAIMED")];
    let before = t.rows().await;
    assert_claimed("sign-message", dyad.sign_message(w.id, b"after").await);
    t.assert_only_audited(&before, &denied, "sign-message").await;
    let before = t.rows().await;
    assert_claimed("sign-transaction", dyad.sign_transaction(w.id, &transaction).await);
    t.assert_only_audited(&before, &denied, "sign-transaction").await;
    let before = t.rows().await;
    assert_claimed("sign-typed-data", dyad.sign_typed_data(w.id, &mail_typed_data()).await);
    t.assert_only_audited(&before, &denied, "sign-typed-data").await;
    let before = t.rows().await;
    assert_claimed("sign-raw", dyad.sign_raw(w.id, [7; 32]).await);
    t.assert_only_audited(&before, &denied, "sign-raw").await;
    let before = t.rows().await;
    assert_claimed(
        "update identifier",
        dyad.update_pregen_wallet_identifier(w.id, &email("new@example.com"))
            .await,
    );
    t.assert_only_audited(
        &before,
        &[("wallet.identifier_change_denied", w.id, "WALLET_CLAIMED")],
        "update identifier",
    )
    .await;
    assert_eq!(dyad.get_wallet(w.id).await.unwrap(), claimed);
    assert!(dyad
        .get_pregen_wallets(&email("new@example.com"))
        .await
        .unwrap()
        .is_empty());

    // The ceremony authorised before the claim reads the wallet again once it has its turn,
    // and is refused before any protocol round.
    let mut client = Manual::connect(&t.url(), &ticket).await;
    assert_eq!(client.abort_code_at_once().await, ErrorCode::WalletClaimed);
    let log = t.audit_log().await;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "sign.failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].detail["code"], "WALLET_CLAIMED");
    assert_eq!(log.iter().filter(|r| r.action == "sign.completed").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pinned_to_another_key_is_refused_before_any_share_is_used() {
    // No reaping during the test: it would delete the spent ceremony row between the counts.
    let t = TestServer::start_without_reaping().await;
    let key = t.app("shop").await;
    let real = server_key(&t.url()).await;
    let maker = Dyad::new(&t.url(), &key).with_ceremony_key(real);
    let w = maker
        .create_pregen_wallet(WalletType::Evm, &email("pin@example.com"))
        .await
        .unwrap();
    let share = maker.get_user_share().unwrap();
    let before = t.rows().await;

    let wrong = CeremonyKey::new([0x42u8; 32]);
    let pinned = Dyad::new(&t.url(), &key).with_ceremony_key(wrong);
    // /v1/info disagrees with the pin: refused before any request that starts a ceremony.
    let err = pinned
        .create_pregen_wallet(WalletType::Evm, &email("pin2@example.com"))
        .await
        .unwrap_err();
    match &err {
        SdkError::ServerKeyMismatch { pinned, presented } => {
            assert_eq!(pinned, &format!("0x{}", hex::encode(wrong)));
            assert_eq!(presented, &format!("0x{}", hex::encode(real)));
        }
        other => panic!("expected ServerKeyMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("pinned"), "{err}");
    assert!(matches!(
        pinned.verify_ceremony_key().await,
        Err(SdkError::ServerKeyMismatch { .. })
    ));
    // A share made with the real key is not for a client pinned to another one (checked offline).
    let err = pinned.set_user_share(share.expose()).await.unwrap_err();
    assert!(matches!(err, SdkError::ForeignShare { .. }), "{err:?}");
    assert!(pinned.loaded_wallets().is_empty());
    t.assert_unchanged(&before, "a client pinned to another key").await;

    // Pinned to the right key: loads and signs.
    let right = Dyad::new(&t.url(), &key).with_ceremony_key(real);
    right.set_user_share(share.expose()).await.unwrap();
    let r = right.sign_message(w.id, b"pinned").await.unwrap();
    verify_message(&w, b"pinned", &r.signature).unwrap();
}

/// A server that answers `/v1/info` with `claimed` (another server's ceremony key) and starts
/// ceremonies, but holds a different Noise key: what an impostor in front of the API can do.
/// Its sign tickets carry `summary`, what the real server would say it decoded, so that an SDK
/// goes on to the handshake. Counts the handshakes it could not answer.
async fn impostor(
    claimed: CeremonyKey,
    summary: dyad_sdk::TxSummary,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::Json;
    use dyad_proto::rest::{CeremonyTicket, InfoResponse};
    use dyad_proto::{CeremonyId, Responder, ServerStaticKey, WalletId};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let own = Arc::new(ServerStaticKey::from_secret([9u8; 32]).unwrap());
    assert_ne!(own.public(), claimed);
    let failed = Arc::new(AtomicUsize::new(0));
    let ticket = move |wallet_id: WalletId, summary: Option<dyad_sdk::TxSummary>| CeremonyTicket {
        ceremony_id: CeremonyId::random(),
        wallet_id,
        expires_at: 0,
        summary,
    };
    let counter = failed.clone();
    let app = axum::Router::new()
        .route(
            "/v1/info",
            get(move || async move {
                Json(InfoResponse {
                    version: "0.1.0".into(),
                    ceremony_public_key: claimed,
                    wallet_types: WalletType::ALL.to_vec(),
                })
            }),
        )
        .route(
            "/v1/wallets",
            post(move || async move { (StatusCode::CREATED, Json(ticket(WalletId::random(), None))) }),
        )
        .route(
            "/v1/wallets/{id}/{op}",
            post(move |Path((id, _op)): Path<(String, String)>| {
                let summary = summary.clone();
                async move { (StatusCode::CREATED, Json(ticket(id.parse().unwrap(), Some(summary)))) }
            }),
        )
        .route(dyad_proto::batch::BATCH_PATH, {
            let (own, counter) = (own.clone(), counter.clone());
            get(move |ws: WebSocketUpgrade| {
                let (own, counter) = (own.clone(), counter.clone());
                async move {
                    ws.on_upgrade(move |mut socket| async move {
                        if let Some(Ok(WsMessage::Binary(m1))) = socket.recv().await {
                            if Responder::respond_connection(&own, &m1).is_err() {
                                counter.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })
                }
            })
        })
        .route(
            "/v1/ceremonies/{id}",
            get(move |Path(id): Path<String>, ws: WebSocketUpgrade| {
                let (own, counter) = (own.clone(), counter.clone());
                async move {
                    ws.on_upgrade(move |mut socket| async move {
                        let id: CeremonyId = id.parse().unwrap();
                        if let Some(Ok(WsMessage::Binary(m1))) = socket.recv().await {
                            if Responder::respond(&own, &id, &m1).is_err() {
                                counter.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        // As the real server does on a failed handshake: hang up.
                    })
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, failed, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_ceremony_key_fails_the_handshake_with_a_clear_error() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let real = server_key(&t.url()).await;
    let maker = Dyad::new(&t.url(), &key);
    let w = maker
        .create_pregen_wallet(WalletType::Evm, &email("mitm@example.com"))
        .await
        .unwrap();
    let share = maker.get_user_share().unwrap();
    let public_key = dyad_sdk::UserShare::decode(share.expose()).unwrap()[0]
        .share
        .public_key();
    let account = dyad_chains::Account {
        wallet_type: w.wallet_type,
        public_key: &public_key,
        address: &w.address,
    };
    let summary = dyad_chains::SignRequest::Message(b"to the impostor".to_vec())
        .prepare(account)
        .unwrap()
        .summary;

    let (url, failed, task) = impostor(real, summary).await;
    let expected = format!("0x{}", hex::encode(real));
    // Pinned or not, the impostor passes the /v1/info check and fails the Noise handshake.
    for client in [Dyad::new(&url, &key).with_ceremony_key(real), Dyad::new(&url, &key)] {
        let err = client
            .create_pregen_wallet(WalletType::Evm, &email("mitm2@example.com"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SdkError::HandshakeFailed { expected: e } if *e == expected),
            "{err:?}"
        );
        assert!(err.to_string().contains("Noise handshake"), "{err}");
        assert!(client.loaded_wallets().is_empty());

        client.set_user_share(share.expose()).await.unwrap();
        let err = client.sign_message(w.id, b"to the impostor").await.unwrap_err();
        assert!(matches!(&err, SdkError::HandshakeFailed { .. }), "{err:?}");

        // A batch connection's one handshake is refused the same way, before any lane.
        match client.batch().await {
            Err(SdkError::HandshakeFailed { expected: e }) => assert_eq!(e, expected),
            other => panic!("expected HandshakeFailed, got {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 6);
    task.abort();

    // The real server still signs with the same share.
    let back = Dyad::new(&t.url(), &key).with_ceremony_key(real);
    back.set_user_share(share.expose()).await.unwrap();
    back.sign_message(w.id, b"home").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_signing_is_refused_until_enabled_and_a_revoked_key_is_refused_at_once() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let scope = t.first_scope().await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &email("raw@example.com"))
        .await
        .unwrap();
    let signs = || t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'");
    let err = dyad.sign_raw(w.id, [7; 32]).await.unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::RawSigningDisabled));
    assert!(matches!(err, SdkError::Api { status: 403, .. }), "{err}");
    assert!(err.to_string().contains("--allow-raw-signing"), "{err}");
    assert_eq!(signs().await, 0);
    // Another app's wallet is still a 404, not a hint that it exists.
    let other = t.app("other").await;
    let stranger = reqwest::Client::new()
        .post(format!("{}/v1/wallets/{}/sign-raw", t.url(), w.id))
        .header("x-api-key", &other)
        .json(&json!({ "digest": format!("0x{}", "07".repeat(32)) }))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status().as_u16(), 404);

    dyad_server::api_key::set_allow_raw_signing(t.store.as_ref(), scope.app_id, true)
        .await
        .unwrap();
    dyad.sign_raw(w.id, [7; 32]).await.unwrap();
    dyad_server::api_key::set_allow_raw_signing(t.store.as_ref(), scope.app_id, false)
        .await
        .unwrap();
    let err = dyad.sign_raw(w.id, [7; 32]).await.unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::RawSigningDisabled));
    let log = t.store.audit_log(scope).await.unwrap();
    let denied: Vec<_> = log.iter().filter(|r| r.action == "sign.denied").collect();
    assert_eq!(denied.len(), 2);
    assert_eq!(denied[0].detail["reason"], "RAW_SIGNING_DISABLED");
    assert_eq!(log.iter().filter(|r| r.action == "app.updated").count(), 2);

    // A second key works until it is revoked, then gets 401 on the very next request.
    let (second, second_key) = dyad_server::api_key::create_key(t.store.as_ref(), scope.app_id)
        .await
        .unwrap();
    let by_second = Dyad::new(&t.url(), second_key.expose());
    by_second.get_wallet(w.id).await.unwrap();
    dyad_server::api_key::revoke_key(t.store.as_ref(), scope.app_id, &second.key_id)
        .await
        .unwrap();
    let err = by_second.get_wallet(w.id).await.unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::Unauthenticated));
    assert!(matches!(err, SdkError::Api { status: 401, .. }));
    // The first key is untouched.
    dyad.get_wallet(w.id).await.unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_its_wal_and_shm_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    Dyad::new(&t.url(), &key)
        .create_pregen_wallet(WalletType::Solana, &email("files@example.com"))
        .await
        .unwrap();
    let dir = t.data_dir();
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    // On PostgreSQL the folder holds the master key only.
    let files: &[&str] = if support::on_postgres() {
        &["master.key"]
    } else {
        &["dyad.db", "dyad.db-wal", "dyad.db-shm", "master.key"]
    };
    for name in files {
        let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
