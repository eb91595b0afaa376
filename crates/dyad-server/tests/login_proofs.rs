//! Login proofs end to end: a real server on port 0, the SDK, and stand-ins for the outside
//! parties run inside the test on 127.0.0.1:0 — an OAuth 2.0 provider that checks everything a
//! real one checks (grant type, code, redirect URI, client credentials, the PKCE verifier
//! against the S256 challenge it was shown, the bearer token) and a Farcaster fid lookup. The
//! Telegram hash and the Farcaster signatures are made here from the published rules
//! (HMAC-SHA256 under SHA-256 of the bot token; EIP-191 with `dyad-test-support`'s digest), not
//! with the server's code. Every refused proof must write nothing but its `login.denied` entry.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use dyad_proto::{ErrorCode, PregenId, WalletStatus, WalletType};
use dyad_sdk::{Dyad, OAuthProvider, SdkError};
use dyad_server::config::{FarcasterConfig, JsonField, OAuthClient, Secret, Url};
use dyad_server::ServerConfig;
use dyad_test_support::verify::eip191_digest;
use hmac::{Hmac, Mac};
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sha3::Keccak256;
use support::{expect_error, Rows, TestServer};

const BOT_TOKEN: &str = "7012345678:AAtest-bot-token-for-dyad-tests";
const REDIRECT: &str = "https://app.example/oauth/callback";
const DOMAIN: &str = "app.example";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn code_of(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

/// Since `before`: exactly `n` `login.denied` entries (reason `LOGIN_REJECTED`), no other row
/// of the audited tables touched, and no account, identifier or session anywhere.
async fn assert_only_denied(t: &TestServer, before: &Rows, n: usize, what: &str) {
    let entries = t.audited_since(before).await;
    let want = vec![("login.denied".to_string(), None, Some("LOGIN_REJECTED".to_string())); n];
    assert_eq!(entries, want, "{what}: the audit entries written");
    let after = t.rows().await;
    assert_eq!(
        after,
        Rows {
            audit_log: before.audit_log + n as i64,
            last_audit_id: after.last_audit_id,
            ..before.clone()
        },
        "{what} changed the database"
    );
    for table in ["users", "user_identifiers", "auth_sessions"] {
        assert_eq!(
            t.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{what}: {table}"
        );
    }
}

/// The `method` of every `session.created` entry, oldest first.
async fn session_methods(t: &TestServer) -> Vec<String> {
    t.audit_log()
        .await
        .iter()
        .filter(|r| r.action == "session.created")
        .map(|r| r.detail["method"].as_str().unwrap_or_default().to_string())
        .collect()
}

// --- Telegram ------------------------------------------------------------------------------

/// Widget data for `id` dated `auth_date`, hashed with `token` as Telegram does.
fn widget(id: u64, auth_date: i64, token: &str) -> Value {
    let mut fields = BTreeMap::new();
    fields.insert("auth_date", auth_date.to_string());
    fields.insert("first_name", "Ada".to_string());
    fields.insert("id", id.to_string());
    fields.insert("username", "ada_tg".to_string());
    let check: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let secret = Sha256::digest(token.as_bytes());
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).unwrap();
    mac.update(check.join("\n").as_bytes());
    // Numbers as the widget's JavaScript object has them.
    json!({
        "id": id, "first_name": "Ada", "username": "ada_tg", "auth_date": auth_date,
        "hash": hex::encode(mac.finalize().into_bytes()),
    })
}

fn telegram_server() -> ServerConfig {
    ServerConfig {
        telegram_bot_token: Some(Secret::new(BOT_TOKEN)),
        ..ServerConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_telegram_login_opens_a_session_and_claims_its_pregenerated_wallet() {
    let t = TestServer::start_with(telegram_server()).await;
    let key = t.app("shop").await;
    let telegram = PregenId::TelegramUserId("4242".into());
    let app = Dyad::new(&t.url(), &key);
    let wallets = app
        .create_pregen_wallet_per_type(&[WalletType::Evm], &telegram)
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();

    let person = Dyad::new(&t.url(), &key);
    let logged = person.login_telegram(widget(4242, now(), BOT_TOKEN)).await.unwrap();
    assert!(logged.new_user);
    assert_eq!(logged.session.identifiers, vec![telegram.clone()]);
    assert_eq!(person.session().await.unwrap().identifiers, vec![telegram]);
    assert_eq!(session_methods(&t).await, ["telegram_widget"]);

    // The app hands the share over; the Telegram account claims its wallet.
    person.set_user_share(share.expose()).await.unwrap();
    let claimed = person.claim_pregen_wallets(None).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].wallet.id, wallets[0].id);
    assert_eq!(claimed[0].wallet.status, WalletStatus::Claimed);

    // The same account logging in again is the same person.
    let again = Dyad::new(&t.url(), &key)
        .login_telegram(widget(4242, now(), BOT_TOKEN))
        .await
        .unwrap();
    assert!(!again.new_user);
    assert_eq!(again.session.user_id, logged.session.user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_tampered_or_stale_telegram_login_is_refused_and_only_audited() {
    let t = TestServer::start_with(ServerConfig {
        reap_interval: std::time::Duration::from_secs(24 * 3600),
        ..telegram_server()
    })
    .await;
    let key = t.app("shop").await;
    let before = t.rows().await;
    let mut tampered = widget(4242, now(), BOT_TOKEN);
    tampered["id"] = json!(1);
    let cases = [
        ("another bot's hash", widget(4242, now(), "7000000000:another-bot")),
        ("a changed id", tampered),
        ("two days old", widget(4242, now() - 2 * 24 * 3600, BOT_TOKEN)),
        ("an hour in the future", widget(4242, now() + 3600, BOT_TOKEN)),
    ];
    for (what, data) in &cases {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/auth/telegram", t.url()))
            .header("x-api-key", &key)
            .json(&json!({ "widgetData": data }))
            .send()
            .await
            .unwrap();
        let body = expect_error(r, 401, "LOGIN_REJECTED").await;
        assert!(!body.to_string().contains(BOT_TOKEN), "{what}: {body}");
    }
    assert_only_denied(&t, &before, cases.len(), "refused Telegram logins").await;
    // The SDK sees the same code.
    let e = Dyad::new(&t.url(), &key)
        .login_telegram(widget(4242, now() - 2 * 24 * 3600, BOT_TOKEN))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_that_are_not_configured_or_unknown_are_unavailable() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("shop").await;
    let before = t.rows().await;
    let post = |path: &str, body: Value| {
        reqwest::Client::new()
            .post(format!("{}{path}", t.url()))
            .header("x-api-key", &key)
            .json(&body)
            .send()
    };
    let telegram = post(
        "/v1/auth/telegram",
        json!({ "widgetData": widget(1, now(), BOT_TOKEN) }),
    );
    expect_error(telegram.await.unwrap(), 404, "LOGIN_METHOD_UNAVAILABLE").await;
    let discord = post("/v1/auth/oauth/discord/start", json!({ "redirectUri": REDIRECT }));
    expect_error(discord.await.unwrap(), 404, "LOGIN_METHOD_UNAVAILABLE").await;
    let github = post("/v1/auth/oauth/github/start", json!({ "redirectUri": REDIRECT }));
    let body = expect_error(github.await.unwrap(), 404, "LOGIN_METHOD_UNAVAILABLE").await;
    assert!(body["message"].as_str().unwrap().contains("discord"), "{body}");
    let farcaster = post("/v1/auth/farcaster/nonce", json!({}));
    expect_error(farcaster.await.unwrap(), 404, "LOGIN_METHOD_UNAVAILABLE").await;
    // Without an API key nothing is looked at.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/auth/telegram", t.url()))
        .json(&json!({ "widgetData": widget(1, now(), BOT_TOKEN) }))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, 401, "UNAUTHENTICATED").await;
    t.assert_unchanged(&before, "unavailable logins").await;
}

// --- OAuth ---------------------------------------------------------------------------------

const CLIENT_ID: &str = "dyad-test-client";
const CLIENT_SECRET: &str = "dyad-test-client-secret";

/// What the provider knows: the codes it issued (each bound to the PKCE challenge and redirect
/// URI of its authorization request) and the access tokens it gave.
#[derive(Default)]
struct Provider {
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, String>,
    /// Token requests seen, and those refused because the verifier did not match.
    token_requests: usize,
    verifier_mismatches: usize,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    username: String,
}

#[derive(Clone, Copy)]
enum Shape {
    /// `{"id", "username"}`, as Discord's `/users/@me`.
    Discord,
    /// `{"data": {"id", "name", "username"}}`, as X's `/2/users/me`.
    X,
}

/// A stand-in OAuth 2.0 provider on 127.0.0.1:0.
struct FakeProvider {
    url: String,
    shape: Shape,
    state: Arc<Mutex<Provider>>,
}

fn random_text() -> String {
    let mut b = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    URL_SAFE_NO_PAD.encode(b)
}

type Shared = (Arc<Mutex<Provider>>, Shape);

async fn token(
    State((state, _)): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let mut p = state.lock().unwrap();
    p.token_requests += 1;
    let basic = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" })));
    }
    let invalid = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": why })),
        )
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "unsupported_grant_type" })),
        );
    }
    // A code works once, whatever happens next.
    let Some(grant) = form.get("code").and_then(|c| p.codes.remove(c)) else {
        return invalid("unknown or used code");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return invalid("redirect_uri differs from the authorization request's");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        p.verifier_mismatches += 1;
        return invalid("code_verifier does not match the code_challenge");
    }
    let access = random_text();
    p.tokens.insert(access.clone(), grant.username);
    (
        StatusCode::OK,
        Json(json!({ "access_token": access, "token_type": "Bearer", "expires_in": 3600 })),
    )
}

async fn userinfo(State((state, shape)): State<Shared>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let p = state.lock().unwrap();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(username) = bearer.and_then(|t| p.tokens.get(t)) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "401: Unauthorized" })),
        );
    };
    let body = match shape {
        Shape::Discord => json!({ "id": "80351110224678912", "username": username, "global_name": "Ada" }),
        Shape::X => json!({ "data": { "id": "2244994945", "name": "Ada", "username": username } }),
    };
    (StatusCode::OK, Json(body))
}

impl FakeProvider {
    async fn start(shape: Shape) -> Self {
        let state = Arc::new(Mutex::new(Provider::default()));
        let app = Router::new()
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state((state.clone(), shape));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shape, state }
    }

    /// This server as a client of the provider.
    fn client(&self) -> OAuthClient {
        let field = match self.shape {
            Shape::Discord => "username",
            Shape::X => "data.username",
        };
        OAuthClient {
            authorize_url: Url::parse(&format!("{}/authorize?prompt=consent", self.url)).unwrap(),
            token_url: Url::parse(&format!("{}/token", self.url)).unwrap(),
            userinfo_url: Url::parse(&format!("{}/userinfo", self.url)).unwrap(),
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(CLIENT_SECRET),
            scopes: vec!["identify".into(), "email".into()],
            username_field: JsonField::parse(field).unwrap(),
        }
    }

    /// The person approves the login `authorization_url` asks for, as `username`: the
    /// provider checks the request and issues a code bound to its challenge (or to
    /// `challenge_instead`, as if it had been swapped on the way). The state and the code the
    /// redirect back carries.
    fn approve(&self, authorization_url: &str, username: &str, challenge_instead: Option<&str>) -> (String, String) {
        let url = Url::parse(authorization_url).unwrap();
        assert!(url.as_str().starts_with(&format!("{}/authorize?", self.url)), "{url}");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["prompt"], "consent", "the configured query is kept");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["redirect_uri"], REDIRECT);
        assert_eq!(q["scope"], "identify email");
        assert_eq!(q["code_challenge_method"], "S256");
        let challenge = &q["code_challenge"];
        assert_eq!(
            URL_SAFE_NO_PAD.decode(challenge).unwrap().len(),
            32,
            "an S256 challenge"
        );
        let code = random_text();
        self.state.lock().unwrap().codes.insert(
            code.clone(),
            Grant {
                challenge: challenge_instead.unwrap_or(challenge).to_string(),
                redirect_uri: q["redirect_uri"].clone(),
                username: username.into(),
            },
        );
        (q["state"].clone(), code)
    }

    fn token_requests(&self) -> (usize, usize) {
        let p = self.state.lock().unwrap();
        (p.token_requests, p.verifier_mismatches)
    }
}

async fn oauth_server(discord: &FakeProvider, x: &FakeProvider) -> TestServer {
    TestServer::start_with(ServerConfig {
        oauth_discord: Some(discord.client()),
        oauth_x: Some(x.client()),
        reap_interval: std::time::Duration::from_secs(24 * 3600),
        ..ServerConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_and_x_logins_verify_the_username_with_pkce() {
    let discord = FakeProvider::start(Shape::Discord).await;
    let x = FakeProvider::start(Shape::X).await;
    let t = oauth_server(&discord, &x).await;
    let key = t.app("shop").await;

    // A wallet the app pregenerated for the Discord username, claimed as part of the login.
    let app = Dyad::new(&t.url(), &key);
    let discord_id = PregenId::DiscordUsername("ada".into());
    let wallets = app
        .create_pregen_wallet_per_type(&[WalletType::Evm], &discord_id)
        .await
        .unwrap();
    let share = app.get_user_share().unwrap();

    let person = Dyad::new(&t.url(), &key);
    let started = person.start_oauth(OAuthProvider::Discord, REDIRECT).await.unwrap();
    // Only the state's hash is kept.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT state_hash FROM oauth_states")
        .fetch_one(&t.db().await)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(started.state.as_bytes()).to_vec());
    let (state, code) = discord.approve(&started.authorization_url, "Ada", None);
    assert_eq!(state, started.state);
    // The app's `fetch_pregen_wallets_override`: the share it kept for the verified username.
    let kept = share.expose().to_string();
    let logged = person
        .finish_oauth_with(OAuthProvider::Discord, &state, &code, async |id: &PregenId| {
            (*id == PregenId::DiscordUsername("ada".into())).then(|| kept.clone())
        })
        .await
        .unwrap();
    assert_eq!(logged.session.identifiers, vec![discord_id]);
    assert_eq!(logged.claimed.len(), 1);
    assert_eq!(logged.claimed[0].wallet.id, wallets[0].id);
    assert_eq!(discord.token_requests(), (1, 0));

    // X, linked to the same person by the session the Discord login opened.
    let started = person.start_oauth(OAuthProvider::X, REDIRECT).await.unwrap();
    let (state, code) = x.approve(&started.authorization_url, "@Ada_On_X", None);
    let linked = person.finish_oauth(OAuthProvider::X, &state, &code).await.unwrap();
    assert_eq!(linked.session.user_id, logged.session.user_id);
    assert_eq!(
        linked.session.identifiers,
        vec![
            PregenId::DiscordUsername("ada".into()),
            PregenId::XUsername("ada_on_x".into())
        ]
    );
    // And X alone, for someone new.
    let started = Dyad::new(&t.url(), &key)
        .start_oauth(OAuthProvider::X, REDIRECT)
        .await
        .unwrap();
    let (state, code) = x.approve(&started.authorization_url, "grace", None);
    let other = Dyad::new(&t.url(), &key)
        .finish_oauth(OAuthProvider::X, &state, &code)
        .await
        .unwrap();
    assert!(other.new_user);
    assert_eq!(other.session.identifiers, vec![PregenId::XUsername("grace".into())]);
    assert_eq!(session_methods(&t).await, ["discord_oauth", "x_oauth", "x_oauth"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_expired_reused_or_foreign_state_is_refused_before_the_provider_is_asked() {
    let discord = FakeProvider::start(Shape::Discord).await;
    let x = FakeProvider::start(Shape::X).await;
    let t = oauth_server(&discord, &x).await;
    let key = t.app("shop").await;
    let other_key = t.app("elsewhere").await;
    let person = Dyad::new(&t.url(), &key);
    let started = person.start_oauth(OAuthProvider::Discord, REDIRECT).await.unwrap();
    let (state, code) = discord.approve(&started.authorization_url, "ada", None);

    let before = t.rows().await;
    let denials = async || {
        let since = t.audited_since(&before).await;
        since.iter().filter(|e| e.0 == "login.denied").count()
    };
    let refused = |r: Result<dyad_sdk::LoggedIn, SdkError>| {
        let e = r.unwrap_err();
        assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{e}");
    };
    // An unknown state; the state at the other provider; the state through another app.
    refused(person.finish_oauth(OAuthProvider::Discord, "not-a-state", &code).await);
    refused(person.finish_oauth(OAuthProvider::X, &state, &code).await);
    refused(
        Dyad::new(&t.url(), &other_key)
            .finish_oauth(OAuthProvider::Discord, &state, &code)
            .await,
    );
    assert_eq!(
        discord.token_requests(),
        (0, 0),
        "no refused state reached the provider"
    );
    // Those left the state usable: its own app finishes with it, once.
    person
        .finish_oauth(OAuthProvider::Discord, &state, &code)
        .await
        .unwrap();
    assert_eq!(denials().await, 3);
    let (_, fresh_code) = discord.approve(&started.authorization_url, "ada", None);
    refused(person.finish_oauth(OAuthProvider::Discord, &state, &fresh_code).await);
    assert_eq!(
        discord.token_requests(),
        (1, 0),
        "the reused state never reached the provider"
    );

    // An expired state.
    let started = person.start_oauth(OAuthProvider::Discord, REDIRECT).await.unwrap();
    let (state, code) = discord.approve(&started.authorization_url, "ada", None);
    t.execute("UPDATE oauth_states SET expires_at = 0 WHERE consumed_at IS NULL")
        .await;
    refused(person.finish_oauth(OAuthProvider::Discord, &state, &code).await);
    assert_eq!(discord.token_requests(), (1, 0));
    assert_eq!(denials().await, 5);

    // Two finishes of one state at once, each with a code the provider issued for it:
    // exactly one wins.
    let started = person.start_oauth(OAuthProvider::Discord, REDIRECT).await.unwrap();
    let (state, code_a) = discord.approve(&started.authorization_url, "ada", None);
    let (_, code_b) = discord.approve(&started.authorization_url, "ada", None);
    let (a, b) = (Dyad::new(&t.url(), &key), Dyad::new(&t.url(), &key));
    let (ra, rb) = tokio::join!(
        a.finish_oauth(OAuthProvider::Discord, &state, &code_a),
        b.finish_oauth(OAuthProvider::Discord, &state, &code_b)
    );
    assert_eq!(
        [ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "exactly one finish wins"
    );
    refused(if ra.is_ok() { rb } else { ra });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_issued_for_another_pkce_challenge_is_refused() {
    let discord = FakeProvider::start(Shape::Discord).await;
    let x = FakeProvider::start(Shape::X).await;
    let t = oauth_server(&discord, &x).await;
    let key = t.app("shop").await;
    let person = Dyad::new(&t.url(), &key);
    let started = person.start_oauth(OAuthProvider::Discord, REDIRECT).await.unwrap();
    // The code is bound to a challenge whose verifier the server does not have (an attacker's
    // authorization request, its code injected into this login).
    let attacker = URL_SAFE_NO_PAD.encode(Sha256::digest(b"the attacker's own verifier"));
    let (state, code) = discord.approve(&started.authorization_url, "ada", Some(&attacker));
    let before = t.rows().await;
    let e = person
        .finish_oauth(OAuthProvider::Discord, &state, &code)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{e}");
    assert!(
        !e.to_string().contains(&code) && !e.to_string().contains(CLIENT_SECRET),
        "{e}"
    );
    assert_eq!(discord.token_requests(), (1, 1), "the provider refused the verifier");
    assert_only_denied(&t, &before, 1, "a swapped challenge").await;
}

// --- Farcaster -----------------------------------------------------------------------------

/// A stand-in fid lookup: `GET /fid/{fid}` → `{username, custodyAddress}`, and how many times
/// it was asked.
struct FakeLookup {
    url: String,
    asked: Arc<Mutex<usize>>,
}

type Fids = Arc<HashMap<u64, (String, String)>>;

async fn fid(
    State((fids, asked)): State<(Fids, Arc<Mutex<usize>>)>,
    Path(fid): Path<u64>,
) -> (StatusCode, Json<Value>) {
    *asked.lock().unwrap() += 1;
    match fids.get(&fid) {
        Some((username, custody)) => (
            StatusCode::OK,
            Json(json!({ "fid": fid, "username": username, "custodyAddress": custody })),
        ),
        None => (StatusCode::NOT_FOUND, Json(json!({ "message": "no such fid" }))),
    }
}

impl FakeLookup {
    async fn start(fids: HashMap<u64, (String, String)>) -> Self {
        let asked = Arc::new(Mutex::new(0));
        let app = Router::new()
            .route("/v1/fid/{fid}", get(fid))
            .with_state((Arc::new(fids), asked.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, asked }
    }

    fn asked(&self) -> usize {
        *self.asked.lock().unwrap()
    }
}

/// EIP-55 mixed-case hex of `key`'s Ethereum address.
fn address(key: &SigningKey) -> String {
    let point = key.verifying_key().to_encoded_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let lower = hex::encode(&hash[12..]);
    let check = hex::encode(Keccak256::digest(lower.as_bytes()));
    let mixed: String = lower
        .chars()
        .zip(check.chars())
        .map(|(c, h)| if h >= '8' { c.to_ascii_uppercase() } else { c })
        .collect();
    format!("0x{mixed}")
}

/// `unix` as JavaScript's `toISOString` writes it.
fn iso(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A Sign In With Farcaster message as Farcaster's auth kit writes it.
fn siwf(domain: &str, address: &str, nonce: &str, fid: u64, expires: i64) -> String {
    format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\nFarcaster Auth\n\n\
         URI: https://{domain}/login\nVersion: 1\nChain ID: 10\nNonce: {nonce}\nIssued At: {}\n\
         Expiration Time: {}\nResources:\n- farcaster://fid/{fid}",
        iso(now() - 5),
        iso(expires),
    )
}

/// `key`'s EIP-191 signature of `message`: `0x` ‖ r ‖ s ‖ v (27/28).
fn sign(key: &SigningKey, message: &str) -> String {
    let (sig, recovery) = key
        .sign_prehash_recoverable(&eip191_digest(message.as_bytes()))
        .unwrap();
    let mut bytes = sig.to_bytes().to_vec();
    bytes.push(27 + recovery.to_byte());
    format!("0x{}", hex::encode(bytes))
}

struct Farcaster {
    t: TestServer,
    key: String,
    custody: SigningKey,
    lookup: FakeLookup,
}

const FID: u64 = 1234;

async fn farcaster() -> Farcaster {
    let custody = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let stranger = SigningKey::from_slice(&[0x43; 32]).unwrap();
    let lookup = FakeLookup::start(HashMap::from([
        // The lookup answers lower-case hex; the message has EIP-55 case.
        (FID, ("Ada".to_string(), address(&custody).to_lowercase())),
        (99, ("eve".to_string(), address(&stranger))),
    ]))
    .await;
    let t = TestServer::start_with(ServerConfig {
        farcaster: Some(FarcasterConfig {
            domain: DOMAIN.into(),
            lookup_url: Url::parse(&lookup.url).unwrap(),
        }),
        reap_interval: std::time::Duration::from_secs(24 * 3600),
        ..ServerConfig::default()
    })
    .await;
    let key = t.app("shop").await;
    Farcaster {
        t,
        key,
        custody,
        lookup,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_siwf_message_signed_by_the_custody_key_logs_in_once() {
    let f = farcaster().await;
    let person = Dyad::new(&f.t.url(), &f.key);
    let nonce = person.farcaster_nonce().await.unwrap();
    assert!(
        nonce.len() >= 8 && nonce.chars().all(|c| c.is_ascii_alphanumeric()),
        "{nonce}"
    );
    let message = siwf(DOMAIN, &address(&f.custody), &nonce, FID, now() + 600);
    let signature = sign(&f.custody, &message);
    let logged = person.login_farcaster(&message, &signature).await.unwrap();
    assert_eq!(
        logged.session.identifiers,
        vec![PregenId::FarcasterUsername("ada".into())]
    );
    assert_eq!(session_methods(&f.t).await, ["farcaster"]);
    assert_eq!(f.lookup.asked(), 1);

    // The same message and signature again: the nonce is spent.
    let before = f.t.rows().await;
    let e = Dyad::new(&f.t.url(), &f.key)
        .login_farcaster(&message, &signature)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{e}");
    assert_eq!(f.t.audited_since(&before).await.len(), 1);
    assert_eq!(f.lookup.asked(), 1, "a replay never reaches the lookup");
    assert_eq!(f.t.count("SELECT COUNT(*) FROM auth_sessions").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siwf_refuses_another_domain_another_key_a_foreign_nonce_and_an_expired_message() {
    let f = farcaster().await;
    let stranger = SigningKey::from_slice(&[0x43; 32]).unwrap();
    let person = Dyad::new(&f.t.url(), &f.key);
    let other_app = Dyad::new(&f.t.url(), &f.t.app("elsewhere").await);
    let custody = address(&f.custody);
    let before = f.t.rows().await;
    let mut cases: Vec<(&str, String, String)> = Vec::new();

    let m = siwf(
        "evil.example",
        &custody,
        &person.farcaster_nonce().await.unwrap(),
        FID,
        now() + 600,
    );
    cases.push(("another domain", m.clone(), sign(&f.custody, &m)));
    let m = siwf(
        DOMAIN,
        &custody,
        &person.farcaster_nonce().await.unwrap(),
        FID,
        now() + 600,
    );
    cases.push((
        "the custody address signed by another key",
        m.clone(),
        sign(&stranger, &m),
    ));
    let m = siwf(DOMAIN, &custody, "0123456789abcdef0123456789abcdef", FID, now() + 600);
    cases.push(("a nonce this server never issued", m.clone(), sign(&f.custody, &m)));
    let m = siwf(
        DOMAIN,
        &custody,
        &other_app.farcaster_nonce().await.unwrap(),
        FID,
        now() + 600,
    );
    cases.push(("another app's nonce", m.clone(), sign(&f.custody, &m)));
    let m = siwf(
        DOMAIN,
        &custody,
        &person.farcaster_nonce().await.unwrap(),
        FID,
        now() - 1,
    );
    cases.push(("an expired message", m.clone(), sign(&f.custody, &m)));
    for (what, message, signature) in &cases {
        let e = person.login_farcaster(message, signature).await.unwrap_err();
        assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{what}: {e}");
    }
    assert_eq!(f.lookup.asked(), 0, "nothing refused locally reached the lookup");

    // Another key, honestly named in the message, for an fid whose custody it is not.
    let m = siwf(
        DOMAIN,
        &address(&stranger),
        &person.farcaster_nonce().await.unwrap(),
        FID,
        now() + 600,
    );
    let e = person.login_farcaster(&m, &sign(&stranger, &m)).await.unwrap_err();
    assert_eq!(code_of(&e), Some(ErrorCode::LoginRejected), "{e}");
    assert!(e.to_string().contains("custody"), "{e}");
    assert_eq!(f.lookup.asked(), 1);

    // Nothing but the refusals' entries (the nonces issued meanwhile are in none of these tables).
    assert_only_denied(&f.t, &before, cases.len() + 1, "refused Farcaster logins").await;
}
