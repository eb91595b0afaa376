//! Ceremonies under attack, driven by hand over a real WebSocket: a tampered, truncated,
//! garbage, reordered or oversized frame, or a well-sealed but wrong protocol message at any
//! round of the key generation (DKG, test signature, confirmation), aborts the ceremony with an
//! error, and key generation leaves no wallet behind.

mod support;

use std::time::Duration;

use dyad_mpc::{Machine, Role, Scheme, Transition};
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::{session_id, CeremonyId, ErrorCode, Frame, KeyGeneration, Run, RunStart, WalletType};
use dyad_test_support::email;
use futures_util::SinkExt;
use serde_json::{json, Value};
use support::{connect_ceremony, frame_over_the_cap, Manual, RawNoise, TestServer};
use tokio_tungstenite::tungstenite::Message;

/// The runs of a key generation, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Dkg,
    TestSignature,
}

/// Where in the key generation the client misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// In place of its frame for this round (from 1) of this run.
    Round(Stage, u8),
    /// Once both runs are done, where its `Confirm` belongs.
    Confirm,
}

/// What the client sends instead of its honest frame.
#[derive(Clone, Copy, Debug)]
enum How {
    /// The honest frame, sealed, with one bit of the sealed bytes flipped: a meddling network.
    FlipSealedBit,
    /// The honest frame, sealed, cut short.
    TruncateSealed,
    /// Well sealed, but not a round message at all.
    GarbageRound,
    /// Well sealed, the round's own tag, a message of the right shape that is wrong: what a
    /// malicious client sends. DKLs DKG round 1: a fragment that is not a scalar (any scalar
    /// there is only different randomness, see `dyad-mpc`'s `dkls_dkg_tampering_is_detected`);
    /// every other round: the same round's message from another key generation (for FROST
    /// under this run's session id, so it passes the session check and meets the protocol's).
    AlteredRound,
    /// Well sealed, the honest round message with its middle bit flipped: in the DKLs test
    /// signature's round 1 that is the multiplication's OT-extension data, which DKLs reports as
    /// a cheat (`BanCounterparty`; `dyad-mpc`'s `dkls_tampered_multiplication_data_is_cheating_not_a_mere_failure`).
    FlipRoundBit,
    /// Well sealed `Confirm` in place of a round message.
    ConfirmTooEarly,
    /// Where `Confirm` belongs: the client's last round again.
    RoundForConfirm,
    /// Where `Confirm` belongs: `Confirm` followed by a byte.
    ConfirmWithTrailingByte,
    /// Where `Confirm` belongs: the client gives up.
    AbortForConfirm,
}

impl How {
    /// What the server records as the reason (its `wallet.create_failed` entry): the check that
    /// caught it, not a timeout.
    fn reason(self) -> &'static str {
        match self {
            How::FlipSealedBit | How::TruncateSealed => "secure channel",
            How::GarbageRound | How::AlteredRound => "peer's protocol round",
            How::FlipRoundBit => "peer's protocol round: peer misbehaved",
            How::ConfirmTooEarly => "expected a protocol round",
            How::RoundForConfirm => "expected the client's confirmation",
            How::ConfirmWithTrailingByte => "malformed ceremony frame",
            How::AbortForConfirm => "aborted by peer",
        }
    }
}

/// The frames the user party sends in each run of a whole honest key generation of another
/// ceremony: well-formed messages that belong to another key.
struct Foreign {
    dkg: Vec<Vec<u8>>,
    test_signature: Vec<Vec<u8>>,
}

impl Foreign {
    /// None, for attacks that do not need one.
    fn none() -> Self {
        Self {
            dkg: Vec::new(),
            test_signature: Vec::new(),
        }
    }

    /// On the blocking pool: a DKLs key generation is seconds of CPU.
    async fn of(scheme: Scheme) -> Self {
        tokio::task::spawn_blocking(move || Self::generate(scheme))
            .await
            .unwrap()
    }

    fn generate(scheme: Scheme) -> Self {
        let ceremony = CeremonyId::random();
        let user = KeyGeneration::new(Role::User, scheme, &ceremony);
        let cloud = KeyGeneration::new(Role::Cloud, scheme, &ceremony);
        let (dkg, u, c) = record(user.dkg().begin().unwrap(), cloud.dkg().begin().unwrap());
        let (_, us) = user.test_signature(u);
        let (_, cs) = cloud.test_signature(c);
        let (test_signature, _, _) = record(us.begin().unwrap(), cs.begin().unwrap());
        Self { dkg, test_signature }
    }

    fn frame(&self, run: Stage, round: u8) -> &[u8] {
        let frames = match run {
            Stage::Dkg => &self.dkg,
            Stage::TestSignature => &self.test_signature,
        };
        &frames[usize::from(round) - 1]
    }
}

/// Runs both parties in one process; the frames the first sends, round by round, and both
/// outputs.
fn record<M: Machine>(a: (M, Vec<u8>), b: (M, Vec<u8>)) -> (Vec<Vec<u8>>, M::Output, M::Output) {
    let ((mut ma, fa), (mut mb, mut fb)) = (a, b);
    let mut sent = vec![fa];
    loop {
        let step_a = ma.receive(&fb).unwrap();
        let step_b = mb.receive(sent.last().unwrap()).unwrap();
        match (step_a, step_b) {
            (Transition::Continue(na, oa), Transition::Continue(nb, ob)) => {
                (ma, mb, fb) = (na, nb, ob);
                sent.push(oa);
            }
            (Transition::Done(oa), Transition::Done(ob)) => return (sent, oa, ob),
            _ => panic!("the parties finished in different rounds"),
        }
    }
}

/// The client of one misbehaving key generation: an honest user party (the same script the
/// SDK runs) except at `at`, where it sends what `how` says.
struct Misbehaving<'a> {
    client: Manual,
    scheme: Scheme,
    ceremony: CeremonyId,
    at: At,
    how: How,
    foreign: &'a Foreign,
    /// The last round frame sent.
    last_round: Vec<u8>,
}

impl Misbehaving<'_> {
    /// Seal and send `frame`; a server that already hung up is not an error here (its `Abort`
    /// is read next).
    async fn send(&mut self, frame: &Frame) {
        let sealed = self.client.channel.seal(&frame.to_bytes()).unwrap();
        self.send_sealed(sealed).await;
    }

    async fn send_sealed(&mut self, sealed: Vec<u8>) {
        let _ = self.client.ws.send(Message::Binary(sealed.into())).await;
    }

    /// Send our frame for `round` of `run`, or what replaces it.
    async fn send_round(&mut self, run: Stage, round: u8, honest: Vec<u8>) {
        if self.at != At::Round(run, round) {
            self.last_round = honest.clone();
            return self.send(&Frame::Protocol(honest.into())).await;
        }
        match self.how {
            How::FlipSealedBit => {
                let mut sealed = self
                    .client
                    .channel
                    .seal(&Frame::Protocol(honest.into()).to_bytes())
                    .unwrap();
                let mid = sealed.len() / 2;
                sealed[mid] ^= 0x01;
                self.send_sealed(sealed).await;
            }
            How::TruncateSealed => {
                let sealed = self
                    .client
                    .channel
                    .seal(&Frame::Protocol(honest.into()).to_bytes())
                    .unwrap();
                self.send_sealed(sealed[..sealed.len() - 7].to_vec()).await;
            }
            How::GarbageRound => self.send(&Frame::Protocol(vec![0xff; 40].into())).await,
            How::AlteredRound => {
                let altered = self.altered(run, round, &honest);
                assert_ne!(altered, honest);
                self.send(&Frame::Protocol(altered.into())).await;
            }
            How::FlipRoundBit => {
                let mut flipped = honest;
                let mid = flipped.len() / 2;
                flipped[mid] ^= 0x01;
                self.send(&Frame::Protocol(flipped.into())).await;
            }
            How::ConfirmTooEarly => self.send(&Frame::Confirm).await,
            other => panic!("{other:?} is not a round attack"),
        }
    }

    fn altered(&self, run: Stage, round: u8, honest: &[u8]) -> Vec<u8> {
        if (self.scheme, run, round) == (Scheme::Dkls, Stage::Dkg, 1) {
            // Tag, then the fragment's 32 bytes: all ones is above the group order.
            let mut not_a_scalar = honest.to_vec();
            let len = not_a_scalar.len();
            not_a_scalar[len - 32..].fill(0xff);
            return not_a_scalar;
        }
        let other = self.foreign.frame(run, round);
        assert_eq!(other[0], honest[0], "the same round's tag");
        match self.scheme {
            Scheme::Dkls => other.to_vec(),
            // Tag ‖ session id ‖ message: this run's session id, the other run's message.
            Scheme::Frost => {
                let session = match run {
                    Stage::Dkg => Run::Dkg,
                    Stage::TestSignature => Run::Confirm,
                };
                assert_eq!(
                    &honest[1..33],
                    session_id(&self.ceremony, session).as_bytes(),
                    "frame layout"
                );
                [&honest[..33], &other[33..]].concat()
            }
        }
    }

    /// Drive one run as the user party. `Err` with the server's code once it aborted.
    async fn run<M>(&mut self, run: Stage, start: RunStart<M>) -> Result<M::Output, ErrorCode>
    where
        M: Machine,
        M::Output: Send + 'static,
    {
        let (mut machine, mut out) = tokio::task::spawn_blocking(move || start.begin())
            .await
            .unwrap()
            .unwrap();
        for round in 1.. {
            self.send_round(run, round, out).await;
            let theirs = match self.client.recv().await {
                Some(Frame::Protocol(theirs)) => theirs,
                Some(Frame::Abort { code, .. }) => return Err(code),
                other => panic!(
                    "{:?} {:?}: expected the server's round {round}, got {other:?}",
                    self.at, self.how
                ),
            };
            match tokio::task::spawn_blocking(move || machine.receive(theirs.as_bytes()))
                .await
                .unwrap()
            {
                Ok(Transition::Continue(next, next_out)) => (machine, out) = (next, next_out),
                Ok(Transition::Done(output)) => return Ok(output),
                // The server's answer to what we sent instead does not fit our honest state:
                // the server must be about to refuse what we sent.
                Err(_) => return Err(self.client.abort_code().await),
            }
        }
        unreachable!()
    }

    /// The whole key generation; the server's abort code.
    async fn keygen(mut self) -> ErrorCode {
        let script = KeyGeneration::new(Role::User, self.scheme, &self.ceremony);
        let share = match self.run(Stage::Dkg, script.dkg()).await {
            Ok(share) => share,
            Err(code) => return code,
        };
        let (_test, start) = script.test_signature(share);
        if let Err(code) = self.run(Stage::TestSignature, start).await {
            return code;
        }
        match (self.at, self.how) {
            (At::Round(..), _) => self.send(&Frame::Confirm).await,
            (At::Confirm, How::RoundForConfirm) => {
                let last = std::mem::take(&mut self.last_round);
                self.send(&Frame::Protocol(last.into())).await;
            }
            (At::Confirm, How::ConfirmWithTrailingByte) => {
                let mut bytes = Frame::Confirm.to_bytes();
                bytes.push(0);
                let sealed = self.client.channel.seal(&bytes).unwrap();
                self.send_sealed(sealed).await;
            }
            (At::Confirm, How::AbortForConfirm) => {
                let frame = Frame::Abort {
                    code: ErrorCode::CeremonyAborted,
                    message: "changed my mind".into(),
                };
                self.send(&frame).await;
            }
            (At::Confirm, other) => panic!("{other:?} is not a confirmation attack"),
        }
        // `abort_code` fails the test on `Done`: the wallet must not have been committed.
        self.client.abort_code().await
    }
}

/// One key generation of `wallet_type` whose client misbehaves `how` `at` a point: the server
/// aborts with `CEREMONY_ABORTED` for the reason `how` names, and leaves no wallet, no cloud
/// share and one `wallet.create_failed` entry; the ceremony id is spent, and the identifier is
/// free for an honest retry at once.
async fn attack(wallet_type: &str, at: At, how: How, foreign: &Foreign) {
    let case = format!("{wallet_type} {at:?} {how:?}");
    let scheme = wallet_type.parse::<WalletType>().unwrap().scheme();
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let who = "victim@example.com";
    let resp = t.post_wallet(&key, who, wallet_type).await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();

    let client = Misbehaving {
        client: Manual::connect(&t.url(), &ticket).await,
        scheme,
        ceremony: ticket.ceremony_id,
        at,
        how,
        foreign,
        last_round: Vec::new(),
    };
    // Bounded: a server that missed the attack and waits for the client fails here, not never.
    let code = tokio::time::timeout(Duration::from_secs(90), client.keygen())
        .await
        .unwrap_or_else(|_| panic!("{case}: no Abort"));
    assert_eq!(code, ErrorCode::CeremonyAborted, "{case}");

    // No wallet, visible or pending: the identifier is free again at once.
    let list: Value = t
        .get(&key, &format!("/v1/wallets?email={who}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["wallets"], json!([]), "{case}");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM wallets").await,
        0,
        "{case} left a wallet row"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM cloud_shares").await,
        0,
        "{case} left a share"
    );
    let log = t.audit_log().await;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "wallet.create_failed").collect();
    assert_eq!(failed.len(), 1, "{case}");
    let why = failed[0].detail["error"].as_str().unwrap();
    assert!(why.contains(how.reason()), "{case}: recorded as {why:?}");
    assert_eq!(t.audited("wallet.created").await, 0, "{case}");

    // The ceremony id is spent: a second connection is refused.
    let again = connect_ceremony(&t.url(), &ticket.ceremony_id).await;
    assert!(
        matches!(&again, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 404),
        "{case}"
    );

    // And a new, honest attempt for the same identifier works.
    let dyad = dyad_sdk::Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(wallet_type.parse().unwrap(), &email(who))
        .await
        .unwrap_or_else(|e| panic!("{case}: the honest retry failed: {e}"));
    assert_eq!(w.wallet_type.as_str(), wallet_type);
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 1, "{case}");
    assert_eq!(t.count("SELECT COUNT(*) FROM cloud_shares").await, 1, "{case}");
}

/// Every round of both runs of a key generation of `scheme`.
fn every_round(scheme: Scheme) -> Vec<At> {
    let (dkg, sign) = match scheme {
        Scheme::Dkls => (3, 3),
        Scheme::Frost => (2, 2),
    };
    let dkg = (1..=dkg).map(|r| At::Round(Stage::Dkg, r));
    dkg.chain((1..=sign).map(|r| At::Round(Stage::TestSignature, r)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_frame_aborts_dkls_keygen() {
    let foreign = Foreign::of(Scheme::Dkls).await;
    attack("EVM", At::Round(Stage::Dkg, 1), How::FlipSealedBit, &foreign).await;
    for at in every_round(Scheme::Dkls) {
        attack("EVM", at, How::AlteredRound, &foreign).await;
    }
    attack("EVM", At::Round(Stage::TestSignature, 1), How::FlipRoundBit, &foreign).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frame_aborts_dkls_keygen() {
    let foreign = Foreign::none();
    for at in [At::Round(Stage::Dkg, 1), At::Round(Stage::TestSignature, 3)] {
        attack("COSMOS", at, How::TruncateSealed, &foreign).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_round_aborts_ed25519_keygen() {
    let foreign = Foreign::none();
    for at in every_round(Scheme::Frost) {
        attack("SOLANA", at, How::GarbageRound, &foreign).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_frame_aborts_ed25519_keygen() {
    let foreign = Foreign::of(Scheme::Frost).await;
    attack("STELLAR", At::Round(Stage::Dkg, 1), How::FlipSealedBit, &foreign).await;
    for at in every_round(Scheme::Frost) {
        attack("STELLAR", at, How::AlteredRound, &foreign).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_frame_aborts_keygen() {
    // `Confirm` before the runs are over: at the first frame, in the middle of the DKG, and in
    // place of the test signature's last round.
    let foreign = Foreign::none();
    for at in [
        At::Round(Stage::Dkg, 1),
        At::Round(Stage::Dkg, 2),
        At::Round(Stage::TestSignature, 3),
    ] {
        attack("EVM", at, How::ConfirmTooEarly, &foreign).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keygen_without_the_clients_confirmation_is_never_committed() {
    let foreign = Foreign::none();
    for wallet_type in ["SOLANA", "EVM"] {
        for how in [How::RoundForConfirm, How::ConfirmWithTrailingByte, How::AbortForConfirm] {
            attack(wallet_type, At::Confirm, how, &foreign).await;
        }
    }
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
    let ticket = t.sign_ticket(&key, w.id, b"hello").await;
    assert_eq!(ticket.summary.as_ref().map(|s| s.kind.as_str()), Some("message"));

    let mut client = Manual::connect_live(&t.url(), &ticket).await;
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
async fn a_sign_request_that_no_longer_decodes_to_what_was_authorised_is_refused() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = dyad_sdk::Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &email("redecode@example.com"))
        .await
        .unwrap();
    let ticket = t.sign_ticket(&key, w.id, b"pay 1").await;

    // What was authorised, as `sign.requested` recorded it.
    let log = t.audit_log().await;
    let requested = log.iter().find(|r| r.action == "sign.requested").unwrap();
    let authorised = requested.detail["signs"].as_str().unwrap().to_string();
    // Between the ticket and the ceremony the stored request changes (another replica's chain
    // code, or a write to the database), while what was authorised stays: the ceremony must
    // decode the request again and refuse, before any round.
    let changed = dyad_server::model::AuthorisedSign {
        request: dyad_chains::SignRequest::Message(b"pay 1000".to_vec()),
        signs: authorised.clone(),
    };
    sqlx::query("UPDATE ceremonies SET payload = $1 WHERE kind = 'sign' AND consumed_at IS NULL")
        .bind(postcard::to_allocvec(&changed).unwrap())
        .execute(&t.db().await)
        .await
        .unwrap();

    let mut client = Manual::connect(&t.url(), &ticket).await;
    // Refused before the server's first round: nothing of a signature was computed.
    assert_eq!(client.abort_code_at_once().await, ErrorCode::CeremonyAborted);
    let log = t.audit_log().await;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "sign.failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].detail["code"], "CEREMONY_ABORTED");
    let why = failed[0].detail["error"].as_str().unwrap();
    assert!(why.contains("no longer decodes to what was authorised"), "{why}");
    assert_eq!(t.audited("sign.completed").await, 0);
    assert_eq!(t.audited("wallet.locked").await, 0);

    // The wallet itself is untouched and signs what it is asked to, through a new ticket.
    let sig = dyad.sign_message(w.id, b"pay 1").await.unwrap();
    dyad_test_support::verify::verify_message(&w, b"pay 1", &sig.signature).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_cut_off_at_the_deadline_and_leaves_no_wallet() {
    let deadline = Duration::from_millis(1500);
    let config = dyad_server::ServerConfig {
        ceremony_deadline: deadline,
        ..dyad_server::ServerConfig::default()
    };
    let t = TestServer::start_with(config).await;
    let key = t.app("shop").await;
    let resp = t.post_wallet(&key, "silent@example.com", "SOLANA").await;
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    // Before the server can have started its clock (it starts once the WebSocket is upgraded).
    let started = tokio::time::Instant::now();
    let mut client = Manual::connect(&t.url(), &ticket).await;
    // Say nothing. The server must give up on its own, say so, and have cleaned up by then;
    // not before the deadline, and not much after it (a hang fails here, not never).
    let code = tokio::time::timeout(deadline * 5, client.abort_code())
        .await
        .expect("no Abort within five times the deadline");
    let waited = started.elapsed();
    assert_eq!(code, ErrorCode::CeremonyAborted);
    assert!(
        waited + Duration::from_millis(50) >= deadline,
        "aborted after {waited:?}, before the {deadline:?} deadline"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM wallets").await, 0);
    let log = t.audit_log().await;
    let failed: Vec<_> = log.iter().filter(|r| r.action == "wallet.create_failed").collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].detail["error"].as_str().unwrap().contains("timed out"),
        "{:?}",
        failed[0].detail
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
    let (_, first) =
        dyad_mpc::Dkg::start(Scheme::Dkls, Role::User, &session_id(&ticket.ceremony_id, Run::Dkg)).unwrap();
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
    let ticket = t.sign_ticket(&key, w.id, b"hello").await;

    let mut client = RawNoise::connect(&t.url(), &ticket).await;
    // The server holds the wallet's lease: its go-ahead comes first.
    assert!(matches!(client.recv().await, Some(Frame::Go)));
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
    let share = client.run(script.dkg().begin().unwrap()).await;
    let (_, start) = script.test_signature(share);
    let (_, last) = client.run_until_last(start.begin().unwrap()).await;
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

/// Replicas share nothing but the database and the master key: a ticket one replica issued
/// runs its ceremony on another (a load balancer may send the WebSocket anywhere), and the
/// wallet it makes is live on the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_from_one_replica_runs_on_another() {
    let t = TestServer::start().await;
    let (other, _) = support::serve(&t.data_dir()).await;
    assert_ne!(other.url(), t.url());
    let key = t.app("shop").await;
    let resp = t.post_wallet(&key, "roam@example.com", "EVM").await;
    assert_eq!(resp.status().as_u16(), 201);
    let ticket: CeremonyTicket = resp.json().await.unwrap();
    let mut client = Manual::connect(&other.url(), &ticket).await;
    let script = KeyGeneration::new(Role::User, Scheme::Dkls, &ticket.ceremony_id);
    let share = client.run(script.dkg().begin().unwrap()).await;
    let (_, start) = script.test_signature(share);
    let (_, last) = client.run_until_last(start.begin().unwrap()).await;
    client.send(&Frame::Protocol(last.into())).await;
    client.send(&Frame::Confirm).await;
    client.recv_protocol().await;
    assert!(matches!(
        client.recv().await,
        Some(Frame::Done(dyad_proto::Outcome::WalletCreated(w))) if w.id == ticket.wallet_id
    ));
    let got: Value = t
        .get(&key, &format!("/v1/wallets/{}", ticket.wallet_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], json!("pregen"), "{got}");
}
