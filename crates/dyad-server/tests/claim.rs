//! People and claims, end to end: a real server on port 0 and the SDK. A person logs in with
//! the code the outbox holds (never a backdoor), claims a wallet the app pregenerated for them,
//! and from then on only their session with the new share signs. Signatures are checked with
//! the standard verifiers on independently rebuilt digests.

mod support;

use std::sync::Arc;

use base64::Engine;

use dyad_mpc::Role;
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{Claim, ErrorCode, Frame, Outcome, PregenId, WalletStatus, WalletType};
use dyad_sdk::{Dyad, SdkError, UserShare};
use dyad_test_support::verify::verify_message;
use dyad_test_support::{custom_id, email};
use support::{expect_error, Manual, TestServer};

fn code(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

/// An app, and one EVM (DKLs) and one Solana (FROST) wallet pregenerated for `address`, which
/// the app signs with; the app's client and its share string.
async fn pregenerated(t: &TestServer, address: &str) -> (String, Dyad, UserShare) {
    let key = t.app("shop").await;
    let app = Dyad::new(&t.url(), &key);
    let wallets = app
        .create_pregen_wallet_per_type(&[WalletType::Evm, WalletType::Solana], &email(address))
        .await
        .unwrap();
    // The app signs while it holds the wallets.
    for w in &wallets {
        let s = app.sign_message(w.id, b"before the claim").await.unwrap();
        verify_message(w, b"before the claim", &s.signature).unwrap();
    }
    let share = app.get_user_share().unwrap();
    (key, app, share)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_claiming_rotates_the_shares_and_only_the_owner_signs_after() {
    let t = TestServer::start().await;
    let (key, app, share) = pregenerated(&t, "ada@example.com").await;
    let before = app.loaded_wallets();

    // The person logs in through the app with the code the outbox holds, and the app hands
    // the share over (delayed claiming).
    let person = t.person(&key, "Ada@Example.com").await;
    let session = person.session().await.unwrap();
    assert_eq!(session.identifiers, vec![email("ada@example.com")]);
    person.set_user_share(share.expose()).await.unwrap();
    let claimed = person.claim_pregen_wallets(None).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_ne!(
        claimed[0].recovery_secret.expose().as_str(),
        claimed[1].recovery_secret.expose().as_str()
    );
    for (c, b) in claimed.iter().zip(&before) {
        assert_eq!(c.wallet.id, b.id);
        assert_eq!(c.wallet.address, b.address, "same address after the claim");
        assert_eq!(c.wallet.public_key, b.public_key);
        assert_eq!(c.wallet.status, WalletStatus::Claimed);
        assert_eq!(c.wallet.key_version, 2);
        // The owner signs with the new share; the standard verifier accepts it.
        let s = person.sign_message(c.wallet.id, b"mine now").await.unwrap();
        verify_message(&c.wallet, b"mine now", &s.signature).unwrap();
        // Only the new cloud share is left; the recovery secret is kept only as Argon2id.
        let shares = t
            .count(&format!(
                "SELECT COUNT(*) FROM cloud_shares WHERE wallet_id = '{}' AND key_version = 2",
                c.wallet.id
            ))
            .await;
        let all = t
            .count(&format!(
                "SELECT COUNT(*) FROM cloud_shares WHERE wallet_id = '{}'",
                c.wallet.id
            ))
            .await;
        assert_eq!((shares, all), (1, 1));
        let db = t.db().await;
        let hash: String = sqlx::query_scalar("SELECT recovery_hash FROM wallets WHERE id = $1")
            .bind(c.wallet.id.to_string())
            .fetch_one(&db)
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let secret = c.recovery_secret.expose();
        assert!(!hash.contains(&secret[14..]));
    }

    // The app's old share is dead: refused before any ceremony.
    for w in &before {
        let e = app.sign_message(w.id, b"still mine?").await.unwrap_err();
        assert_eq!(code(&e), Some(ErrorCode::WalletClaimed), "{e}");
    }
    // The app's API key alone cannot sign, even holding the person's new share.
    let with_new_share = Dyad::new(&t.url(), &key);
    with_new_share
        .set_user_share(person.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let e = with_new_share.sign_message(before[0].id, b"hi").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletClaimed), "{e}");
    // The owner's session with the old share: told the share is outdated.
    let stale = Dyad::new(&t.url(), &key);
    stale.import_session(&person.export_session().unwrap()).unwrap();
    stale.set_user_share(share.expose()).await.unwrap();
    let e = stale.sign_message(before[0].id, b"hi").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::ShareOutdated), "{e}");
    assert!(e.to_string().contains("outdated"), "{e}");
    // A claimed wallet cannot be claimed again.
    let token = session_token(&person.export_session().unwrap());
    let again = post_claim(&t.url(), &token, before[0].id).await;
    expect_error(again, 409, "ALREADY_CLAIMED").await;
    assert_eq!(t.audited("wallet.claimed").await, 2);
}

/// `POST /v1/wallets/{id}/claim` on the server at `url` with the session token `token`.
async fn post_claim(url: &str, token: &str, wallet: dyad_proto::WalletId) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/v1/wallets/{wallet}/claim"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The token inside an exported session.
fn session_token(exported: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(exported).unwrap();
    v["session"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_person_cannot_claim_even_holding_the_share() {
    let t = TestServer::start().await;
    let (key, _app, share) = pregenerated(&t, "ada@example.com").await;
    let wallet = UserShare::decode(share.expose()).unwrap()[0].view.clone();
    let other = t.person(&key, "eve@example.com").await;
    other.set_user_share(share.expose()).await.unwrap();
    // The SDK finds nothing this session may claim…
    let e = other.claim_pregen_wallets(None).await.unwrap_err();
    assert!(matches!(e, SdkError::InvalidInput(_)), "{e}");
    // …and the server refuses the claim itself with 403, writing only its denial.
    let before = t.rows().await;
    let token = session_token(&other.export_session().unwrap());
    let r = post_claim(&t.url(), &token, wallet.id).await;
    expect_error(r, 403, "CLAIM_NOT_ALLOWED").await;
    t.assert_only_audited(
        &before,
        &[("claim.denied", wallet.id, "CLAIM_NOT_ALLOWED")],
        "foreign claim",
    )
    .await;
    // Eve cannot sign with it either, nor see it.
    let e = other.sign_message(wallet.id, b"hi").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    assert!(other
        .get_pregen_wallets(&email("ada@example.com"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_claiming_hands_the_share_over_during_login() {
    let t = TestServer::start().await;
    let (key, _app, share) = pregenerated(&t, "bo@example.com").await;
    let kept = share.expose().to_string();
    let person = Dyad::new(&t.url(), &key);
    person.start_email_login("bo@example.com").await.unwrap();
    let code = t.outbox_code("bo@example.com").await;
    let asked = std::sync::Mutex::new(Vec::new());
    let logged_in = person
        .verify_email_login_with("bo@example.com", &code, async |id: &PregenId| {
            asked.lock().unwrap().push(id.clone());
            Some(kept.clone())
        })
        .await
        .unwrap();
    assert_eq!(*asked.lock().unwrap(), vec![email("bo@example.com")]);
    assert!(logged_in.new_user);
    assert_eq!(logged_in.claimed.len(), 2);
    for c in &logged_in.claimed {
        assert_eq!(c.wallet.status, WalletStatus::Claimed);
        let s = person.sign_message(c.wallet.id, b"claimed at login").await.unwrap();
        verify_message(&c.wallet, b"claimed at login", &s.signature).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_claiming_when_the_identifier_is_nothing_the_person_can_verify() {
    let t = TestServer::start().await;
    let key = t.app("game").await;
    let app = Dyad::new(&t.url(), &key);
    // A wallet the app keeps for itself (a custom id of its own, nobody's email).
    let w = app
        .create_pregen_wallet(WalletType::Solana, &custom_id("treasury-7"))
        .await
        .unwrap();
    let person = t.person(&key, "cy@example.com").await;
    person
        .set_user_share(app.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let e = person.claim_pregen_wallets(None).await.unwrap_err();
    assert!(matches!(e, SdkError::InvalidInput(_)), "{e}");
    let token = session_token(&person.export_session().unwrap());
    let r = post_claim(&t.url(), &token, w.id).await;
    expect_error(r, 403, "CLAIM_NOT_ALLOWED").await;
    // The app keeps signing with it.
    let s = app.sign_message(w.id, b"still the app's").await.unwrap();
    verify_message(&w, b"still the app's", &s.signature).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_id_wallet_is_claimed_once_the_app_moves_it_to_the_persons_email() {
    let t = TestServer::start().await;
    let key = t.app("bank").await;
    let app = Dyad::new(&t.url(), &key);
    let w = app
        .create_pregen_wallet(WalletType::Evm, &custom_id("cust-42"))
        .await
        .unwrap();
    // The person signs up with their email; the app maps its custom id to it.
    app.update_pregen_wallet_identifier(w.id, &email("dee@example.com"))
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();
    let person = t.person(&key, "dee@example.com").await;
    person.set_user_share(share.expose()).await.unwrap();
    let claimed = person
        .claim_pregen_wallets(Some(&email("dee@example.com")))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].wallet.address, w.address);
    let s = person.sign_message(w.id, b"dee").await.unwrap();
    verify_message(&claimed[0].wallet, b"dee", &s.signature).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_claims_of_one_wallet_one_wins_the_other_gets_409() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let app = Dyad::new(&t.url(), &key);
    app.create_pregen_wallet(WalletType::Solana, &email("fay@example.com"))
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();
    let one = t.person(&key, "fay@example.com").await;
    let two = Dyad::new(&t.url(), &key);
    two.import_session(&one.export_session().unwrap()).unwrap();
    one.set_user_share(share.expose()).await.unwrap();
    two.set_user_share(share.expose()).await.unwrap();
    let (a, b) = tokio::join!(one.claim_pregen_wallets(None), two.claim_pregen_wallets(None));
    let (won, lost) = match (a, b) {
        (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
        other => panic!("exactly one claim must win: {other:?}"),
    };
    assert_eq!(won.len(), 1);
    match &lost {
        SdkError::Api { status, code, .. } => {
            assert_eq!(*status, 409);
            assert!(
                matches!(code, ErrorCode::ClaimInProgress | ErrorCode::AlreadyClaimed),
                "{code}"
            );
        }
        other => panic!("expected a 409, got {other:?}"),
    }
    assert_eq!(t.audited("wallet.claimed").await, 1);
}

/// Drive a claim by hand as the person's client up to `stop` (after the refresh, or after
/// `Confirm` without reading `Done`), then hang up.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stop {
    AfterRefresh,
    AfterConfirm,
}

async fn claim_by_hand(t: &TestServer, token: &str, share: &UserShare, stop: Stop) -> Option<dyad_mpc::KeyShare> {
    let loaded = UserShare::decode(share.expose()).unwrap().remove(0);
    let resp = post_claim(&t.url(), token, loaded.view.id).await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut m = Manual::connect_live(&t.url(), &ticket).await;
    let script = Claim::new(Role::User, &ticket.ceremony_id, &loaded.share);
    let refreshed = m.run(script.refresh(Arc::clone(&loaded.share)).begin().unwrap()).await;
    if stop == Stop::AfterRefresh {
        return None;
    }
    let (test, start) = script.test_signature(refreshed).unwrap();
    let signature = m.run(start.begin().unwrap()).await;
    let new_share = test.verify(&signature).unwrap().into_share();
    match m.recv().await {
        Some(Frame::Recovery(_)) => {}
        other => panic!("expected the recovery secret, got {other:?}"),
    }
    m.send(&Frame::Confirm).await;
    // The server commits whether or not this side reads the answer.
    match m.recv().await {
        Some(Frame::Done(Outcome::Claimed(view))) => assert_eq!(view.key_version, 2),
        other => panic!("expected the claim's Done, got {other:?}"),
    }
    drop(m);
    Some(new_share)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_cut_short_leaves_the_old_pair_and_a_finished_one_the_new_pair_across_a_restart() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let app = Dyad::new(&t.url(), &key);
    let w = app
        .create_pregen_wallet(WalletType::Evm, &email("gus@example.com"))
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();
    let person = t.person(&key, "gus@example.com").await;
    let token = session_token(&person.export_session().unwrap());

    // Cut short after the refresh: nothing committed, the app's pair still signs and the
    // wallet can be claimed again at once.
    assert!(claim_by_hand(&t, &token, &share, Stop::AfterRefresh).await.is_none());
    let s = app.sign_message(w.id, b"old pair").await.unwrap();
    verify_message(&w, b"old pair", &s.signature).unwrap();
    assert_eq!(t.audited("claim.failed").await, 1);

    // The whole claim, by hand: the new share is the person's.
    let new_share = claim_by_hand(&t, &token, &share, Stop::AfterConfirm).await.unwrap();

    // Restart the server on the same data folder: the claim survived it.
    let dir = t.dir;
    t.server.shutdown().await.unwrap();
    let (server, _store) = support::serve(dir.path()).await;
    let url = server.url();
    let old = Dyad::new(&url, &key);
    old.set_user_share(share.expose()).await.unwrap();
    let e = old.sign_message(w.id, b"old pair").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletClaimed), "{e}");
    // The new share, in a share string of its own, signs as the owner.
    let owner = Dyad::new(&url, &key);
    owner.import_session(&person.export_session().unwrap()).unwrap();
    let current = owner.get_wallet(w.id).await.unwrap();
    assert_eq!((current.status, current.key_version), (WalletStatus::Claimed, 2));
    // The new share signs as the owner (the person's session), by hand.
    let message = b"new pair";
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/wallets/{}/sign-message", w.id))
        .bearer_auth(&token)
        .header("dyad-key-version", "2")
        .json(&serde_json::json!({ "messageBase64": base64::engine::general_purpose::STANDARD.encode(message) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut m = Manual::connect_live(&url, &ticket).await;
    let input = dyad_chains::message_sign_input(WalletType::Evm, &w.address, message).unwrap();
    let sid = dyad_proto::session_id(&ticket.ceremony_id, dyad_proto::Run::Sign);
    let signature = m.run(dyad_mpc::Sign::start(&new_share, &sid, &input).unwrap()).await;
    assert!(new_share.public_key().verify(&input, &signature).is_ok());
    match m.recv().await {
        Some(Frame::Done(Outcome::Signed(signed))) => verify_message(&w, message, &signed.signature).unwrap(),
        other => panic!("expected the signature, got {other:?}"),
    }
    server.shutdown().await.unwrap();
}

/// A server on a runtime of its own, so that the test can kill it: dropping the runtime stops
/// every task at its next await, mid-ceremony, without a graceful shutdown (open transactions
/// roll back as their connections drop, as when a process dies).
struct Killable {
    url: String,
    kill: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Killable {
    fn start(dir: &std::path::Path) -> Self {
        let dir = dir.to_path_buf();
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let server = rt.block_on(support::serve(&dir)).0;
            url_tx.send(server.url()).unwrap();
            let _ = kill_rx.recv();
            std::mem::forget(server);
            // Every task is dropped at its next await, as with `shutdown_background`, but this
            // returns only once the runtime's threads have stopped: a ceremony cannot send its
            // store another statement (say, the claim's commit) after `kill` returned.
            rt.shutdown_timeout(std::time::Duration::from_secs(30));
        });
        let url = url_rx.recv().unwrap();
        Self {
            url,
            kill: Some(kill_tx),
            thread: Some(thread),
        }
    }

    fn kill(mut self) {
        drop(self.kill.take());
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Where the hand-driven claim below is when the server is killed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum KillAt {
    /// During the refresh (after its first round).
    InRefresh,
    /// After the test signature of the new pair, before the recovery secret is read.
    AfterTestSignature,
    /// Right after the client's confirmation (the commit may or may not have happened).
    AfterConfirm,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_claim_leaves_the_old_pair_or_the_new_pair_working() {
    for at in [KillAt::InRefresh, KillAt::AfterTestSignature, KillAt::AfterConfirm] {
        let dir = dyad_test_support::private_tempdir();
        let server = Killable::start(dir.path());
        let store = support::open_store(dir.path()).await;
        let (_, api_key) = dyad_server::api_key::create_app(store.as_ref(), "shop", dyad_proto::Environment::Beta)
            .await
            .unwrap();
        let key = api_key.expose().to_string();
        let app = Dyad::new(&server.url, &key);
        let w = app
            .create_pregen_wallet(WalletType::Evm, &email("hal@example.com"))
            .await
            .unwrap();
        let share = app.get_user_share().unwrap();
        let person = Dyad::new(&server.url, &key);
        person.start_email_login("hal@example.com").await.unwrap();
        let outbox = store.outbox().await.unwrap();
        let code: String = outbox[0]
            .body
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| s.len() == 6)
            .unwrap()
            .into();
        person.verify_email_login("hal@example.com", &code).await.unwrap();
        let token = session_token(&person.export_session().unwrap());

        // The claim, by hand, up to the kill.
        let loaded = UserShare::decode(share.expose()).unwrap().remove(0);
        let resp = post_claim(&server.url, &token, w.id).await;
        let ticket: CeremonyTicket = resp.json().await.unwrap();
        let mut m = Manual::connect_live(&server.url, &ticket).await;
        let script = Claim::new(Role::User, &ticket.ceremony_id, &loaded.share);
        let mut new_share = None;
        if at == KillAt::InRefresh {
            let (_machine, _last) = m
                .run_until_last(script.refresh(Arc::clone(&loaded.share)).begin().unwrap())
                .await;
        } else {
            let refreshed = m.run(script.refresh(Arc::clone(&loaded.share)).begin().unwrap()).await;
            let (test, start) = script.test_signature(refreshed).unwrap();
            let signature = m.run(start.begin().unwrap()).await;
            new_share = Some(test.verify(&signature).unwrap().into_share());
            if at == KillAt::AfterConfirm {
                assert!(matches!(m.recv().await, Some(Frame::Recovery(_))));
                m.send(&Frame::Confirm).await;
            }
        }
        server.kill();
        drop(m);
        drop(store);

        // The dead process's lease and claim hold expire on their own; let them. Written before
        // the restart: the killed runtime's SQLite worker thread may still be running a statement
        // it was handed (a real process's would have died with it), and this write waits for its
        // transaction to end, so the restarted server finds the outcome settled.
        let db = support::raw_db(dir.path()).await;
        sqlx::query("UPDATE wallets SET lease_until = 0, claiming_until = NULL")
            .execute(&db)
            .await
            .unwrap();
        let (server, store) = support::serve(dir.path()).await;
        let now = store.wallet_by_id(w.id).await.unwrap().unwrap();
        let url = server.url();
        match now.key_version {
            1 => {
                // Not committed: the app's pair signs.
                let app = Dyad::new(&url, &key);
                app.set_user_share(share.expose()).await.unwrap();
                let s = app.sign_message(w.id, b"old pair").await.unwrap();
                verify_message(&w, b"old pair", &s.signature).unwrap();
            }
            2 => {
                // Committed: the old cloud share is gone and the new pair signs as the owner.
                assert_eq!(at, KillAt::AfterConfirm, "a commit before the confirmation");
                let shares: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cloud_shares WHERE key_version = 1")
                    .fetch_one(&db)
                    .await
                    .unwrap();
                assert_eq!(shares, 0);
                let new_share = new_share.as_ref().unwrap();
                let resp = reqwest::Client::new()
                    .post(format!("{url}/v1/wallets/{}/sign-message", w.id))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "messageBase64": base64::engine::general_purpose::STANDARD.encode(b"new pair") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 201);
                let ticket: CeremonyTicket = resp.json().await.unwrap();
                let mut m = Manual::connect_live(&url, &ticket).await;
                let input = dyad_chains::message_sign_input(WalletType::Evm, &w.address, b"new pair").unwrap();
                let sid = dyad_proto::session_id(&ticket.ceremony_id, dyad_proto::Run::Sign);
                let sig = m.run(dyad_mpc::Sign::start(new_share, &sid, &input).unwrap()).await;
                assert!(new_share.public_key().verify(&input, &sig).is_ok());
            }
            v => panic!("key version {v} after a kill at {at:?}"),
        }
        db.close().await;
        server.shutdown().await.unwrap();
    }
}

/// A reverse proxy in front of a server that, on each ceremony WebSocket, loses every message
/// the server sends once the client has sent `client_messages` (for a claim, counting the
/// handshake, the refresh and test-signature rounds and `Confirm`: the server's `Done`), and
/// then, if `rest_down_after`, stops answering REST calls too.
#[derive(Clone)]
struct LossyProxy {
    upstream: String,
    client_messages: usize,
    rest_down_after: bool,
    rest_down: Arc<std::sync::atomic::AtomicBool>,
    http: reqwest::Client,
}

impl LossyProxy {
    async fn start(upstream: String, client_messages: usize, rest_down_after: bool) -> String {
        use axum::routing::{any, get};
        let proxy = LossyProxy {
            upstream,
            client_messages,
            rest_down_after,
            rest_down: Arc::default(),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .route("/v1/ceremonies/{id}", get(Self::ceremony))
            .fallback(any(Self::rest))
            .with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    async fn rest(
        axum::extract::State(p): axum::extract::State<LossyProxy>,
        req: axum::extract::Request,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        if p.rest_down.load(std::sync::atomic::Ordering::SeqCst) {
            return axum::http::StatusCode::BAD_GATEWAY.into_response();
        }
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut out = p.http.request(parts.method.clone(), format!("{}{path}", p.upstream));
        for name in ["x-api-key", "authorization", "dyad-key-version", "content-type"] {
            if let Some(v) = parts.headers.get(name) {
                out = out.header(name, v.as_bytes());
            }
        }
        let resp = out.body(body.to_vec()).send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        (status, [("content-type", "application/json")], bytes).into_response()
    }

    async fn ceremony(
        axum::extract::State(p): axum::extract::State<LossyProxy>,
        axum::extract::Path(id): axum::extract::Path<String>,
        ws: axum::extract::ws::WebSocketUpgrade,
    ) -> axum::response::Response {
        use axum::extract::ws::Message as AxMessage;
        use futures_util::{SinkExt, StreamExt};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio_tungstenite::tungstenite::Message as TMessage;
        let url = format!("{}/v1/ceremonies/{id}", p.upstream.replace("http://", "ws://"));
        ws.on_upgrade(move |client| async move {
            let (upstream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let (mut up_tx, mut up_rx) = upstream.split();
            let (mut cl_tx, mut cl_rx) = client.split();
            let sent = Arc::new(AtomicUsize::new(0));
            let counted = sent.clone();
            let to_server = async move {
                while let Some(Ok(AxMessage::Binary(b))) = cl_rx.next().await {
                    // Counted before it goes on: the server's answer to it comes after.
                    counted.fetch_add(1, Ordering::SeqCst);
                    if up_tx.send(TMessage::Binary(b.to_vec().into())).await.is_err() {
                        break;
                    }
                }
                // Keep the server's side open until it closes.
                std::future::pending::<()>().await;
            };
            let to_client = async move {
                while let Some(Ok(msg)) = up_rx.next().await {
                    if let TMessage::Binary(b) = msg {
                        if sent.load(Ordering::SeqCst) >= p.client_messages {
                            if p.rest_down_after {
                                p.rest_down.store(true, Ordering::SeqCst);
                            }
                            continue;
                        }
                        if cl_tx.send(AxMessage::Binary(b.to_vec().into())).await.is_err() {
                            return;
                        }
                    }
                }
                let _ = cl_tx.close().await;
            };
            tokio::select! { _ = to_server => {}, _ = to_client => {} }
        })
    }
}

/// Client messages of a claim: the handshake, the refresh's and the test signature's rounds
/// (FROST 2 + 2, DKLs 3 + 3), and `Confirm`.
const FROST_CLAIM_MESSAGES: usize = 1 + 2 + 2 + 1;
const DKLS_CLAIM_MESSAGES: usize = 1 + 3 + 3 + 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_lost_the_claims_last_message_finishes_by_reading_the_wallet_back() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let app = Dyad::new(&t.url(), &key);
    let w = app
        .create_pregen_wallet(WalletType::Solana, &email("ivy@example.com"))
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();
    let logged_in = t.person(&key, "ivy@example.com").await;
    let session = logged_in.export_session().unwrap();

    // The `Done` is lost; the server is still reachable: the client reads the wallet back and
    // finishes with the new share.
    let proxy = LossyProxy::start(t.url(), FROST_CLAIM_MESSAGES, false).await;
    let person = Dyad::new(&proxy, &key);
    person.import_session(&session).unwrap();
    person.set_user_share(share.expose()).await.unwrap();
    let claimed = person.claim_pregen_wallets(None).await.unwrap();
    assert_eq!(claimed[0].wallet.key_version, 2);
    let direct = Dyad::new(&t.url(), &key);
    direct.import_session(&session).unwrap();
    direct
        .set_user_share(person.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let s = direct.sign_message(w.id, b"finished").await.unwrap();
    verify_message(&w, b"finished", &s.signature).unwrap();

    // Another wallet; this time the server cannot be asked afterwards either: the client keeps
    // both shares (in its share string too), and the next claim call finishes it.
    let app2 = Dyad::new(&t.url(), &key);
    let w2 = app2
        .create_pregen_wallet(WalletType::Evm, &email("ivy@example.com"))
        .await
        .unwrap();
    let proxy = LossyProxy::start(t.url(), DKLS_CLAIM_MESSAGES, true).await;
    let cut_off = Dyad::new(&proxy, &key);
    cut_off.import_session(&session).unwrap();
    cut_off
        .set_user_share(app2.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let e = cut_off.claim_pregen_wallets(None).await.unwrap_err();
    assert!(
        matches!(e, SdkError::ClaimUnconfirmed { wallet_id, .. } if wallet_id == w2.id),
        "{e}"
    );
    assert!(cut_off.loaded_wallets()[0].status == WalletStatus::Pregen);
    // The share string carries the pending claim; a fresh client resumes it.
    let saved = cut_off.get_user_share().unwrap();
    let resumed = Dyad::new(&t.url(), &key);
    resumed.import_session(&session).unwrap();
    resumed.set_user_share(saved.expose()).await.unwrap();
    let done = resumed
        .claim_pregen_wallets(Some(&email("ivy@example.com")))
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].wallet.id, done[0].wallet.key_version), (w2.id, 2));
    let s = resumed.sign_message(w2.id, b"resumed").await.unwrap();
    verify_message(&w2, b"resumed", &s.signature).unwrap();
    assert_eq!(t.audited("wallet.claimed").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_stops_part_way_hands_back_the_recovery_secrets_of_the_wallets_it_claimed() {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    let t = TestServer::start().await;
    let (key, app, share) = pregenerated(&t, "kim@example.com").await;
    let before = app.loaded_wallets();
    // The second wallet cannot be claimed: the server refuses its claim before any ceremony.
    t.execute(&format!(
        "UPDATE wallets SET locked_at = 1 WHERE id = '{}'",
        before[1].id
    ))
    .await;
    let person = t.person(&key, "kim@example.com").await;
    person.set_user_share(share.expose()).await.unwrap();

    let e = person.claim_pregen_wallets(None).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletLocked), "{e}");
    let SdkError::PartlyClaimed { claimed, error } = e else {
        panic!("expected the wallets claimed before the failure");
    };
    assert!(
        matches!(
            *error,
            SdkError::Api {
                code: ErrorCode::WalletLocked,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(
        (first.wallet.id, first.wallet.status),
        (before[0].id, WalletStatus::Claimed)
    );
    // The secret handed back is the one whose hash the server keeps, and it is shown nowhere
    // else: the error's text does not carry it.
    let db = t.db().await;
    let hash: String = sqlx::query_scalar("SELECT recovery_hash FROM wallets WHERE id = $1")
        .bind(first.wallet.id.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
    let secret = first.recovery_secret.expose();
    Argon2::default()
        .verify_password(secret.as_bytes(), &PasswordHash::new(&hash).unwrap())
        .expect("the recovery secret the claim made");
    assert!(!format!("{claimed:?} {error}").contains(&secret[14..]));
    // The claimed wallet is the person's now, and the other one the app's still.
    let s = person.sign_message(first.wallet.id, b"mine").await.unwrap();
    verify_message(&first.wallet, b"mine", &s.signature).unwrap();
    assert_eq!(t.audited("wallet.claimed").await, 1);
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) FROM wallets WHERE id = '{}' AND status = 'pregen' AND key_version = 1",
            before[1].id
        ))
        .await,
        1
    );
}
