//! End to end: a real server on port 0 with a temporary SQLite file, driven through the SDK (and
//! raw HTTP/WebSocket where a test must misbehave). Signatures are checked with the standard
//! verifiers (k256 with ecrecover, ed25519-dalek verify_strict) on digests rebuilt independently.

mod support;

use base64::Engine;
use dyad_proto::{CeremonyKey, ErrorCode, WalletType};
use dyad_sdk::{Dyad, SdkError};
use dyad_test_support::verify::verify_message;
use dyad_test_support::{custom_id, email};
use serde_json::{json, Value};
use support::{server_key, TestServer};

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
        assert!(verify_message(w, b"another message", &sig.signature).is_err());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_app_cannot_see_or_use_a_wallet() {
    let t = TestServer::start().await;
    let key_a = t.app("a").await;
    let key_b = t.app("b").await;
    let a = Dyad::new(&t.url(), &key_a);
    let who = email("shared@example.com");
    let w = a.create_pregen_wallet(WalletType::Stellar, &who).await.unwrap();
    let share = a.get_user_share().unwrap();

    let b = Dyad::new(&t.url(), &key_b);
    assert!(b.get_pregen_wallets(&who).await.unwrap().is_empty());
    assert!(!b.has_pregen_wallet(&who, None).await.unwrap());
    assert_eq!(
        api_code(&b.get_wallet(w.id).await.unwrap_err()),
        Some(ErrorCode::WalletNotFound)
    );
    // Even holding app A's user share, app B's key cannot sign or rename.
    b.set_user_share(share.expose()).await.unwrap();
    let err = b.sign_message(w.id, b"steal").await.unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::WalletNotFound));
    let err = b
        .update_pregen_wallet_identifier(w.id, &email("thief@example.com"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(ErrorCode::WalletNotFound));
    assert_eq!(a.get_wallet(w.id).await.unwrap().pregen_id, who);
    // B may have its own wallet for the same person.
    b.create_pregen_wallet(WalletType::Stellar, &who).await.unwrap();

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
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let http = reqwest::Client::new();
    let post = |body: &'static str| {
        http.post(format!("{}/v1/wallets", t.url()))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let check = |status: u16, code: &'static str| {
        move |r: reqwest::Response| async move {
            assert_eq!(r.status().as_u16(), status);
            let b: Value = r.json().await.unwrap();
            assert_eq!(b["code"], code, "{b}");
            assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    };
    check(400, "INVALID_JSON")(post("{not json").await.unwrap()).await;
    check(400, "INVALID_JSON")(post("").await.unwrap()).await;
    check(422, "UNSUPPORTED_WALLET_TYPE")(
        post(r#"{"type":"BITCOIN","pregenId":{"email":"a@b.co"}}"#)
            .await
            .unwrap(),
    )
    .await;
    check(400, "INVALID_IDENTIFIER")(post(r#"{"type":"EVM","pregenId":{"email":"nope"}}"#).await.unwrap()).await;
    check(400, "INVALID_IDENTIFIER")(post(r#"{"type":"EVM","pregenId":{"nickname":"x"}}"#).await.unwrap()).await;
    check(400, "INVALID_REQUEST")(post(r#"{"type":"EVM"}"#).await.unwrap()).await;
    check(400, "INVALID_REQUEST")(post(r#"[1,2]"#).await.unwrap()).await;

    let r = http.get(format!("{}/v1/wallets", t.url())).send().await.unwrap();
    check(401, "UNAUTHENTICATED")(r).await;
    let r = t.get(&key, "/v1/wallets?email=a@b.co&phone=%2B14155550100").await;
    check(400, "INVALID_REQUEST")(r).await;
    let r = t.get(&key, "/v1/wallets?email=a@b.co&email=c@d.co").await;
    check(400, "INVALID_REQUEST")(r).await;
    let r = http.get(format!("{}/v1/nothing-here", t.url())).send().await.unwrap();
    check(404, "NOT_FOUND")(r).await;
    let r = http.delete(format!("{}/v1/wallets", t.url())).send().await.unwrap();
    check(405, "METHOD_NOT_ALLOWED")(r).await;
    let r = t.get(&key, "/v1/wallets/%FF").await;
    check(400, "INVALID_REQUEST")(r).await;
    let r = t.get(&key, "/v1/wallets/not-a-uuid").await;
    check(404, "WALLET_NOT_FOUND")(r).await;
    let r = http
        .get(format!("{}/v1/ceremonies/{}", t.url(), "00".repeat(32)))
        .send()
        .await
        .unwrap();
    check(400, "INVALID_REQUEST")(r).await;
    let ws = t.url().replace("http://", "ws://");
    let refused = tokio_tungstenite::connect_async(format!("{ws}/v1/ceremonies/{}", "00".repeat(32))).await;
    assert!(
        matches!(&refused, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404),
        "{refused:?}"
    );

    // A real wallet, then bad sign and patch bodies against it.
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Cosmos, &email("bad@example.com"))
        .await
        .unwrap();
    let r = http
        .post(format!("{}/v1/wallets/{}/sign-message", t.url(), w.id))
        .header("x-api-key", &key)
        .body(r#"{"messageBase64":"***"}"#)
        .send()
        .await
        .unwrap();
    check(400, "INVALID_REQUEST")(r).await;
    let r = http
        .patch(format!("{}/v1/wallets/{}", t.url(), w.id))
        .header("x-api-key", &key)
        .body(r#"{"pregenId":{"phone":"12"}}"#)
        .send()
        .await
        .unwrap();
    check(400, "INVALID_IDENTIFIER")(r).await;

    let huge = format!(r#"{{"messageBase64":"{}"}}"#, "A".repeat(3 * 1024 * 1024));
    let r = http
        .post(format!("{}/v1/wallets/{}/sign-message", t.url(), w.id))
        .header("x-api-key", &key)
        .body(huge)
        .send()
        .await
        .unwrap();
    check(413, "PAYLOAD_TOO_LARGE")(r).await;

    // Nothing but the one good wallet exists, unchanged.
    let all: Value = t.get(&key, "/v1/wallets").await.json().await.unwrap();
    assert_eq!(all["wallets"].as_array().unwrap().len(), 1);
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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

    // The user side's secret scalars, from the share string the app holds.
    let mut needles: Vec<Vec<u8>> = dyad_sdk::UserShare::decode(dyad.get_user_share().unwrap().expose())
        .unwrap()
        .iter()
        .map(|w| w.share.danger_secret_scalar().to_vec())
        .collect();

    // The cloud side's, by opening the sealed rows with the master key file, as only the server can.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", t.data_dir().join("dyad.db").display()))
        .await
        .unwrap();
    let master = dyad_server::MasterKey::from_file(&t.data_dir().join("master.key")).unwrap();
    let wrapped: Vec<u8> = sqlx::query_scalar("SELECT wrapped FROM data_keys WHERE id = 1")
        .fetch_one(&db)
        .await
        .unwrap();
    let data_key = master.unwrap_data_key(1, &wrapped).unwrap();
    for w in &wallets {
        let sealed: Vec<u8> =
            sqlx::query_scalar("SELECT sealed FROM cloud_shares WHERE wallet_id = $1 AND key_version = 1")
                .bind(w.id.to_string())
                .fetch_one(&db)
                .await
                .unwrap();
        let plain = data_key.open_share(&w.id, 1, &sealed).unwrap();
        let share = dyad_mpc::KeyShare::from_bytes(&plain).unwrap();
        let scalar = share.danger_secret_scalar().to_vec();
        // The search below would find a plaintext share: its encoding contains the scalar.
        let mut reversed = scalar.clone();
        reversed.reverse();
        assert!(
            contains(&plain, &scalar) || contains(&plain, &reversed),
            "{}",
            w.wallet_type
        );
        needles.push(scalar);
    }
    db.close().await;
    assert_eq!(needles.len(), 4);

    let mut scanned = 0;
    for entry in std::fs::read_dir(t.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "master.key") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        for n in &needles {
            let mut r = n.clone();
            r.reverse();
            assert!(
                !contains(&bytes, n) && !contains(&bytes, &r),
                "secret scalar found in {}",
                path.display()
            );
        }
    }
    assert!(scanned > 10_000, "the database files were not scanned");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_pinned_to_another_key_is_refused_before_any_share_is_used() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let real = server_key(&t.url()).await;
    let maker = Dyad::new(&t.url(), &key).with_ceremony_key(real);
    let w = maker
        .create_pregen_wallet(WalletType::Evm, &email("pin@example.com"))
        .await
        .unwrap();
    let share = maker.get_user_share().unwrap();
    let rows = || async {
        (
            t.count("SELECT COUNT(*) FROM wallets").await,
            t.count("SELECT COUNT(*) FROM ceremonies").await,
            t.count("SELECT COUNT(*) FROM audit_log").await,
        )
    };
    let before = rows().await;

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
    assert_eq!(rows().await, before, "nothing reached the database");

    // Pinned to the right key: loads and signs.
    let right = Dyad::new(&t.url(), &key).with_ceremony_key(real);
    right.set_user_share(share.expose()).await.unwrap();
    let r = right.sign_message(w.id, b"pinned").await.unwrap();
    verify_message(&w, b"pinned", &r.signature).unwrap();
}

/// A server that answers `/v1/info` with `claimed` (another server's ceremony key) and starts
/// ceremonies, but holds a different Noise key: what an impostor in front of the API can do.
/// Counts the handshakes it could not answer.
async fn impostor(
    claimed: CeremonyKey,
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
    let ticket = |wallet_id: WalletId| CeremonyTicket {
        ceremony_id: CeremonyId::random(),
        wallet_id,
        expires_at: 0,
        summary: None,
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
            post(move || async move { (StatusCode::CREATED, Json(ticket(WalletId::random()))) }),
        )
        .route(
            "/v1/wallets/{id}/{op}",
            post(move |Path((id, _op)): Path<(String, String)>| async move {
                (StatusCode::CREATED, Json(ticket(id.parse().unwrap())))
            }),
        )
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

    let (url, failed, task) = impostor(real).await;
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
    }
    assert_eq!(failed.load(std::sync::atomic::Ordering::SeqCst), 4);
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
    for name in ["dyad.db", "dyad.db-wal", "dyad.db-shm", "master.key"] {
        let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
