//! A real server on port 0 over a temporary data folder, apps on it, requests made by hand,
//! and a client side of a ceremony driven by hand (to misbehave). What is not about a running
//! server (verifiers, published vectors, identifiers) is in `dyad-test-support`.
//!
//! The database is the data folder's SQLite file, or, with `DYAD_TEST_STORE=postgres`, a fresh
//! PostgreSQL schema per data folder on the server `DATABASE_URL` names (`.ci/run` runs this
//! crate's tests both ways). Raw SQL in these tests is written to run on both.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use dyad_mpc::{KeyShare, Machine, Transition};
use dyad_proto::channel::MAX_FRAME;
use dyad_proto::rest::{ceremony_path, CeremonyTicket};
use dyad_proto::{CeremonyId, CeremonyKey, Environment, ErrorCode, Frame, Initiator, SecureChannel, WalletId};
use dyad_server::{AppState, DataDir, RunningServer, ServerConfig, Store};
use dyad_test_support::private_tempdir;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

pub struct TestServer {
    pub server: RunningServer,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
}

/// Whether these tests run on PostgreSQL (`DYAD_TEST_STORE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("DYAD_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// Schemas made for data folders, kept for the whole test process (`.ci/run` gives the
/// PostgreSQL pass a database of its own, made anew each run).
static SCHEMAS: std::sync::Mutex<Vec<dyad_test_support::postgres::TestDatabase>> = std::sync::Mutex::new(Vec::new());

/// The database of the data folder `dir`: `None` for its SQLite file; on PostgreSQL, the schema
/// made for it on first use (its URL is kept in the folder, so a restarted server finds it).
pub async fn database_url(dir: &Path) -> Option<dyad_server::DatabaseUrl> {
    if !on_postgres() {
        return None;
    }
    let file = dir.join("postgres-url");
    let url = match std::fs::read_to_string(&file) {
        Ok(url) => url,
        Err(_) => {
            let db = dyad_test_support::postgres::TestDatabase::create()
                .await
                .expect("DYAD_TEST_STORE=postgres needs DATABASE_URL");
            let url = db.url.clone();
            std::fs::write(&file, &url).unwrap();
            SCHEMAS.lock().unwrap().push(db);
            url
        }
    };
    Some(url.parse().unwrap())
}

/// The store of the data folder `dir`, as a server started on it opens it.
pub async fn open_store(dir: &Path) -> Arc<dyn Store> {
    let data = DataDir::new(dir).unwrap();
    data.open_store_at(database_url(dir).await.as_ref()).await.unwrap()
}

/// A connection of its own to the database of the data folder `dir`, as an outside reader sees it.
pub async fn raw_db(dir: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match database_url(dir).await {
        Some(dyad_server::DatabaseUrl::Postgres(url)) => url.to_string(),
        _ => format!("sqlite://{}", dir.join("dyad.db").display()),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

/// Start a server on `dir` (its database and master key are created on first use).
pub async fn serve(dir: &Path) -> (RunningServer, Arc<dyn Store>) {
    serve_with(dir, ServerConfig::default()).await
}

/// The same with other settings.
pub async fn serve_with(dir: &Path, config: ServerConfig) -> (RunningServer, Arc<dyn Store>) {
    serve_built(dir, |store, master| async move {
        AppState::new(store, &master, config).await
    })
    .await
}

/// Start a server on `dir` whose state `build` makes from the store and master key.
async fn serve_built<F, Fut>(dir: &Path, build: F) -> (RunningServer, Arc<dyn Store>)
where
    F: FnOnce(Arc<dyn Store>, dyad_server::MasterKey) -> Fut,
    Fut: std::future::Future<Output = Result<AppState, dyad_server::SetupError>>,
{
    let data = DataDir::new(dir).unwrap();
    let store = open_store(dir).await;
    let master = data.master_key_from_env_or_file().unwrap();
    let state = build(store.clone(), master).await.unwrap();
    (dyad_server::spawn(state, "127.0.0.1:0").await.unwrap(), store)
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    /// A server whose reaper stays idle for the test (it runs once, at start, on an empty
    /// database), so row counts change only by what requests do.
    pub async fn start_without_reaping() -> Self {
        Self::start_with(ServerConfig {
            reap_interval: std::time::Duration::from_secs(24 * 3600),
            ..ServerConfig::default()
        })
        .await
    }

    /// A server that delivers login codes through `notifier` instead of the outbox.
    pub async fn start_with_notifier(notifier: Arc<dyn dyad_server::notify::Notifier>) -> Self {
        let dir = private_tempdir();
        let (server, store) = serve_built(dir.path(), |store, master| async move {
            AppState::with_notifier(store, &master, ServerConfig::default(), notifier).await
        })
        .await;
        Self { server, store, dir }
    }

    pub async fn start_with(config: ServerConfig) -> Self {
        let dir = private_tempdir();
        let (server, store) = serve_with(dir.path(), config).await;
        Self { server, store, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The scope of the first app created on this server.
    pub async fn first_scope(&self) -> dyad_server::model::Scope {
        let app = self.store.apps().await.unwrap()[0].clone();
        dyad_server::model::Scope {
            app_id: app.id,
            environment: app.environment,
        }
    }

    /// The audit log of the first app.
    pub async fn audit_log(&self) -> Vec<dyad_server::audit::AuditRecord> {
        self.store.audit_log(self.first_scope().await).await.unwrap()
    }

    /// How many entries of the first app's audit log have `action`.
    pub async fn audited(&self, action: &str) -> usize {
        self.audit_log().await.iter().filter(|r| r.action == action).count()
    }

    /// A connection of its own to the database, as an outside reader sees it.
    pub async fn db(&self) -> sqlx::AnyPool {
        raw_db(&self.data_dir()).await
    }

    /// A `SELECT COUNT(*) …` straight against the database, as an outside reader sees it.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = self.db().await;
        let n = sqlx::query_scalar(sql).fetch_one(&db).await.unwrap();
        db.close().await;
        n
    }

    /// Run statements straight against the database (to make the server's writes fail, or to
    /// put a wallet in a state no flow reaches yet).
    pub async fn execute(&self, sql: &str) {
        let db = self.db().await;
        sqlx::raw_sql(sql).execute(&db).await.unwrap();
        db.close().await;
    }

    /// Make every later write to `column` of `wallets` fail, as a full disk would (`public_key`:
    /// a key generation's commit; `locked_at`: a lock).
    pub async fn refuse_wallet_writes(&self, column: &str) {
        let sql = if on_postgres() {
            format!(
                "CREATE FUNCTION refuse_{column}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'disk full'; END $$; \
                 CREATE TRIGGER refuse_{column} BEFORE UPDATE OF {column} ON wallets \
                 FOR EACH ROW EXECUTE FUNCTION refuse_{column}();"
            )
        } else {
            format!(
                "CREATE TRIGGER refuse_{column} BEFORE UPDATE OF {column} ON wallets \
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        };
        self.execute(&sql).await;
    }

    /// What the database holds now: the row counts of `wallets`, `ceremonies`, `cloud_shares`
    /// and `audit_log`, and the contents of the rows a refused request could change in place.
    pub async fn rows(&self) -> Rows {
        let db = self.db().await;
        let count = |table: &'static str| {
            let db = db.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&db)
                    .await
                    .unwrap()
            }
        };
        let contents = |sql: &'static str| {
            let db = db.clone();
            async move { dump(&db, sql).await }
        };
        let rows = Rows {
            wallets: count("wallets").await,
            ceremonies: count("ceremonies").await,
            cloud_shares: count("cloud_shares").await,
            audit_log: count("audit_log").await,
            wallet_contents: contents(
                "SELECT id, app_id, status, pregen_kind, pregen_value, public_key, address, key_version, \
                 locked_at, lease_token, lease_until, updated_at FROM wallets ORDER BY id",
            )
            .await,
            other_contents: [
                contents("SELECT id_hash, consumed_at, expires_at FROM ceremonies ORDER BY id_hash").await,
                contents("SELECT wallet_id, key_version, sealed FROM cloud_shares ORDER BY wallet_id, key_version")
                    .await,
                contents("SELECT id, allow_raw_signing FROM apps ORDER BY id").await,
                contents("SELECT key_id, revoked_at FROM api_keys ORDER BY key_id").await,
            ]
            .join("#"),
            last_audit_id: sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM audit_log")
                .fetch_one(&db)
                .await
                .unwrap(),
        };
        db.close().await;
        rows
    }

    /// Every table of the database, with all its rows as [`dump`] writes them.
    pub async fn every_table(&self) -> Vec<(String, Vec<u8>)> {
        let db = self.db().await;
        let sql = if on_postgres() {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        };
        let tables: Vec<String> = sqlx::query_scalar(sql).fetch_all(&db).await.unwrap();
        let mut out = Vec::new();
        // The migrations' own bookkeeping holds no data of Dyad's (and timestamps the `Any`
        // driver cannot read).
        for table in tables.into_iter().filter(|t| !t.starts_with("_sqlx")) {
            let rows = dump(&db, &format!("SELECT * FROM {table}")).await;
            out.push((table, rows.into_bytes()));
        }
        db.close().await;
        out
    }

    /// The audit entries written after `before` was taken, oldest first, as (action, wallet,
    /// `detail.reason`).
    pub async fn audited_since(&self, before: &Rows) -> Vec<(String, Option<String>, Option<String>)> {
        let db = self.db().await;
        let entries: Vec<(String, Option<String>, String)> =
            sqlx::query_as("SELECT action, wallet_id, detail FROM audit_log WHERE id > $1 ORDER BY id")
                .bind(before.last_audit_id)
                .fetch_all(&db)
                .await
                .unwrap();
        db.close().await;
        entries
            .into_iter()
            .map(|(action, wallet, detail)| {
                let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
                let reason = detail.get("reason").and_then(|r| r.as_str()).map(str::to_string);
                (action, wallet, reason)
            })
            .collect()
    }

    /// Nothing was written since `before`: no row added, removed or changed, no audit entry.
    pub async fn assert_unchanged(&self, before: &Rows, what: &str) {
        self.assert_only_audited(before, &[], what).await;
    }

    /// Since `before`, exactly the audit entries `expected` (action, wallet, `detail.reason`)
    /// were written, in that order, and nothing else: no other row added, removed or changed.
    pub async fn assert_only_audited(&self, before: &Rows, expected: &[(&str, WalletId, &str)], what: &str) {
        let after = self.rows().await;
        let entries = self.audited_since(before).await;
        let expected: Vec<_> = expected
            .iter()
            .map(|(action, wallet, reason)| (action.to_string(), Some(wallet.to_string()), Some(reason.to_string())))
            .collect();
        assert_eq!(entries, expected, "{what}: the audit entries written");
        let want = Rows {
            audit_log: before.audit_log + expected.len() as i64,
            last_audit_id: after.last_audit_id,
            ..before.clone()
        };
        assert_eq!(after, want, "{what} changed the database");
    }

    /// The cloud share of `wallet` at its current key version, opened with the master key
    /// file, as only the server can.
    pub async fn cloud_share(&self, wallet: WalletId) -> (KeyShare, Vec<u8>) {
        let db = self.db().await;
        let master = dyad_server::MasterKey::from_file(&self.data_dir().join("master.key")).unwrap();
        let wrapped: Vec<u8> = sqlx::query_scalar("SELECT wrapped FROM data_keys WHERE id = 1")
            .fetch_one(&db)
            .await
            .unwrap();
        let data_key = master.unwrap_data_key(1, &wrapped).unwrap();
        let (sealed, version): (Vec<u8>, i64) = sqlx::query_as(
            "SELECT s.sealed, s.key_version FROM cloud_shares s JOIN wallets w ON w.id = s.wallet_id \
             AND w.key_version = s.key_version WHERE s.wallet_id = $1",
        )
        .bind(wallet.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
        db.close().await;
        let plain = data_key.open_share(&wallet, version as u32, &sealed).unwrap();
        (KeyShare::from_bytes(&plain).unwrap(), plain.to_vec())
    }

    /// A new BETA app; its API key.
    pub async fn app(&self, name: &str) -> String {
        let (_, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// A new app in `environment`; its API key.
    pub async fn app_in(&self, name: &str, environment: Environment) -> String {
        let (_, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, environment)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// A new BETA app on which an operator enabled `sign-raw` (off by default); its API key.
    pub async fn app_allowing_raw_signing(&self, name: &str) -> String {
        let (app, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        dyad_server::api_key::set_allow_raw_signing(self.store.as_ref(), app.id, true)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// `GET {path}` by hand, with the API key `key`.
    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/wallets` by hand: start a key generation of `wallet_type` (`"EVM"`, …) for the
    /// email `who`.
    pub async fn post_wallet(&self, key: &str, who: &str, wallet_type: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/v1/wallets", self.url()))
            .header("x-api-key", key)
            .json(&json!({ "type": wallet_type, "pregenId": { "email": who } }))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/wallets/{id}/sign-message` by hand.
    pub async fn post_sign_message(&self, key: &str, wallet: WalletId, message: &[u8]) -> reqwest::Response {
        let message = base64::engine::general_purpose::STANDARD.encode(message);
        reqwest::Client::new()
            .post(format!("{}/v1/wallets/{wallet}/sign-message", self.url()))
            .header("x-api-key", key)
            .json(&json!({ "messageBase64": message }))
            .send()
            .await
            .unwrap()
    }

    /// The newest one-time code the outbox holds for `recipient` (an address or number), read
    /// from the message as a person would read it.
    pub async fn outbox_code(&self, recipient: &str) -> String {
        let outbox = self.store.outbox().await.unwrap();
        let message = outbox
            .iter()
            .rev()
            .find(|m| m.recipient == recipient)
            .unwrap_or_else(|| panic!("no message to {recipient} in the outbox"));
        let digits: String = message
            .body
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a six-digit code in the message")
            .to_string();
        digits
    }

    /// A client of the app `key` logged in as the person with email `address` (code from the
    /// outbox).
    pub async fn person(&self, key: &str, address: &str) -> dyad_sdk::Dyad {
        let dyad = dyad_sdk::Dyad::new(&self.url(), key);
        dyad.start_email_login(address).await.unwrap();
        let code = self.outbox_code(&address.trim().to_lowercase()).await;
        dyad.verify_email_login(address, &code).await.unwrap();
        dyad
    }

    /// [`post_sign_message`](Self::post_sign_message), which must be accepted: the ticket.
    pub async fn sign_ticket(&self, key: &str, wallet: WalletId, message: &[u8]) -> CeremonyTicket {
        let resp = self.post_sign_message(key, wallet, message).await;
        assert_eq!(resp.status().as_u16(), 201);
        resp.json().await.unwrap()
    }
}

/// Every row `sql` selects, each cell as text (integers in decimal, byte strings in hex, NULL
/// as `-`), cells joined by `|` and rows by `;`: the same on both engines.
async fn dump(db: &sqlx::AnyPool, sql: &str) -> String {
    use sqlx::Row;
    let rows = sqlx::query(sql).fetch_all(db).await.unwrap();
    let cell = |row: &sqlx::any::AnyRow, i: usize| -> String {
        if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            return v.map_or("-".into(), |v| v.to_string());
        }
        if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            return v.unwrap_or_else(|| "-".into());
        }
        let v: Option<Vec<u8>> = row.try_get(i).unwrap();
        v.map_or("-".into(), hex::encode)
    };
    rows.iter()
        .map(|r| (0..r.columns().len()).map(|i| cell(r, i)).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join(";")
}

/// What the database holds at one moment ([`TestServer::rows`]), to prove a request changed
/// nothing (or only appended the audit entries it should).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rows {
    pub wallets: i64,
    pub ceremonies: i64,
    pub cloud_shares: i64,
    pub audit_log: i64,
    /// Every wallet row's columns (status, identifier, key, lock, lease, `updated_at`): an
    /// `UPDATE` shows here even when no count moves.
    pub wallet_contents: String,
    /// Ceremony rows (spent or not), cloud shares, app settings and API key revocations.
    pub other_contents: String,
    /// The newest audit entry's id: entries after it are new.
    pub last_audit_id: i64,
}

/// Assert that `r` is Dyad's error body with `status` and `code` and a message; the body.
pub async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status, "expected {code}");
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["code"], code, "{b}");
    assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
    b
}

/// A client WebSocket.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open the WebSocket of ceremony `id` on the server at `url` (refused with a plain HTTP error
/// when the id is unknown or spent).
pub async fn connect_ceremony(
    url: &str,
    id: &CeremonyId,
) -> Result<(Ws, tokio_tungstenite::tungstenite::handshake::client::Response), tokio_tungstenite::tungstenite::Error> {
    let ws_url = format!("{}{}", url.replace("http://", "ws://"), ceremony_path(id));
    tokio_tungstenite::connect_async(ws_url).await
}

/// The server's ceremony key, as `/v1/info` gives it.
pub async fn server_key(url: &str) -> CeremonyKey {
    let info: serde_json::Value = reqwest::get(format!("{url}/v1/info"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    info["ceremonyPublicKey"].as_str().unwrap().parse().unwrap()
}

/// A client's side of a ceremony driven by hand (to misbehave): the socket and the open Noise
/// channel.
pub struct Manual {
    pub ws: Ws,
    pub channel: SecureChannel,
}

impl Manual {
    /// Connect to the ceremony of `ticket` on the server at `url` and finish the handshake.
    pub async fn connect(url: &str, ticket: &CeremonyTicket) -> Self {
        let server_key = server_key(url).await;
        let (mut ws, _) = connect_ceremony(url, &ticket.ceremony_id).await.unwrap();
        let (init, m1) = Initiator::start(&server_key, &ticket.ceremony_id).unwrap();
        ws.send(Message::Binary(m1.into())).await.unwrap();
        let m2 = match ws.next().await.unwrap().unwrap() {
            Message::Binary(b) => b,
            other => panic!("expected the handshake, got {other:?}"),
        };
        Self {
            ws,
            channel: init.finish(&m2).unwrap(),
        }
    }

    /// [`Manual::connect`] to a ceremony of a live wallet's share (a signature, a claim), then
    /// wait for the server's `Go`: it holds the wallet's lease and its checks passed.
    pub async fn connect_live(url: &str, ticket: &CeremonyTicket) -> Self {
        let mut m = Self::connect(url, ticket).await;
        match m.recv().await {
            Some(Frame::Go) => m,
            other => panic!("expected the server's Go, got {other:?}"),
        }
    }

    /// Seal and send a frame.
    pub async fn send(&mut self, frame: &Frame) {
        let sealed = self.channel.seal(&frame.to_bytes()).unwrap();
        self.send_sealed(sealed).await;
    }

    /// Send bytes as they are (tampered, truncated, ...).
    pub async fn send_sealed(&mut self, sealed: Vec<u8>) {
        self.ws.send(Message::Binary(sealed.into())).await.unwrap();
    }

    /// The next frame, or `None` once the server closed without one.
    pub async fn recv(&mut self) -> Option<Frame> {
        while let Some(msg) = self.ws.next().await {
            match msg {
                Ok(Message::Binary(b)) => return Some(Frame::from_bytes(&self.channel.open(&b).unwrap()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
        None
    }

    /// The next frame, which must be a protocol round.
    pub async fn recv_protocol(&mut self) -> Vec<u8> {
        match self.recv().await {
            Some(Frame::Protocol(b)) => b.as_bytes().to_vec(),
            other => panic!("expected a protocol round, got {other:?}"),
        }
    }

    /// Read until the server's `Abort`, skipping protocol rounds; its code.
    pub async fn abort_code(&mut self) -> ErrorCode {
        self.abort().await.0
    }

    /// Read until the server's `Abort`, skipping protocol rounds; its code and message.
    pub async fn abort(&mut self) -> (ErrorCode, String) {
        loop {
            match self.recv().await {
                Some(Frame::Abort { code, message }) => {
                    assert!(!message.is_empty());
                    return (code, message);
                }
                Some(Frame::Protocol(_)) => continue,
                other => panic!("expected an Abort, got {other:?}"),
            }
        }
    }

    /// Drive one protocol run as the client, honestly, to its end: send each round, answer
    /// each of the server's.
    pub async fn run<M: Machine>(&mut self, start: (M, Vec<u8>)) -> M::Output {
        match self.drive(start, false).await {
            Ok(output) => output,
            Err(_) => unreachable!("a run to the end does not stop at its last round"),
        }
    }

    /// Drive one protocol run honestly up to this side's last frame, which is returned unsent
    /// (with the machine that would take the server's last round).
    pub async fn run_until_last<M: Machine>(&mut self, start: (M, Vec<u8>)) -> (M, Vec<u8>) {
        match self.drive(start, true).await {
            Ok(_) => panic!("the run ended without a last round to hold"),
            Err(last) => last,
        }
    }

    async fn drive<M: Machine>(&mut self, start: (M, Vec<u8>), stop_at_last: bool) -> Result<M::Output, (M, Vec<u8>)> {
        let (mut machine, mut out) = start;
        loop {
            if stop_at_last && machine.awaits_last_round() {
                return Err((machine, out));
            }
            self.send(&Frame::Protocol(out.into())).await;
            let round = self.recv_protocol().await;
            match machine.receive(&round).unwrap() {
                Transition::Continue(next, next_out) => {
                    machine = next;
                    out = next_out;
                }
                Transition::Done(output) => return Ok(output),
            }
        }
    }

    /// The very next frame must be the server's `Abort` (no protocol round before it); its code.
    pub async fn abort_code_at_once(&mut self) -> ErrorCode {
        match self.recv().await {
            Some(Frame::Abort { code, .. }) => code,
            other => panic!("expected an Abort at once, got {other:?}"),
        }
    }
}

/// A client's side of a ceremony on Noise driven directly with `snow`, so it can send what
/// [`SecureChannel::seal`] refuses to make (a frame over [`MAX_FRAME`]). It speaks the wire format
/// of `dyad_proto::channel` (pattern, prologue, framing), written out here independently.
pub struct RawNoise {
    pub ws: Ws,
    noise: snow::TransportState,
}

impl RawNoise {
    const PATTERN: &'static str = "Noise_NK_25519_ChaChaPoly_BLAKE2s";
    const NOISE_MAX: usize = 65535;
    const TAG: usize = 16;

    /// Connect to the ceremony of `ticket` and finish the handshake.
    pub async fn connect(url: &str, ticket: &CeremonyTicket) -> Self {
        let server_key = server_key(url).await;
        let (mut ws, _) = connect_ceremony(url, &ticket.ceremony_id).await.unwrap();
        let prologue = [&b"dyad/v1/ceremony"[..], &ticket.ceremony_id.0[..]].concat();
        let mut hs = snow::Builder::new(Self::PATTERN.parse().unwrap())
            .remote_public_key(server_key.as_bytes())
            .prologue(&prologue)
            .build_initiator()
            .unwrap();
        let mut buf = vec![0u8; Self::NOISE_MAX];
        let n = hs.write_message(&[], &mut buf).unwrap();
        ws.send(Message::Binary(buf[..n].to_vec().into())).await.unwrap();
        let m2 = match ws.next().await.unwrap().unwrap() {
            Message::Binary(b) => b,
            other => panic!("expected the handshake, got {other:?}"),
        };
        hs.read_message(&m2, &mut buf).unwrap();
        Self {
            ws,
            noise: hs.into_transport_mode().unwrap(),
        }
    }

    /// Seal `frame` as `SecureChannel::seal` does (its 4-byte length, then the plaintext in
    /// Noise messages of at most 65535 bytes, each after its 2-byte length), whatever its size.
    pub fn seal_any_size(&mut self, frame: &[u8]) -> Vec<u8> {
        let mut plain = (frame.len() as u32).to_be_bytes().to_vec();
        plain.extend_from_slice(frame);
        let mut out = Vec::new();
        let mut buf = vec![0u8; Self::NOISE_MAX];
        for chunk in plain.chunks(Self::NOISE_MAX - Self::TAG) {
            let n = self.noise.write_message(chunk, &mut buf).unwrap();
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Seal and send a frame of any size.
    pub async fn send(&mut self, frame: &Frame) {
        let sealed = self.seal_any_size(&frame.to_bytes());
        self.ws.send(Message::Binary(sealed.into())).await.unwrap();
    }

    /// The next frame, or `None` once the server closed without one.
    pub async fn recv(&mut self) -> Option<Frame> {
        while let Some(msg) = self.ws.next().await {
            match msg {
                Ok(Message::Binary(b)) => {
                    let mut plain = Vec::new();
                    let mut buf = vec![0u8; Self::NOISE_MAX];
                    let mut rest = &b[..];
                    while !rest.is_empty() {
                        let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
                        let m = self.noise.read_message(&rest[2..2 + n], &mut buf).unwrap();
                        plain.extend_from_slice(&buf[..m]);
                        rest = &rest[2 + n..];
                    }
                    let len = u32::from_be_bytes([plain[0], plain[1], plain[2], plain[3]]) as usize;
                    assert_eq!(len, plain.len() - 4);
                    return Some(Frame::from_bytes(&plain[4..]).unwrap());
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
        None
    }

    /// The next frame, which must be a protocol round.
    pub async fn recv_protocol(&mut self) -> Vec<u8> {
        match self.recv().await {
            Some(Frame::Protocol(b)) => b.as_bytes().to_vec(),
            other => panic!("expected a protocol round, got {other:?}"),
        }
    }

    /// Read until the server's `Abort`, skipping protocol rounds; its code and message.
    pub async fn abort(&mut self) -> (ErrorCode, String) {
        loop {
            match self.recv().await {
                Some(Frame::Abort { code, message }) => return (code, message),
                Some(Frame::Protocol(_)) => continue,
                other => panic!("expected an Abort, got {other:?}"),
            }
        }
    }
}

/// A protocol frame just over the ceremony cap: its encoding is longer than [`MAX_FRAME`].
pub fn frame_over_the_cap() -> Frame {
    let frame = Frame::Protocol(vec![0u8; MAX_FRAME].into());
    assert!(frame.to_bytes().len() > MAX_FRAME);
    frame
}
