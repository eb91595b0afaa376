//! Signing under attack: one ceremony per share pair at a time, a cheating client locks the
//! wallet before anyone queued behind it can sign, a cheating server (in a signature or in a
//! claim's refresh) makes the SDK retire the wallet, the server lets the client finish only
//! what it has recorded, and a key generation whose commit was attempted never tells the client
//! "aborted".

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use dyad_mpc::{KeyShare, Machine, Refresh, Sign, SignInput, Transition};
use dyad_proto::{session_id, CeremonyChannel, CeremonyId, ErrorCode, Frame, Run, RunStart, WalletType};
use dyad_sdk::{Dyad, SdkError, Wallet};
use dyad_server::{AppState, DataDir, ServerConfig};
use dyad_test_support::email;
use serde_json::{json, Value};
use support::{server_key, Manual, TestServer};

/// A wallet made through the SDK, and its user share as the app would keep it.
async fn wallet(t: &TestServer, key: &str, wallet_type: WalletType, who: &str) -> (Dyad, Wallet, String) {
    let dyad = Dyad::new(&t.url(), key);
    let w = dyad.create_pregen_wallet(wallet_type, &email(who)).await.unwrap();
    let share = dyad.get_user_share().unwrap().expose().to_string();
    (dyad, w, share)
}

fn user_share(share: &str) -> KeyShare {
    match std::sync::Arc::try_unwrap(dyad_sdk::UserShare::decode(share).unwrap().remove(0).share) {
        Ok(share) => share,
        Err(_) => panic!("a decoded share has one holder"),
    }
}

/// What `sign-message` signs for an EVM wallet, computed here the way the server does.
fn evm_message_input(w: &Wallet, message: &[u8]) -> SignInput {
    dyad_chains::message_sign_input(WalletType::Evm, &w.address, message).unwrap()
}

/// A client ceremony about to cheat in the multiplication: its round-1 OT-extension data,
/// tampered with under the right session binding (which DKLs reports as `BanCounterparty`),
/// ready to send. Returns once the server holds the wallet's lease (its `Go` and round 1
/// arrived).
async fn prepare_cheat(t: &TestServer, key: &str, w: &Wallet, share: &KeyShare) -> (Manual, Frame) {
    let message = b"cheat";
    let ticket = t.sign_ticket(key, w.id, message).await;
    let mut client = Manual::connect_live(&t.url(), &ticket).await;
    let sid = session_id(&ticket.ceremony_id, Run::Sign);
    let (_machine, mut first) = Sign::start(share, &sid, &evm_message_input(w, message)).unwrap();
    let _ = client.recv_protocol().await;
    let mid = first.len() / 2;
    first[mid] ^= 0x01;
    (client, Frame::Protocol(first.into()))
}

/// Honest ceremonies of `w`, authorised and connected (so queued behind whatever holds the
/// wallet's turn), that never get to send a round.
async fn queue_behind(t: &TestServer, key: &str, w: &Wallet, n: usize) -> Vec<Manual> {
    let mut queued = Vec::new();
    for i in 0..n {
        let ticket = t.sign_ticket(key, w.id, format!("honest {i}").as_bytes()).await;
        queued.push(Manual::connect(&t.url(), &ticket).await);
    }
    queued
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_signatures_on_one_wallet_all_succeed_one_at_a_time() {
    let t = TestServer::start().await;
    let key = t.app("bot").await;
    let (dyad, w, _) = wallet(&t, &key, WalletType::Evm, "bot@example.com").await;
    let dyad = Arc::new(dyad);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let (dyad, id) = (dyad.clone(), w.id);
        tasks.spawn(async move {
            let message = format!("airdrop {i}").into_bytes();
            let signed = dyad.sign_message(id, &message).await;
            (message, signed)
        });
    }
    let mut signed = 0;
    while let Some(done) = tasks.join_next().await {
        let (message, result) = done.unwrap();
        let sig = result.unwrap_or_else(|e| panic!("a concurrent signature failed: {e}"));
        dyad_test_support::verify::verify_message(&w, &message, &sig.signature).unwrap();
        signed += 1;
    }
    assert_eq!(signed, 50);

    // The recorded turns of the 50 ceremonies never overlap.
    let mut turns: Vec<(i64, i64)> = t
        .audit_log()
        .await
        .iter()
        .filter(|r| r.action == "sign.completed")
        .map(|r| {
            (
                r.detail["startedAtMicros"].as_i64().unwrap(),
                r.detail["finishedAtMicros"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(turns.len(), 50);
    turns.sort_unstable();
    for (start, end) in &turns {
        assert!(start <= end);
    }
    for pair in turns.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "two ceremonies of one wallet overlapped: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets WHERE lease_token IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheating_client_locks_the_wallet_and_every_ceremony_queued_behind_it_is_refused() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (dyad, w, share) = wallet(&t, &key, WalletType::Evm, "victim@example.com").await;
    let user = user_share(&share);

    let (mut cheat, tampered) = prepare_cheat(&t, &key, &w, &user).await;
    // Queued behind the cheater's turn before it cheats: without the lease they would be sent
    // the server's first round right away.
    let waiting = queue_behind(&t, &key, &w, 3).await;
    cheat.send(&tampered).await;
    assert_eq!(cheat.abort_code_at_once().await, ErrorCode::WalletLocked);
    for mut client in waiting {
        // Refused before a single protocol round: nothing of this share pair runs again.
        assert_eq!(client.abort_code_at_once().await, ErrorCode::WalletLocked);
    }

    let err = dyad.sign_message(w.id, b"after").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::WalletLocked));
    assert_eq!(t.audited("wallet.locked").await, 1);
    assert_eq!(t.audited("sign.completed").await, 0);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets WHERE locked_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_that_cannot_be_written_locks_the_wallet_anyway() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (dyad, w, share) = wallet(&t, &key, WalletType::Evm, "victim@example.com").await;
    let user = user_share(&share);
    t.refuse_wallet_writes("locked_at").await;

    let (mut cheat, tampered) = prepare_cheat(&t, &key, &w, &user).await;
    let waiting = queue_behind(&t, &key, &w, 1).await;
    cheat.send(&tampered).await;
    assert_eq!(cheat.abort_code_at_once().await, ErrorCode::WalletLocked);
    for mut client in waiting {
        assert_eq!(client.abort_code_at_once().await, ErrorCode::WalletLocked);
    }
    // The lock is not in the database; the cheater's lease is kept (so no other replica starts
    // a ceremony), and the wallet is refused all the same.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets WHERE locked_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets WHERE lease_token IS NOT NULL")
            .await,
        1
    );
    let err = dyad.sign_message(w.id, b"after").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::WalletLocked));
    assert!(matches!(err, SdkError::Api { status: 403, .. }));
    assert_eq!(t.audited("sign.completed").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cannot_finish_a_signature_the_server_did_not_record() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Evm, "user@example.com").await;
    let user = user_share(&share);
    let message = b"hello";
    let ticket = t.sign_ticket(&key, w.id, message).await;
    let mut client = Manual::connect_live(&t.url(), &ticket).await;
    let sid = session_id(&ticket.ceremony_id, Run::Sign);
    let (mut machine, first) = Sign::start(&user, &sid, &evm_message_input(&w, message)).unwrap();
    client.send(&Frame::Protocol(first.into())).await;
    // Rounds 1 and 2 honestly; the server's frame for each arrives as usual.
    let mut last = None;
    for _ in 0..2 {
        let theirs = client.recv_protocol().await;
        match machine.receive(&theirs).unwrap() {
            Transition::Continue(next, ours) => {
                machine = next;
                last = Some(ours);
            }
            Transition::Done(_) => panic!("signing ended early"),
        }
        if machine.awaits_last_round() {
            break;
        }
        client.send(&Frame::Protocol(last.take().unwrap().into())).await;
    }
    assert!(machine.awaits_last_round());
    // The client's last round, spoiled: had the server sent its own last round first, the client
    // could assemble the signature from it and its own true values.
    let mut spoiled = last.unwrap();
    let end = spoiled.len() - 1;
    spoiled[end] ^= 0x01;
    client.send(&Frame::Protocol(spoiled.into())).await;
    assert_eq!(client.abort_code_at_once().await, ErrorCode::CeremonyAborted);

    assert_eq!(t.audited("sign.failed").await, 1);
    assert_eq!(t.audited("sign.completed").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_generation_whose_commit_failed_keeps_the_share_and_is_never_aborted() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    t.refuse_wallet_writes("public_key").await;
    let dyad = Dyad::new(&t.url(), &key);
    let err = dyad
        .create_pregen_wallet(WalletType::Solana, &email("new@example.com"))
        .await
        .unwrap_err();
    let SdkError::Unconfirmed { wallet_id, .. } = &err else {
        panic!("expected Unconfirmed, got {err}");
    };
    // The share is kept, loaded in the client, in case the wallet exists.
    assert_eq!(dyad.loaded_wallets().len(), 1);
    assert_eq!(dyad.loaded_wallets()[0].id, *wallet_id);
    // And exported: the share string holds it.
    let exported = dyad_sdk::UserShare::decode(dyad.get_user_share().unwrap().expose()).unwrap();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].view.id, *wallet_id);
    assert_eq!(t.audited("wallet.commit_failed").await, 1);
    assert_eq!(t.audited("wallet.create_failed").await, 0);
}

/// What a stand-in server says that is not true, besides any tampering with its rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lie {
    /// Nothing (and it never sends `Done`).
    Nothing,
    /// Its ticket's summary names another recipient than the request's.
    Summary,
    /// Its ticket has no summary.
    NoSummary,
    /// After an honest protocol run, its `Done` reports another signature than the one made.
    Result,
    /// Nothing, and it reports the signature made, as the real server does.
    Honest,
}

/// When the stand-in tells a ceremony to go (sends `Go`, which says it holds the wallet's lease).
#[derive(Clone)]
enum GoOrder {
    /// At once, once the ceremony's channel is open.
    AtOnce,
    /// The first ceremony only once the second has ended: what a server whose leases are not
    /// granted in the order they were asked for does (across replicas the database lease is
    /// polled).
    SecondFirst(Arc<SecondFirst>),
    /// Every ceremony only once the gate opens.
    Gated(Arc<Gate>),
}

/// The stand-in's side of [`GoOrder::Gated`].
struct Gate {
    /// How many ceremonies have their channel open and wait for their `Go`.
    waiting: AtomicUsize,
    /// One more ceremony waits.
    one_more: tokio::sync::Notify,
    /// Open once it has a permit; each ceremony takes it and gives it back.
    open: tokio::sync::Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            waiting: AtomicUsize::new(0),
            one_more: tokio::sync::Notify::new(),
            open: tokio::sync::Semaphore::new(0),
        }
    }
}

impl Gate {
    /// Wait until `n` ceremonies wait for their `Go`.
    async fn until_waiting(&self, n: usize) {
        while self.waiting.load(Ordering::SeqCst) < n {
            self.one_more.notified().await;
        }
    }
}

/// The stand-in's side of [`GoOrder::SecondFirst`].
#[derive(Default)]
struct SecondFirst {
    /// The first ceremony's channel is open; its `Go` is held back.
    first_waiting: tokio::sync::Notify,
    /// The second ceremony ended.
    second_ended: tokio::sync::Notify,
    /// Which ceremonies ended, in order (1 for the first opened, 2 for the second).
    ended: Mutex<Vec<usize>>,
}

/// A stand-in Dyad server that holds a wallet's real cloud share and cheats with it: its
/// protocol rounds go through `tamper` (round index from 0, frame) before they are sent, and it
/// tells the `lie`, and tells each ceremony to go in its `go` order. It serves signatures and
/// claims; a session it asks the real server about.
#[derive(Clone)]
struct CheatingServer {
    state: AppState,
    upstream: String,
    wallet: Wallet,
    share: Arc<KeyShare>,
    tamper: fn(usize, &mut [u8]),
    lie: Lie,
    go: GoOrder,
    pending: Arc<Mutex<std::collections::HashMap<CeremonyId, Pending>>>,
    calls: Arc<AtomicUsize>,
    ceremonies: Arc<AtomicUsize>,
}

/// A ceremony one of the stand-in's tickets started.
#[derive(Clone)]
enum Pending {
    Sign(CeremonyId, dyad_chains::SignRequest, SignInput),
    Claim(CeremonyId),
}

impl CheatingServer {
    /// Everything the real server of `t` has for `w`: its master key, so its ceremony key and
    /// the cloud share.
    async fn steal(t: &TestServer, w: &Wallet, tamper: fn(usize, &mut [u8])) -> (Self, String) {
        Self::steal_lying(t, w, tamper, Lie::Nothing).await
    }

    /// The same, telling `lie`.
    async fn steal_lying(t: &TestServer, w: &Wallet, tamper: fn(usize, &mut [u8]), lie: Lie) -> (Self, String) {
        Self::start(t, w, tamper, lie, GoOrder::AtOnce).await
    }

    /// An honest stand-in, but for the order in which it tells its ceremonies to go.
    async fn steal_ordering(t: &TestServer, w: &Wallet, go: GoOrder) -> (Self, String) {
        Self::start(t, w, honest_rounds, Lie::Honest, go).await
    }

    async fn start(t: &TestServer, w: &Wallet, tamper: fn(usize, &mut [u8]), lie: Lie, go: GoOrder) -> (Self, String) {
        let data = DataDir::new(t.data_dir()).unwrap();
        let master = data.master_key_from_env_or_file().unwrap();
        let state = AppState::new(t.store.clone(), &master, ServerConfig::default())
            .await
            .unwrap();
        let sealed = t.store.cloud_share(w.id, w.key_version).await.unwrap().unwrap();
        let plain = state.data_key.open_share(&w.id, w.key_version, &sealed.sealed).unwrap();
        let cheater = CheatingServer {
            state,
            upstream: t.url(),
            wallet: w.clone(),
            share: Arc::new(KeyShare::from_bytes(&plain).unwrap()),
            tamper,
            lie,
            go,
            pending: Arc::default(),
            calls: Arc::new(AtomicUsize::new(0)),
            ceremonies: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/v1/wallets/{id}/claim", post(cheating_claim_ticket))
            .route("/v1/wallets/{id}/{operation}", post(cheating_ticket))
            .route("/v1/ceremonies/{id}", get(cheating_ceremony))
            .route("/v1/auth/session", get(upstream_session))
            .with_state(cheater.clone())
            .route("/v1/info", info_route(cheater.state.ceremony_key.public()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (cheater, url)
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// How many ceremony WebSockets were opened.
    fn ceremonies(&self) -> usize {
        self.ceremonies.load(Ordering::SeqCst)
    }
}

/// Decodes the request as the real server would (so both sides sign the same input).
async fn cheating_ticket(
    State(s): State<CheatingServer>,
    Path((_, operation)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    use base64::Engine;
    s.calls.fetch_add(1, Ordering::SeqCst);
    let request = match operation.as_str() {
        "sign-message" => dyad_chains::SignRequest::Message(
            base64::engine::general_purpose::STANDARD
                .decode(body["messageBase64"].as_str().unwrap())
                .unwrap(),
        ),
        "sign-transaction" => dyad_chains::SignRequest::Transaction(dyad_chains::TransactionRequest {
            bytes: hex::decode(body["transaction"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
            chain_id: body["chainId"].as_u64(),
            network_passphrase: None,
            cosmos_sign_mode: None,
        }),
        other => panic!("the cheater does not serve {other}"),
    };
    let public_key = s.share.public_key();
    let signer = dyad_chains::Account {
        wallet_type: s.wallet.wallet_type,
        public_key: &public_key,
        address: &s.wallet.address,
    };
    let prepared = request.prepare(signer).unwrap();
    let ceremony = CeremonyId::random();
    s.pending
        .lock()
        .unwrap()
        .insert(ceremony, Pending::Sign(ceremony, request, prepared.input));
    let mut ticket = json!({ "ceremonyId": ceremony, "walletId": s.wallet.id, "expiresAt": i64::MAX });
    let mut summary = prepared.summary;
    if s.lie == Lie::Summary {
        // What the server would audit: a payment to someone else than the request names.
        summary.recipients = vec!["0x00000000000000000000000000000000000dead0".into()];
    }
    if s.lie != Lie::NoSummary {
        ticket["summary"] = serde_json::to_value(summary).unwrap();
    }
    (StatusCode::CREATED, Json(ticket))
}

/// A claim of the stolen wallet (no body: the session says who claims).
async fn cheating_claim_ticket(State(s): State<CheatingServer>) -> (StatusCode, Json<Value>) {
    s.calls.fetch_add(1, Ordering::SeqCst);
    let ceremony = CeremonyId::random();
    s.pending.lock().unwrap().insert(ceremony, Pending::Claim(ceremony));
    let ticket = json!({ "ceremonyId": ceremony, "walletId": s.wallet.id, "expiresAt": i64::MAX });
    (StatusCode::CREATED, Json(ticket))
}

/// `GET /v1/auth/session`, answered by the real server: the person's session is real.
async fn upstream_session(
    State(s): State<CheatingServer>,
    mut headers: axum::http::HeaderMap,
) -> (StatusCode, Json<Value>) {
    headers.remove(axum::http::header::HOST);
    let answer = reqwest::Client::new()
        .get(format!("{}/v1/auth/session", s.upstream))
        .headers(headers)
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    (status, Json(answer.json().await.unwrap()))
}

async fn cheating_ceremony(
    State(s): State<CheatingServer>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> axum::response::Response {
    let opened = s.ceremonies.fetch_add(1, Ordering::SeqCst) + 1;
    ws.on_upgrade(move |socket| async move {
        let Some(pending) = id
            .parse()
            .ok()
            .and_then(|id| s.pending.lock().unwrap().get(&id).cloned())
        else {
            return;
        };
        let id = match &pending {
            Pending::Sign(id, ..) | Pending::Claim(id) => *id,
        };
        let transport = dyad_server::ceremony::AxumSocket::new(socket);
        let Ok(mut channel) = CeremonyChannel::accept(transport, &s.state.ceremony_key, &id, None).await else {
            return;
        };
        if let GoOrder::SecondFirst(order) = &s.go {
            if opened == 1 {
                order.first_waiting.notify_one();
                order.second_ended.notified().await;
            }
        }
        if let GoOrder::Gated(gate) = &s.go {
            gate.waiting.fetch_add(1, Ordering::SeqCst);
            gate.one_more.notify_one();
            if gate.open.acquire().await.is_err() {
                return;
            }
        }
        if channel.send(&Frame::Go).await.is_err() {
            return;
        }
        serve_ceremony(&s, &mut channel, id, pending).await;
        if let GoOrder::SecondFirst(order) = &s.go {
            order.ended.lock().unwrap().push(opened);
            if opened == 2 {
                order.second_ended.notify_one();
            }
        }
    })
}

/// The stand-in's side of ceremony `id`, once it told the client to go.
async fn serve_ceremony<T: dyad_proto::FrameTransport>(
    s: &CheatingServer,
    channel: &mut CeremonyChannel<T>,
    id: CeremonyId,
    pending: Pending,
) {
    let (request, input) = match pending {
        Pending::Sign(_, request, input) => (request, input),
        Pending::Claim(_) => {
            // The claim's first step, the refresh, cheated in: the SDK must catch it there.
            if let Ok(start) = Refresh::start(&s.share, &session_id(&id, Run::Refresh)) {
                let _ = run_tampered(channel, start, s.tamper).await;
            }
            return;
        }
    };
    let Ok(start) = Sign::start(&s.share, &session_id(&id, Run::Sign), &input) else {
        return;
    };
    let Some(signature) = run_tampered(channel, start, s.tamper).await else {
        return;
    };
    if !matches!(s.lie, Lie::Result | Lie::Honest) {
        return;
    }
    // The signature just made, in the chain's forms (changed, for `Lie::Result`: what a server
    // reporting something else than what both parties computed would send).
    let public_key = s.share.public_key();
    let account = dyad_chains::Account {
        wallet_type: s.wallet.wallet_type,
        public_key: &public_key,
        address: &s.wallet.address,
    };
    let Ok(mut signed) = request.finish(account, &signature) else {
        return;
    };
    if s.lie == Lie::Result {
        signed.signature[0] ^= 0x01;
    }
    let _ = channel.send(&Frame::Done(dyad_proto::Outcome::Signed(signed))).await;
}

/// Runs the cloud side of a protocol from `start`, each of its rounds through `tamper` before
/// it is sent; its output, or nothing once the client stops or the protocol fails.
async fn run_tampered<M: Machine, T: dyad_proto::FrameTransport>(
    channel: &mut CeremonyChannel<T>,
    start: (M, Vec<u8>),
    tamper: fn(usize, &mut [u8]),
) -> Option<M::Output> {
    let (mut machine, mut out) = start;
    let mut round = 0;
    loop {
        tamper(round, &mut out);
        round += 1;
        channel.send(&Frame::Protocol(out.into())).await.ok()?;
        let Ok(Frame::Protocol(theirs)) = channel.recv().await else {
            return None;
        };
        match machine.receive(theirs.as_bytes()).ok()? {
            Transition::Continue(next, next_out) => (machine, out) = (next, next_out),
            Transition::Done(output) => return Some(output),
        }
    }
}

/// `GET /v1/info` of a stand-in server whose ceremony key is `key`: a pinned client checks it.
fn info_route(key: dyad_proto::CeremonyKey) -> axum::routing::MethodRouter<()> {
    let info = json!({
        "version": "stand-in",
        "ceremonyPublicKey": key.to_string(),
        "walletTypes": ["EVM", "SOLANA", "COSMOS", "STELLAR"],
    });
    get(move || async move { Json(info) })
}

/// DKLs: flips a bit of the OT-extension data of the multiplication (round 1): `BanCounterparty`.
fn tamper_multiplication(round: usize, frame: &mut [u8]) {
    if round == 0 {
        let mid = frame.len() / 2;
        frame[mid] ^= 0x01;
    }
}

/// FROST: changes the server's signature share (round 2, a scalar at the end of the frame) by
/// one, so it stays a well-formed scalar but fails the share check.
fn tamper_signature_share(round: usize, frame: &mut [u8]) {
    if round == 1 {
        let at = frame.len() - 32;
        frame[at] ^= 0x01;
    }
}

/// Its rounds as the protocol made them.
fn honest_rounds(_: usize, _: &mut [u8]) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_refuses_a_summary_that_differs_from_its_own_decoding_before_any_round() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Evm, "user@example.com").await;
    let request = dyad_sdk::TransactionRequest {
        bytes: dyad_test_support::fixtures::eip155_unsigned(),
        chain_id: Some(1),
        network_passphrase: None,
        cosmos_sign_mode: None,
    };
    for (lie, expected) in [
        (Lie::Summary, "the server decoded this request differently"),
        (Lie::NoSummary, "the server did not say what it decoded"),
    ] {
        let (liar, fake) = CheatingServer::steal_lying(&t, &w, honest_rounds, lie).await;
        let client = Dyad::new(&fake, &key).with_ceremony_key(server_key(&t.url()).await);
        client.set_user_share(&share).await.unwrap();
        let err = client.sign_transaction(w.id, &request).await.unwrap_err();
        assert!(
            matches!(err, SdkError::Mismatch(m) if m == expected),
            "{lie:?}: {err:?}"
        );
        // Refused on the ticket: the share never took part in a round.
        assert_eq!(liar.calls(), 1, "{lie:?}");
        assert_eq!(liar.ceremonies(), 0, "{lie:?}");
        // Not a protocol cheat: the wallet is not retired.
        let kept = dyad_sdk::UserShare::decode(client.get_user_share().unwrap().expose()).unwrap();
        assert!(!kept[0].server_misbehaved, "{lie:?}");
    }
    // And it signs with the real server.
    let real = Dyad::new(&t.url(), &key);
    real.set_user_share(&share).await.unwrap();
    let signed = real.sign_transaction(w.id, &request).await.unwrap();
    let hash = dyad_test_support::fixtures::eip155_signing_hash();
    let sender = dyad_test_support::verify::recover_evm_address(&hash, &signed.signature);
    assert!(sender.eq_ignore_ascii_case(&w.address));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_refuses_a_result_that_differs_from_the_signature_it_assembled() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Evm, "user@example.com").await;
    let (liar, fake) = CheatingServer::steal_lying(&t, &w, honest_rounds, Lie::Result).await;
    let client = Dyad::new(&fake, &key).with_ceremony_key(server_key(&t.url()).await);
    client.set_user_share(&share).await.unwrap();

    let err = client.sign_message(w.id, b"what was signed").await.unwrap_err();
    assert!(
        matches!(err, SdkError::Mismatch("server reported a different signature")),
        "{err:?}"
    );
    // The protocol ran to its end: the refusal is the comparison with the server's word.
    assert_eq!(liar.ceremonies(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheating_server_gets_the_wallet_retired_in_the_sdk() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Evm, "user@example.com").await;
    let (cheater, fake) = CheatingServer::steal(&t, &w, tamper_multiplication).await;

    let client = Arc::new(Dyad::new(&fake, &key).with_ceremony_key(server_key(&t.url()).await));
    client.set_user_share(&share).await.unwrap();
    let err = client.sign_message(w.id, b"please sign").await.unwrap_err();
    assert!(
        matches!(&err, SdkError::ServerMisbehaved { wallet_id, .. } if *wallet_id == w.id),
        "{err}"
    );
    assert_eq!(err.code(), Some(ErrorCode::ServerMisbehaved));
    assert!(
        err.to_string().contains("must take part in no ceremony with it again"),
        "{err}"
    );

    // Retired in this client: refused before the server is asked again.
    let again = client.sign_message(w.id, b"once more").await.unwrap_err();
    assert_eq!(again.code(), Some(ErrorCode::ServerMisbehaved));
    assert_eq!(cheater.calls(), 1);
    // The alloy signer on the same client surfaces the same error.
    let signer = dyad_sdk::alloy::DyadSigner::new(client.clone(), w.id).unwrap();
    let alloy_err = alloy_signer::Signer::sign_message(&signer, b"via alloy")
        .await
        .unwrap_err();
    assert!(alloy_err.to_string().contains("SERVER_MISBEHAVED"), "{alloy_err}");
    assert_eq!(cheater.calls(), 1);

    // And in every share string exported from it: even the real server is not asked.
    let exported = client.get_user_share().unwrap();
    assert!(dyad_sdk::UserShare::decode(exported.expose()).unwrap()[0].server_misbehaved);
    let fresh = Dyad::new(&t.url(), &key);
    fresh.set_user_share(exported.expose()).await.unwrap();
    let err = fresh.sign_message(w.id, b"real server").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ServerMisbehaved));
    // Nor does the share string the app saved before the cheat bring it back in this process.
    let stale = Dyad::new(&t.url(), &key);
    stale.set_user_share(&share).await.unwrap();
    let err = stale.sign_message(w.id, b"old share").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ServerMisbehaved));
    assert!(dyad_sdk::UserShare::decode(stale.get_user_share().unwrap().expose()).unwrap()[0].server_misbehaved);
    assert_eq!(t.audited("sign.requested").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_takes_a_shares_turn_in_the_order_the_server_says_go_not_in_the_order_it_asked() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    for (wallet_type, who) in [
        (WalletType::Evm, "first@example.com"),
        (WalletType::Solana, "second@example.com"),
    ] {
        let (_, w, share) = wallet(&t, &key, wallet_type, who).await;
        let order = Arc::new(SecondFirst::default());
        let (stand_in, url) = CheatingServer::steal_ordering(&t, &w, GoOrder::SecondFirst(order.clone())).await;
        let client = Dyad::new(&url, &key).with_ceremony_key(server_key(&t.url()).await);
        client.set_user_share(&share).await.unwrap();
        // The first signature is asked for, and connected, before the second; the server holds
        // the first one's `Go` until the second has ended. A client that took the share's turn
        // before the server's word would hold it for the first, and the second would never run.
        let first = client.sign_message(w.id, b"asked first");
        let second = async {
            order.first_waiting.notified().await;
            client.sign_message(w.id, b"asked second").await
        };
        let (first, second) = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            futures_util::future::join(first, second),
        )
        .await
        .expect("the two signatures waited on each other");
        dyad_test_support::verify::verify_message(&w, b"asked first", &first.unwrap().signature).unwrap();
        dyad_test_support::verify::verify_message(&w, b"asked second", &second.unwrap().signature).unwrap();
        assert_eq!(*order.ended.lock().unwrap(), vec![2, 1], "{wallet_type:?}");
        assert_eq!(stand_in.ceremonies(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_dropped_while_they_wait_for_the_servers_go_give_their_places_back() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Evm, "dropped@example.com").await;
    let gate = Arc::new(Gate::default());
    let (stand_in, url) = CheatingServer::steal_ordering(&t, &w, GoOrder::Gated(gate.clone())).await;
    let client = Dyad::new(&url, &key).with_ceremony_key(server_key(&t.url()).await);
    client.set_user_share(&share).await.unwrap();
    // One more than a share may have asked for at once: the last waits here, unasked. Each
    // DKLs signature computes its first step while it waits for its `Go`.
    let messages: Vec<String> = (0..5).map(|i| format!("dropped {i}")).collect();
    let asked = futures_util::future::join_all(messages.iter().map(|m| client.sign_message(w.id, m.as_bytes())));
    tokio::select! {
        _ = asked => panic!("a signature ended while no ceremony was told to go"),
        _ = gate.until_waiting(4) => {}
    }
    assert_eq!(
        stand_in.calls(),
        4,
        "a share has at most four ceremonies asked for at once"
    );
    // The five futures are dropped; their places must be free again, or this one never asks.
    gate.open.add_permits(1);
    let signed = tokio::time::timeout(std::time::Duration::from_secs(60), client.sign_message(w.id, b"after"))
        .await
        .expect("a dropped signature kept its place");
    dyad_test_support::verify::verify_message(&w, b"after", &signed.unwrap().signature).unwrap();
    assert_eq!(stand_in.calls(), 5);
}

/// A client of the stand-in at `url` with `person`'s session (made at the real server) and
/// the wallet's `share`, pinned to the real server's ceremony key.
async fn person_at(t: &TestServer, key: &str, url: &str, person: &Dyad, share: &str) -> Dyad {
    let client = Dyad::new(url, key).with_ceremony_key(server_key(&t.url()).await);
    client.import_session(&person.export_session().unwrap()).unwrap();
    client.set_user_share(share).await.unwrap();
    client
}

/// A claim's refresh, cheated in by the server: DKLs (EVM) and FROST (Solana).
fn tamper_refresh(round: usize, frame: &mut [u8]) {
    if round == 1 {
        let at = frame.len() - 32;
        frame[at] ^= 0x01;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_cheating_in_a_claims_refresh_gets_the_wallet_retired_in_the_sdk() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    for (wallet_type, who) in [
        (WalletType::Evm, "ada@example.com"),
        (WalletType::Solana, "sol@example.com"),
    ] {
        let (app, w, share) = wallet(&t, &key, wallet_type, who).await;
        // The person, logged in at the real server, claims through a stand-in.
        let person = t.person(&key, who).await;

        // One whose refresh is honest and which then hangs up: a failed claim, not a cheat.
        let (_, honest) = CheatingServer::steal(&t, &w, honest_rounds).await;
        let client = person_at(&t, &key, &honest, &person, &share).await;
        let err = client.claim_pregen_wallets(None).await.unwrap_err();
        assert!(matches!(err, SdkError::Ceremony(_)), "{wallet_type:?}: {err:?}");
        assert!(!dyad_sdk::UserShare::decode(client.get_user_share().unwrap().expose()).unwrap()[0].server_misbehaved);

        let (cheater, fake) = CheatingServer::steal(&t, &w, tamper_refresh).await;
        let client = person_at(&t, &key, &fake, &person, &share).await;
        let err = client.claim_pregen_wallets(None).await.unwrap_err();
        assert!(
            matches!(&err, SdkError::ServerMisbehaved { wallet_id, .. } if *wallet_id == w.id),
            "{wallet_type:?}: {err:?}"
        );
        assert_eq!((cheater.calls(), cheater.ceremonies()), (1, 1), "{wallet_type:?}");

        // Retired: neither a signature nor another claim asks the server again.
        let again = client.sign_message(w.id, b"after the claim").await.unwrap_err();
        assert_eq!(again.code(), Some(ErrorCode::ServerMisbehaved), "{wallet_type:?}");
        let reclaim = client.claim_pregen_wallets(None).await.unwrap_err();
        assert_eq!(reclaim.code(), Some(ErrorCode::ServerMisbehaved), "{wallet_type:?}");
        assert_eq!(cheater.calls(), 1, "{wallet_type:?}");
        // Recorded in the share string it exports, and in this process for the app's client,
        // whose share is the same one: the real server is not asked either.
        let exported = client.get_user_share().unwrap();
        assert!(dyad_sdk::UserShare::decode(exported.expose()).unwrap()[0].server_misbehaved);
        let err = app.sign_message(w.id, b"the app").await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::ServerMisbehaved), "{wallet_type:?}");
    }
    assert_eq!(t.audited("sign.requested").await, 0);
    assert_eq!(t.audited("wallet.claimed").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheating_server_is_reported_by_the_solana_signer() {
    use solana_signer::Signer;
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let (_, w, share) = wallet(&t, &key, WalletType::Solana, "sol@example.com").await;
    let (cheater, fake) = CheatingServer::steal(&t, &w, tamper_signature_share).await;
    let client = Dyad::new(&fake, &key).with_ceremony_key(server_key(&t.url()).await);
    client.set_user_share(&share).await.unwrap();
    let signer = dyad_sdk::solana::DyadSolanaSigner::new(&client, w.id).unwrap();

    let payer = signer.try_pubkey().unwrap();
    let blockhash = solana_hash::Hash::new_from_array([42; 32]);
    let transfer =
        solana_system_interface::instruction::transfer(&payer, &solana_message::Address::new_from_array([7; 32]), 5);
    let message = solana_message::Message::new_with_blockhash(&[transfer], Some(&payer), &blockhash).serialize();
    let (signer, results) = tokio::task::spawn_blocking(move || {
        let first = signer.try_sign_message(&message);
        let second = signer.try_sign_message(&message);
        (signer, [first, second])
    })
    .await
    .unwrap();
    drop(signer);
    for result in results {
        let err = result.unwrap_err();
        assert!(err.to_string().contains("SERVER_MISBEHAVED"), "{err:?}");
    }
    // The second refusal came from the signer itself.
    assert_eq!(cheater.calls(), 1);
    // The client the signer was made from exports the wallet retired too.
    let exported = dyad_sdk::UserShare::decode(client.get_user_share().unwrap().expose()).unwrap();
    assert!(exported[0].server_misbehaved);
}

/// A stand-in server that runs key generation honestly up to the client's confirmation, then
/// says "aborted".
#[derive(Clone)]
struct AbortsAfterConfirm {
    key: Arc<dyad_proto::ServerStaticKey>,
    ceremony: Arc<Mutex<Option<(CeremonyId, dyad_proto::WalletId)>>>,
}

async fn aborting_create(State(s): State<AbortsAfterConfirm>) -> (StatusCode, Json<Value>) {
    let (ceremony, wallet) = (CeremonyId::random(), dyad_proto::WalletId::random());
    *s.ceremony.lock().unwrap() = Some((ceremony, wallet));
    let ticket = json!({ "ceremonyId": ceremony, "walletId": wallet, "expiresAt": i64::MAX });
    (StatusCode::CREATED, Json(ticket))
}

async fn aborting_ceremony(State(s): State<AbortsAfterConfirm>, ws: WebSocketUpgrade) -> axum::response::Response {
    ws.on_upgrade(move |socket| async move {
        let Some((id, _)) = *s.ceremony.lock().unwrap() else {
            return;
        };
        let transport = dyad_server::ceremony::AxumSocket::new(socket);
        let Ok(mut channel) = CeremonyChannel::accept(transport, &s.key, &id, None).await else {
            return;
        };
        let sid = session_id(&id, Run::Dkg);
        let Ok(share) = channel
            .run(RunStart::new(dyad_mpc::Scheme::Frost, move || {
                dyad_mpc::Dkg::start(dyad_mpc::Scheme::Frost, dyad_mpc::Role::Cloud, &sid)
            }))
            .await
        else {
            return;
        };
        let input = dyad_proto::confirmation_input(dyad_mpc::Scheme::Frost, &id);
        let sid = session_id(&id, Run::Confirm);
        if channel
            .run(RunStart::new(dyad_mpc::Scheme::Frost, move || {
                Sign::start(&share, &sid, &input)
            }))
            .await
            .is_err()
        {
            return;
        }
        if let Ok(Frame::Confirm) = channel.recv().await {
            channel.abort(ErrorCode::CeremonyAborted, "changed my mind").await;
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_share_is_kept_even_when_the_server_then_says_aborted() {
    let key = dyad_proto::ServerStaticKey::from_secret([7; 32]).unwrap();
    let public = key.public();
    let server = AbortsAfterConfirm {
        key: Arc::new(key),
        ceremony: Arc::new(Mutex::new(None)),
    };
    let app = Router::new()
        .route("/v1/wallets", post(aborting_create))
        .route("/v1/ceremonies/{id}", get(aborting_ceremony))
        .with_state(server.clone())
        .route("/v1/info", info_route(public));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dyad = Dyad::new(&url, "dyad_beta_x_y").with_ceremony_key(public);
    let err = dyad
        .create_pregen_wallet(WalletType::Solana, &email("kept@example.com"))
        .await
        .unwrap_err();
    let SdkError::Unconfirmed { wallet_id, .. } = &err else {
        panic!("expected Unconfirmed, got {err}");
    };
    let (_, created) = server.ceremony.lock().unwrap().unwrap();
    assert_eq!(*wallet_id, created);
    assert_eq!(dyad.loaded_wallets().len(), 1);
    let exported = dyad_sdk::UserShare::decode(dyad.get_user_share().unwrap().expose()).unwrap();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].view.id, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waits_for_its_turn_only_so_long() {
    let config = ServerConfig {
        turn_wait: std::time::Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let t = TestServer::start_with(config).await;
    let key = t.app("shop").await;
    let (_, w, _) = wallet(&t, &key, WalletType::Evm, "slow@example.com").await;
    // A client that takes its turn and then stalls.
    let ticket = t.sign_ticket(&key, w.id, b"stall").await;
    let mut slow = Manual::connect_live(&t.url(), &ticket).await;
    let _ = slow.recv_protocol().await;
    let mut waiting = queue_behind(&t, &key, &w, 1).await;
    assert_eq!(waiting[0].abort_code_at_once().await, ErrorCode::WalletBusy);
    let log = t.audit_log().await;
    assert!(log
        .iter()
        .any(|r| r.action == "sign.failed" && r.detail["code"] == "WALLET_BUSY"));
}
