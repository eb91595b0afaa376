//! Logging in with one-time codes, and sessions: each refusal has its code and opens nothing.
//! Codes are read from the outbox, as a developer would; expiry is reached by moving the stored
//! time back, never by sleeping.

mod support;

use dyad_proto::ErrorCode;
use dyad_sdk::{Dyad, SdkError};
use dyad_test_support::email;
use support::{expect_error, TestServer};

fn code(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

async fn sessions(t: &TestServer) -> i64 {
    t.count("SELECT COUNT(*) FROM auth_sessions").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_logs_in_once_and_makes_the_account_at_the_first_login() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let d = Dyad::new(&t.url(), &key);
    let sent = d.start_email_login(" Lee@Example.com ").await.unwrap();
    assert_eq!(sent.identifier, email("lee@example.com"));
    let c = t.outbox_code("lee@example.com").await;
    let first = d.verify_email_login("lee@example.com", &c).await.unwrap();
    assert!(first.new_user);
    assert_eq!(first.session.identifiers, vec![email("lee@example.com")]);
    // The same code again: refused, nothing opened.
    let again = Dyad::new(&t.url(), &key);
    let n = sessions(&t).await;
    let e = again.verify_email_login("lee@example.com", &c).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::CodeInvalid), "{e}");
    assert_eq!(sessions(&t).await, n);
    // A second login is the same account.
    let second = t.person(&key, "lee@example.com").await;
    assert_eq!(second.session().await.unwrap().user_id, first.session.user_id);
    assert_eq!(t.count("SELECT COUNT(*) FROM users").await, 1);
    // The database keeps neither the code nor the token.
    let db = t.db().await;
    let macs: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_mac FROM otp_challenges")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(macs
        .iter()
        .all(|m| m.len() == 32 && !m.windows(6).any(|w| w == c.as_bytes())));
    let token = second.export_session().unwrap();
    let hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM auth_sessions")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(hashes.iter().all(|h| h.len() == 32));
    assert!(!token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_a_wrong_one_and_a_sixth_try_are_refused_with_their_codes() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let d = Dyad::new(&t.url(), &key);

    // Expired.
    d.start_email_login("max@example.com").await.unwrap();
    let c = t.outbox_code("max@example.com").await;
    t.execute("UPDATE otp_challenges SET expires_at = expires_at - 601")
        .await;
    let e = d.verify_email_login("max@example.com", &c).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::CodeExpired), "{e}");

    // Five wrong tries, then even the right code is refused: the code is dead.
    d.start_email_login("max@example.com").await.unwrap();
    let c = t.outbox_code("max@example.com").await;
    let wrong = if c == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        let e = d.verify_email_login("max@example.com", wrong).await.unwrap_err();
        assert_eq!(code(&e), Some(ErrorCode::CodeInvalid), "{e}");
    }
    let e = d.verify_email_login("max@example.com", &c).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::CodeAttemptsExceeded), "{e}");
    assert_eq!(sessions(&t).await, 0);
    // No code waiting at all; a code for another address does not log this one in.
    let e = d.verify_email_login("nobody@example.com", &c).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::CodeInvalid), "{e}");
    assert!(t.audited("login.denied").await >= 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_limited_per_identifier_and_per_address() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let d = Dyad::new(&t.url(), &key);
    for _ in 0..5 {
        d.start_phone_login("+1 (415) 555-0100").await.unwrap();
    }
    let e = d.start_phone_login("+14155550100").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::RateLimited), "{e}");
    // The SMS went to the normalised number, and the newest code still logs in.
    let c = t.outbox_code("+14155550100").await;
    let p = d.verify_phone_login("+14155550100", &c).await.unwrap();
    assert_eq!(p.session.identifiers, vec![dyad_test_support::phone("+14155550100")]);
    // Per address: 30 in the window from 127.0.0.1 (25 more to other numbers).
    for i in 0..25 {
        d.start_email_login(&format!("n{i}@example.com")).await.unwrap();
    }
    let e = d.start_email_login("one-more@example.com").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::RateLimited), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_refresh_expire_and_end() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let p = t.person(&key, "ned@example.com").await;
    let before = p.session().await.unwrap().expires_at;
    t.execute("UPDATE auth_sessions SET expires_at = expires_at - 60").await;
    let refreshed = p.refresh_session().await.unwrap();
    assert!(refreshed.expires_at >= before);
    // Expired.
    t.execute("UPDATE auth_sessions SET expires_at = 1").await;
    let e = p.session().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::SessionInvalid), "{e}");
    let e = p.refresh_session().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::SessionInvalid), "{e}");
    // Logged out: refused from the next request on, also where it was imported.
    let q = t.person(&key, "ned@example.com").await;
    let copy = Dyad::new(&t.url(), "");
    copy.import_session(&q.export_session().unwrap()).unwrap();
    assert_eq!(
        copy.session().await.unwrap().identifiers,
        vec![email("ned@example.com")]
    );
    q.logout().await.unwrap();
    let e = copy.session().await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::SessionInvalid), "{e}");
    // Garbage tokens, and a malformed header.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/auth/session", t.url()))
        .bearer_auth("dyad_session_nope")
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "SESSION_INVALID").await;
    let r = reqwest::Client::new()
        .get(format!("{}/v1/auth/session", t.url()))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "SESSION_INVALID").await;
    assert!(copy.import_session("{\"v\":1,\"session\":\"not a token\"}").is_err());
    assert_eq!(t.audited("session.ended").await, 1);
    assert_eq!(t.audited("session.refreshed").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_in_person_links_another_identifier_and_custom_ids_are_the_apps_own() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let other = t.app("other").await;
    let p = t.person(&key, "oli@example.com").await;
    // Verify a phone number while logged in: linked to the same account.
    p.start_phone_login("+447700900123").await.unwrap();
    let c = t.outbox_code("+447700900123").await;
    let linked = p.verify_phone_login("+447700900123", &c).await.unwrap();
    assert!(!linked.new_user);
    assert_eq!(linked.session.identifiers.len(), 2);
    // The app vouches for its user; the same custom id in another app is another person.
    let c1 = Dyad::new(&t.url(), &key);
    let a = c1.login_custom_id("user-9").await.unwrap();
    let c2 = Dyad::new(&t.url(), &other);
    let b = c2.login_custom_id("user-9").await.unwrap();
    assert_ne!(a.session.user_id, b.session.user_id);
    // An email verified by one account cannot be linked to another.
    c1.start_email_login("oli@example.com").await.unwrap();
    let c = t.outbox_code("oli@example.com").await;
    let e = c1.verify_email_login("oli@example.com", &c).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::IdentifierInUse), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_login_requests_get_codes_and_write_nothing() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("shop").await;
    let counts = || async {
        let mut out = Vec::new();
        for table in [
            "users",
            "user_identifiers",
            "auth_sessions",
            "otp_challenges",
            "outbox",
            "grants",
        ] {
            out.push(t.count(&format!("SELECT COUNT(*) FROM {table}")).await);
        }
        out
    };
    let before = counts().await;
    let http = reqwest::Client::new();
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        ("/v1/auth/email/start", "{not json", Some(&key), 400, "INVALID_JSON"),
        (
            "/v1/auth/email/start",
            r#"{"email":"a@b.c","extra":1}"#,
            Some(&key),
            400,
            "INVALID_REQUEST",
        ),
        (
            "/v1/auth/email/start",
            r#"{"email":"not an email"}"#,
            Some(&key),
            400,
            "INVALID_IDENTIFIER",
        ),
        (
            "/v1/auth/phone/start",
            r#"{"phone":"12"}"#,
            Some(&key),
            400,
            "INVALID_IDENTIFIER",
        ),
        (
            "/v1/auth/email/start",
            r#"{"email":"a@example.com"}"#,
            None,
            401,
            "UNAUTHENTICATED",
        ),
        (
            "/v1/auth/email/verify",
            r#"{"email":"a@example.com","code":"123456"}"#,
            Some(&key),
            401,
            "CODE_INVALID",
        ),
        (
            "/v1/auth/email/verify",
            r#"{"email":"a@example.com"}"#,
            Some(&key),
            400,
            "INVALID_REQUEST",
        ),
        (
            "/v1/auth/custom",
            r#"{"customId":""}"#,
            Some(&key),
            400,
            "INVALID_IDENTIFIER",
        ),
        (
            "/v1/auth/custom",
            r#"{"customId":"u1"}"#,
            Some("dyad_beta_0000000000000000_00"),
            401,
            "UNAUTHENTICATED",
        ),
        (
            "/v1/grants",
            r#"{"operations":["message"]}"#,
            Some(&key),
            401,
            "SESSION_INVALID",
        ),
    ];
    for (path, body, api_key, status, code) in cases {
        let mut req = http
            .post(format!("{}{path}", t.url()))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(k) = api_key {
            req = req.header("x-api-key", *k);
        }
        let r = req.send().await.unwrap();
        expect_error(r, *status, code).await;
    }
    // A claim without a session, and with a made-up one.
    let r = http
        .post(format!("{}/v1/wallets/{}/claim", t.url(), uuid::Uuid::new_v4()))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "SESSION_INVALID").await;
    assert_eq!(counts().await, before);
}
