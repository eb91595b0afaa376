//! The batch connection (`GET /v1/ceremonies/batch`): many key generations and signatures over
//! one authenticated WebSocket sealed in one Noise channel, each still its own ceremony with its
//! own id, session ids and outcome, and each refused or failed on its own.

mod support;

use std::collections::HashSet;

use dyad_proto::batch::{Control, LaneId, Outgoing, Record, ToClient, BATCH_PATH};
use dyad_proto::channel::{ConnectionChannel, Initiator};
use dyad_proto::{CeremonyKey, ErrorCode, Frame, WalletType};
use dyad_sdk::{Dyad, SdkError};
use dyad_test_support::email;
use dyad_test_support::verify::verify_message;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use support::{connect_ceremony, server_key, TestServer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use zeroize::Zeroizing;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The batch route's WebSocket, upgraded with `key`, before any handshake.
async fn raw_socket(url: &str, key: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("{}{BATCH_PATH}", url.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("x-api-key", key.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

/// The next binary message, or `None` once the server has closed the connection.
async fn next_binary(ws: &mut Ws) -> Option<Vec<u8>> {
    loop {
        match ws.next().await? {
            Ok(Message::Binary(b)) => return Some(b.to_vec()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
}

/// A batch connection driven by hand: its handshake done with `server`, every message sealed
/// and opened in its channel.
struct RawBatch {
    ws: Ws,
    channel: ConnectionChannel,
}

/// What the server sent, opened.
#[derive(Debug)]
enum Got {
    Control(Box<Control<ToClient>>),
    Frame(LaneId, Vec<u8>),
}

impl RawBatch {
    async fn open(url: &str, key: &str) -> Self {
        Self::open_to(url, key, server_key(url).await)
            .await
            .expect("the server answers")
    }

    /// `None` if the server closed the socket instead of answering the handshake.
    async fn open_to(url: &str, key: &str, server: CeremonyKey) -> Option<Self> {
        let mut ws = raw_socket(url, key).await.unwrap();
        let (init, hello) = Initiator::start_connection(&server).unwrap();
        ws.send(Message::Binary(hello.into())).await.unwrap();
        let answer = next_binary(&mut ws).await?;
        let channel = init.finish(&answer).expect("the server's answer is for this key");
        Some(Self { ws, channel })
    }

    async fn send(&mut self, record: Outgoing) {
        let sealed = self.channel.sealer.seal(&record.record()).unwrap();
        self.ws.send(Message::Binary(sealed.into())).await.unwrap();
    }

    async fn send_control(&mut self, value: serde_json::Value) {
        self.send(Outgoing::Text(value.to_string())).await;
    }

    async fn send_frame(&mut self, lane: LaneId, bytes: &[u8]) {
        self.send(Outgoing::Frame(lane, Zeroizing::new(bytes.to_vec()))).await;
    }

    /// The server's next message, opened; `None` once it has closed the connection.
    async fn next(&mut self) -> Option<Got> {
        let sealed = next_binary(&mut self.ws).await?;
        let plain = self
            .channel
            .opener
            .open(&sealed)
            .expect("sealed in the connection's channel");
        Some(match Record::parse(&plain).expect("a record") {
            Record::Control(text) => Got::Control(Box::new(serde_json::from_str(text).unwrap())),
            Record::Frame(lane, frame) => Got::Frame(lane, frame.to_vec()),
        })
    }

    /// The next control message the server sends, skipping ceremony frames.
    async fn next_control(&mut self) -> Control<ToClient> {
        loop {
            match self.next().await.expect("the server is still there") {
                Got::Control(control) => return *control,
                Got::Frame(..) => continue,
            }
        }
    }

    /// Wait for the server to close the connection, skipping what it still sends.
    async fn until_closed(&mut self) {
        while next_binary(&mut self.ws).await.is_some() {}
    }
}

#[tokio::test]
async fn many_wallets_over_one_connection_each_its_own_ceremony_and_each_signs() {
    let t = TestServer::start().await;
    let key = t.app("batch").await;
    let dyad = Dyad::new(&t.url(), &key);
    let batch = dyad.batch().await.unwrap();
    let types = [
        WalletType::Solana,
        WalletType::Stellar,
        WalletType::Cosmos,
        WalletType::Evm,
    ];
    let jobs: Vec<_> = (0..12)
        .map(|i| (types[i % 4], email(&format!("batch{i}@example.com"))))
        .collect();
    let created = futures_util::future::join_all(jobs.iter().map(|(t, id)| batch.create_pregen_wallet(*t, id))).await;
    let wallets: Vec<_> = created.into_iter().map(Result::unwrap).collect();

    let ids: HashSet<_> = wallets.iter().map(|w| w.id).collect();
    assert_eq!(ids.len(), 12, "one wallet per create");
    for ((wallet_type, id), w) in jobs.iter().zip(&wallets) {
        assert_eq!((w.wallet_type, &w.pregen_id), (*wallet_type, id));
    }
    // Each its own single-use ceremony, committed and audited on its own.
    assert_eq!(t.count("SELECT COUNT(DISTINCT id_hash) FROM ceremonies").await, 12);
    assert_eq!(t.audited("wallet.created").await, 12);
    assert_eq!(t.audited("wallet.create_requested").await, 12);

    // The shares loaded from the batch sign, checked by the independent verifier.
    for w in &wallets {
        let message = format!("batch wallet {}", w.id);
        let signed = dyad.sign_message(w.id, message.as_bytes()).await.unwrap();
        verify_message(w, message.as_bytes(), &signed.signature).unwrap();
    }

    // A second wallet of the same type for the same person is refused on its lane as the
    // route refuses it, naming the wallet; the connection goes on.
    let (wallet_type, id) = &jobs[0];
    match batch.create_pregen_wallet(*wallet_type, id).await {
        Err(SdkError::Api {
            status: 409,
            code: ErrorCode::WalletExists,
            wallet_id,
            ..
        }) => assert_eq!(wallet_id, Some(wallets[0].id)),
        other => panic!("expected WALLET_EXISTS, got {other:?}"),
    }
    let more = batch
        .create_pregen_wallet(WalletType::Solana, &email("later@example.com"))
        .await
        .unwrap();
    assert!(!ids.contains(&more.id));
}

#[tokio::test]
async fn concurrent_creates_of_one_person_on_one_connection_make_one_wallet() {
    let t = TestServer::start().await;
    let key = t.app("batch").await;
    let dyad = Dyad::new(&t.url(), &key);
    let batch = dyad.batch().await.unwrap();
    let who = email("twice@example.com");
    let results =
        futures_util::future::join_all((0..4).map(|_| batch.create_pregen_wallet(WalletType::Solana, &who))).await;
    let made: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(made.len(), 1, "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(e.code(), Some(ErrorCode::WalletExists | ErrorCode::CeremonyInProgress)),
                "{e}"
            );
        }
    }
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 1);
}

#[tokio::test]
async fn a_bad_lane_is_refused_alone_and_writes_nothing() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("batch").await;
    let mut ws = RawBatch::open(&t.url(), &key).await;
    let before = t.rows().await;

    // Refusals carry the route's status and code, on their lane.
    ws.send_control(json!({"lane": 1, "create": {"type": "DOGE", "pregenId": {"email": "a@example.com"}}}))
        .await;
    let refused = ws.next_control().await;
    assert_eq!(refused.lane, 1);
    let ToClient::Refused(r) = refused.message else {
        panic!("expected a refusal")
    };
    assert_eq!((r.status, r.error.code), (422, ErrorCode::UnsupportedWalletType));

    ws.send_control(json!({"lane": 2, "create": {"type": "SOLANA", "pregenId": {"email": "not an email"}}}))
        .await;
    let refused = ws.next_control().await;
    let ToClient::Refused(r) = refused.message else {
        panic!("expected a refusal")
    };
    assert_eq!((refused.lane, r.error.code), (2, ErrorCode::InvalidIdentifier));
    t.assert_unchanged(&before, "refused creates on a batch lane").await;

    // A lane whose first frame is garbage ends alone: its pending wallet is forgotten (audited)
    // before the lane's end is sent, and the identifier is free again.
    let who = json!({"email": "garbage@example.com"});
    ws.send_control(json!({"lane": 3, "create": {"type": "SOLANA", "pregenId": who}}))
        .await;
    let ticket = ws.next_control().await;
    let ToClient::Ticket(ticket) = ticket.message else {
        panic!("expected a ticket")
    };
    // Consumed by the batch: the ceremony's own route does not know it any more.
    let err = connect_ceremony(&t.url(), &ticket.ceremony_id).await.unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    ws.send_frame(3, b"not a ceremony frame").await;
    let closed = ws.next_control().await;
    assert_eq!(
        (closed.lane, &closed.message),
        (3, &ToClient::Closed(Default::default()))
    );
    assert_eq!(t.audited("wallet.create_failed").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);

    // The connection still serves: a new lane for the same person gets a ticket, and its
    // ceremony starts at once, in the connection's channel (no handshake of its own).
    ws.send_control(json!({"lane": 4, "create": {"type": "SOLANA", "pregenId": who}}))
        .await;
    let ToClient::Ticket(_) = ws.next_control().await.message else {
        panic!("expected a ticket")
    };

    // The client ending the lane ends its ceremony as a dropped socket would: the failure is
    // recorded before the server's last word (its Abort, on this lane).
    ws.send_control(json!({"lane": 4, "closed": {}})).await;
    let code = loop {
        match ws.next().await.expect("the server is still there") {
            Got::Frame(lane, frame) => {
                assert_eq!(lane, 4);
                match Frame::from_bytes(&frame).unwrap() {
                    Frame::Abort { code, .. } => break code,
                    Frame::Protocol(_) => continue,
                    other => panic!("unexpected {other:?}"),
                }
            }
            Got::Control(c) => panic!("unexpected {c:?}"),
        }
    };
    assert_eq!(code, ErrorCode::CeremonyAborted);
    assert_eq!(t.audited("wallet.create_failed").await, 2);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);
}

/// The connection's channel: only the server holding the pinned ceremony key can answer its
/// handshake; after it, a message in the clear or one that fails to open ends the connection,
/// and the ceremony running on it fails as on a dropped socket, recorded before the socket
/// closes.
#[tokio::test]
async fn a_batch_connection_is_sealed_to_the_servers_key_and_ends_on_any_unsealed_or_changed_message() {
    let t = TestServer::start_without_reaping().await;
    let key = t.app("batch").await;
    let before = t.rows().await;

    // To another key: the server closes the socket without an answer.
    assert!(RawBatch::open_to(&t.url(), &key, CeremonyKey::new([9; 32]))
        .await
        .is_none());
    let pinned_elsewhere = Dyad::new(&t.url(), &key).with_ceremony_key(CeremonyKey::new([9; 32]));
    // The SDK finds the mismatch in `/v1/info` before it connects; the handshake would refuse it
    // anyway (above).
    match pinned_elsewhere.batch().await {
        Err(SdkError::ServerKeyMismatch { pinned, .. }) => assert_eq!(pinned, CeremonyKey::new([9; 32]).to_string()),
        other => panic!("expected ServerKeyMismatch, got {:?}", other.map(|_| ())),
    }
    // A first message that is no handshake (a control in the clear): closed as well.
    let mut ws = raw_socket(&t.url(), &key).await.unwrap();
    let create = json!({"lane": 1, "create": {"type": "SOLANA", "pregenId": {"email": "clear@example.com"}}});
    ws.send(Message::Text(create.to_string().into())).await.unwrap();
    assert_eq!(next_binary(&mut ws).await, None);
    t.assert_unchanged(&before, "refused batch handshakes").await;

    // After the handshake, a control in the clear ends the connection.
    let mut ws = RawBatch::open(&t.url(), &key).await;
    ws.ws.send(Message::Text(create.to_string().into())).await.unwrap();
    ws.until_closed().await;
    t.assert_unchanged(&before, "a control in the clear").await;

    // A changed message mid-ceremony ends the connection and the ceremony: its pending wallet
    // is forgotten, audited, before the socket closes.
    let mut ws = RawBatch::open(&t.url(), &key).await;
    ws.send_control(create.clone()).await;
    let ToClient::Ticket(_) = ws.next_control().await.message else {
        panic!("expected a ticket")
    };
    let mut sealed = ws
        .channel
        .sealer
        .seal(&Outgoing::Frame(1, Zeroizing::new(b"a round".to_vec())).record())
        .unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    ws.ws.send(Message::Binary(sealed.into())).await.unwrap();
    ws.until_closed().await;
    assert_eq!(t.audited("wallet.create_failed").await, 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);

    // A replayed message does the same.
    let mut ws = RawBatch::open(&t.url(), &key).await;
    let record = Outgoing::Text(create.to_string());
    let once = ws.channel.sealer.seal(&record.record()).unwrap();
    ws.ws.send(Message::Binary(once.clone().into())).await.unwrap();
    let ToClient::Ticket(_) = ws.next_control().await.message else {
        panic!("expected a ticket")
    };
    ws.ws.send(Message::Binary(once.into())).await.unwrap();
    ws.until_closed().await;
    assert_eq!(t.audited("wallet.create_failed").await, 2);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);
}

#[tokio::test]
async fn only_a_valid_key_opens_a_batch_and_a_revoked_one_stops_it() {
    let t = TestServer::start().await;
    let key = t.app("batch").await;

    let err = raw_socket(&t.url(), "dyad_beta_0000000000000000_00").await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let stranger = Dyad::new(&t.url(), "dyad_beta_0000000000000000_00");
    assert_eq!(
        stranger.batch().await.unwrap_err().code(),
        Some(ErrorCode::Unauthenticated)
    );

    let dyad = Dyad::new(&t.url(), &key);
    let batch = dyad.batch().await.unwrap();
    batch
        .create_pregen_wallet(WalletType::Solana, &email("before@example.com"))
        .await
        .unwrap();
    let key_id = key.split('_').nth(2).unwrap();
    dyad_server::api_key::revoke_key(t.store.as_ref(), t.first_scope().await.app_id, key_id)
        .await
        .unwrap();
    match batch
        .create_pregen_wallet(WalletType::Solana, &email("after@example.com"))
        .await
    {
        Err(SdkError::Api {
            status: 401,
            code: ErrorCode::Unauthenticated,
            ..
        }) => {}
        other => panic!("expected UNAUTHENTICATED, got {other:?}"),
    }
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 1);
}

/// Signatures over one batch connection: each its own single-use ceremony, authorised, decoded
/// and audited as its sign route does it, verified by the independent verifier; many at once on
/// one wallet all succeed, one at a time (its lease), on one connection.
#[tokio::test]
async fn signatures_over_one_connection_each_its_own_ceremony_and_verified() {
    let t = TestServer::start().await;
    let key = t.app("batch").await;
    let dyad = Dyad::new(&t.url(), &key);
    let batch = dyad.batch().await.unwrap();
    let mut wallets = Vec::new();
    for (i, wallet_type) in [
        WalletType::Solana,
        WalletType::Evm,
        WalletType::Stellar,
        WalletType::Cosmos,
    ]
    .into_iter()
    .enumerate()
    {
        wallets.push(
            batch
                .create_pregen_wallet(wallet_type, &email(&format!("signer{i}@example.com")))
                .await
                .unwrap(),
        );
    }
    let ceremonies_before = t.count("SELECT COUNT(DISTINCT id_hash) FROM ceremonies").await;
    for w in &wallets {
        let message = format!("signed on a lane by {}", w.id);
        let signed = batch.sign_message(w.id, message.as_bytes()).await.unwrap();
        verify_message(w, message.as_bytes(), &signed.signature).unwrap();
    }
    // Five at once on one wallet: one ceremony each, one after the other, all verified.
    let solana = &wallets[0];
    let messages: Vec<String> = (0..5).map(|i| format!("concurrent {i}")).collect();
    let signed =
        futures_util::future::join_all(messages.iter().map(|m| batch.sign_message(solana.id, m.as_bytes()))).await;
    for (m, s) in messages.iter().zip(signed) {
        verify_message(solana, m.as_bytes(), &s.unwrap().signature).unwrap();
    }
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT id_hash) FROM ceremonies").await - ceremonies_before,
        9,
        "one ceremony per signature"
    );
    assert_eq!(t.audited("sign.requested").await, 9);
    assert_eq!(t.audited("sign.completed").await, 9);

    // A refusal is the route's, on its lane, audited against the wallet; the connection goes on.
    match batch.sign_raw(wallets[1].id, [7u8; 32]).await {
        Err(SdkError::Api {
            status: 403,
            code: ErrorCode::RawSigningDisabled,
            ..
        }) => {}
        other => panic!("expected RAW_SIGNING_DISABLED, got {other:?}"),
    }
    assert_eq!(t.audited("sign.denied").await, 1);
    let again = batch.sign_message(wallets[1].id, b"after a refusal").await.unwrap();
    verify_message(&wallets[1], b"after a refusal", &again.signature).unwrap();
}

/// A `sign` driven by hand: an unknown wallet and a malformed body are refused on their lane
/// with the route's codes, and a started signature's ticket is used up (the ceremony route
/// does not know it).
#[tokio::test]
async fn a_bad_sign_lane_is_refused_alone() {
    let t = TestServer::start().await;
    let key = t.app("batch").await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Solana, &email("hand@example.com"))
        .await
        .unwrap();
    let mut ws = RawBatch::open(&t.url(), &key).await;

    let unknown = dyad_proto::WalletId::random();
    ws.send_control(
        json!({"lane": 1, "sign": {"walletId": unknown, "route": "sign-message", "body": {"messageBase64": "aGk="}}}),
    )
    .await;
    let refused = ws.next_control().await;
    let ToClient::Refused(r) = refused.message else {
        panic!("expected a refusal")
    };
    assert_eq!(
        (refused.lane, r.status, r.error.code),
        (1, 404, ErrorCode::WalletNotFound)
    );

    ws.send_control(
        json!({"lane": 2, "sign": {"walletId": w.id, "route": "sign-message", "body": {"messageBase64": "%%%"}}}),
    )
    .await;
    let refused = ws.next_control().await;
    let ToClient::Refused(r) = refused.message else {
        panic!("expected a refusal")
    };
    assert_eq!(
        (refused.lane, r.status, r.error.code),
        (2, 400, ErrorCode::InvalidRequest)
    );
    assert_eq!(t.audited("sign.denied").await, 1);

    ws.send_control(
        json!({"lane": 3, "sign": {"walletId": w.id, "route": "sign-message", "body": {"messageBase64": "aGk="}}}),
    )
    .await;
    let ToClient::Ticket(ticket) = ws.next_control().await.message else {
        panic!("expected a ticket")
    };
    assert!(ticket.summary.is_some(), "the ticket says what was decoded");
    let err = connect_ceremony(&t.url(), &ticket.ceremony_id).await.unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    assert_eq!(t.audited("sign.requested").await, 1);
}

/// A server whose ceremonies wait at most 10 s for their wallet's turn (so a ceremony kept
/// waiting by mistake fails with WALLET_BUSY within the test), an app's key, its client, and an
/// EVM wallet it made for `who`.
async fn short_turn_wait_with_a_wallet(who: &str) -> (TestServer, String, Dyad, dyad_sdk::Wallet) {
    let config = dyad_server::ServerConfig {
        turn_wait: std::time::Duration::from_secs(10),
        ..dyad_server::ServerConfig::default()
    };
    let t = TestServer::start_with(config).await;
    let key = t.app("batch").await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad.create_pregen_wallet(WalletType::Evm, &email(who)).await.unwrap();
    (t, key, dyad, w)
}

#[tokio::test]
async fn a_sign_lane_whose_connection_ends_before_its_first_frame_gives_its_wallets_lease_back() {
    // A leaked lease would hold the wallet for minutes: the next signature would wait its
    // 10 s turn and fail with WALLET_BUSY.
    let (t, key, dyad, w) = short_turn_wait_with_a_wallet("lease@example.com").await;
    let mut ws = RawBatch::open(&t.url(), &key).await;
    ws.send_control(
        json!({"lane": 1, "sign": {"walletId": w.id, "route": "sign-message", "body": {"messageBase64": "aGk="}}}),
    )
    .await;
    // The lane's ticket: its ceremony holds the wallet's lease from its request on.
    let ToClient::Ticket(_) = ws.next_control().await.message else {
        panic!("expected a ticket")
    };
    drop(ws);
    let signed = dyad.sign_message(w.id, b"after the lane").await.unwrap();
    verify_message(&w, b"after the lane", &signed.signature).unwrap();
    assert_eq!(t.audited("sign.failed").await, 1, "the abandoned lane is recorded");
    assert_eq!(t.audited("sign.completed").await, 1);
}

/// Signatures of one share asked for at once on a batch connection and at the sign route, by
/// two clients of one process: each takes the share's turn here before it asks the server, so
/// the server's lease queue and this process's turn queue never disagree. Each signs, none
/// waits for the server's turn wait to run out (10 s here: a disagreement would end one with
/// WALLET_BUSY, as it did when lanes were asked for before their turn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_asked_at_once_on_lanes_and_routes_of_one_share_all_sign_in_turn() {
    let (t, key, dyad, w) = short_turn_wait_with_a_wallet("overlap@example.com").await;
    let other = Dyad::new(&t.url(), &key);
    other
        .set_user_share(dyad.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let batch = dyad.batch().await.unwrap();
    let lanes: Vec<String> = (0..8).map(|i| format!("lane {i}")).collect();
    let routes: Vec<String> = (0..3).map(|i| format!("route {i}")).collect();
    let (on_lanes, on_routes) = tokio::join!(
        futures_util::future::join_all(lanes.iter().map(|m| batch.sign_message(w.id, m.as_bytes()))),
        futures_util::future::join_all(routes.iter().map(|m| other.sign_message(w.id, m.as_bytes()))),
    );
    for (m, s) in lanes.iter().zip(on_lanes).chain(routes.iter().zip(on_routes)) {
        let s = s.unwrap_or_else(|e| panic!("{m}: {e}"));
        verify_message(&w, m.as_bytes(), &s.signature).unwrap();
    }
    assert_eq!(t.audited("sign.completed").await, 11);
    assert_eq!(t.audited("sign.failed").await, 0);
}
