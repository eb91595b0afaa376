//! `dyad-bench`: what a ceremony (key generation, signing, claiming) costs through the service (SDK ↔ server over loopback
//! WebSocket + Noise, SQLite, sealing, audit) beside the raw library cost of the same protocol
//! with both parties in one process. The service is measured twice, on a SQLite store with
//! `synchronous=NORMAL` and with `synchronous=FULL` (what the server uses), each on a fresh data
//! folder, to show what syncing every commit costs. Prints a Markdown table; `--runs N`
//! (default 10); `--sync normal|full|both` (default both); `--scheme dkls|frost` runs one
//! scheme's rows only (default both).
//!
//! `cargo run --release --bin dyad-bench -- --runs 10`
//!
//! With `--raw`, only the library with both parties in one thread (no server):
//! `cargo run --release --bin dyad-bench -- --raw --runs 20 [--sign-runs 200]`.
//!
//! With `--warm-sign`, only signing on a warm batch connection, `--runs N` times per scheme, on
//! one wallet each (the loop to profile, or to compare two builds on with little else in it):
//! `cargo run --release --bin dyad-bench -- --warm-sign --runs 1000 [--scheme frost]`. It then
//! asks for the same number with 8 at once on the same wallet: signatures per second on one
//! wallet, one at a time and overlapped as far as the one-ceremony-per-share rule lets them.
//!
//! With `--decode`, instead: how long `SignRequest::prepare` takes on the largest sign requests
//! `dyad-chains` accepts (Cosmos sign docs at every limit, EIP-712 payloads at every limit), no
//! server involved: `cargo run --release --bin dyad-bench -- --decode --runs 10`.
//!
//! `RUST_LOG` filters its logs (errors only by default): `RUST_LOG=sqlx::query=debug` lists the
//! store's statements, e.g. those of one signature with `--warm-sign --runs 3`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use dyad_mpc::{run_local, Digest, Dkg, Refresh, Role, Scheme, SessionId, Setup, Sign, SignInput};
use dyad_proto::{Environment, PregenId, WalletId, WalletType};
use dyad_sdk::Dyad;
use dyad_server::store::Durability;
use dyad_server::{AppState, DataDir, ServerConfig, SqlStore, Store};

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(v[v.len() / 2]);
    // Nearest-rank p99: with few runs this is the maximum.
    let idx = ((v.len() as f64) * 0.99).ceil() as usize;
    (median, ms(v[idx.saturating_sub(1).min(v.len() - 1)]))
}

fn raw(scheme: Scheme, runs: usize, sign_runs: usize) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let sid = SessionId::new([7u8; 32]);
    let mut dkg = Vec::new();
    let mut shares = None;
    for _ in 0..runs {
        let t = Instant::now();
        let pair = run_local(
            Dkg::start(scheme, Role::User, &sid).expect("start"),
            Dkg::start(scheme, Role::Cloud, &sid).expect("start"),
        )
        .expect("dkg");
        dkg.push(t.elapsed());
        shares = Some(pair);
    }
    let (a, b) = shares.expect("at least one run");
    let input = match scheme {
        Scheme::Dkls => SignInput::Digest(Digest::new([9u8; 32])),
        Scheme::Frost => SignInput::Message(b"benchmark".to_vec()),
    };
    let mut sign = Vec::new();
    for i in 0..sign_runs {
        let sid = SessionId::new([i as u8; 32]);
        let t = Instant::now();
        run_local(
            Sign::start(&a, &sid, &input).expect("start"),
            Sign::start(&b, &sid, &input).expect("start"),
        )
        .expect("sign");
        sign.push(t.elapsed());
    }
    let mut refresh = Vec::new();
    for i in 0..runs {
        let sid = SessionId::new([100u8.wrapping_add(i as u8); 32]);
        let t = Instant::now();
        run_local(
            Refresh::start(&a, &sid).expect("start"),
            Refresh::start(&b, &sid).expect("start"),
        )
        .expect("refresh");
        refresh.push(t.elapsed());
    }
    (dkg, sign, refresh)
}

/// `--raw`: the library alone, both parties in one thread, no server: the figure a patched
/// `dkls23-core` is compared on (`bench/dkls.sh` runs it from two builds in turn).
fn raw_only(runs: usize) {
    // Signing is cheap beside key generation: `--sign-runs N` takes more samples of it.
    let sign_runs: usize = arg("--sign-runs").and_then(|s| s.parse().ok()).unwrap_or(runs).max(1);
    println!("| protocol | DKG median / p99 | sign median / p99 | refresh median / p99 |");
    println!("|---|---|---|---|");
    for (_, scheme) in types() {
        let (dkg, sign, refresh) = raw(scheme, runs, sign_runs);
        println!("| {scheme:?} | {} | {} | {} |", cell(&dkg), cell(&sign), cell(&refresh));
    }
    // Not with `--scheme frost`: a profile of FROST alone has no DKLs in it.
    if types().iter().any(|(_, scheme)| *scheme == Scheme::Dkls) {
        let (setup, online) = raw_setup_then_dkg(runs);
        println!("\n| DKLs key setup made ahead | DKG attaching it (online) |");
        println!("|---|---|");
        println!("| {} | {} |", cell(&setup), cell(&online));
    }
    // What the server does to its stored share at every signature.
    println!("\n| opening a stored share | `KeyShare::from_bytes` | `from_bytes_with`, its public package kept |");
    println!("|---|---|---|");
    for (_, scheme) in types() {
        let (fresh, kept) = raw_open(scheme, sign_runs);
        println!("| {scheme:?} | {} | {} |", cell_us(&fresh), cell_us(&kept));
    }
    println!("\nruns per row: {runs} (signing and opening: {sign_runs})");
}

/// `runs` readings of one stored cloud share: decoded afresh, and with its public package kept
/// (after one untimed reading that keeps it).
fn raw_open(scheme: Scheme, runs: usize) -> (Vec<Duration>, Vec<Duration>) {
    let sid = SessionId::new([42; 32]);
    let (_, cloud) = run_local(
        Dkg::start(scheme, Role::User, &sid).expect("start"),
        Dkg::start(scheme, Role::Cloud, &sid).expect("start"),
    )
    .expect("dkg");
    let bytes = cloud.to_bytes();
    let packages = dyad_mpc::PublicPackages::new();
    dyad_mpc::KeyShare::from_bytes_with(&bytes, &packages).expect("open");
    let time = |open: &dyad_mpc::PublicPackages, fresh: bool| {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let share = if fresh {
                    dyad_mpc::KeyShare::from_bytes(&bytes)
                } else {
                    dyad_mpc::KeyShare::from_bytes_with(&bytes, open)
                };
                let took = t.elapsed();
                share.expect("open");
                took
            })
            .collect::<Vec<_>>()
    };
    (time(&packages, true), time(&packages, false))
}

/// Median / p99 in microseconds.
fn cell_us(v: &[Duration]) -> String {
    let (m, p) = stats(v.to_vec());
    format!("{:.0} µs / {:.0} µs", m * 1e3, p * 1e3)
}

/// The raw DKG on a setup made ahead (the online part only).
fn raw_pooled(runs: usize) -> Vec<Duration> {
    raw_setup_then_dkg(runs).1
}

/// Issue 9 part 2, the library alone: the DKLs multiplication set up ahead (the pool's work,
/// off the online path), then the key generation that attaches it (what remains online).
fn raw_setup_then_dkg(runs: usize) -> (Vec<Duration>, Vec<Duration>) {
    let mut setup = Vec::new();
    let mut online = Vec::new();
    for i in 0..runs {
        let setup_id = SessionId::new([200u8.wrapping_add(i as u8); 32]);
        let t = Instant::now();
        let (user_setup, cloud_setup) = run_local(
            Setup::start(Role::User, &setup_id).expect("start"),
            Setup::start(Role::Cloud, &setup_id).expect("start"),
        )
        .expect("setup");
        setup.push(t.elapsed());
        let sid = SessionId::new([i as u8; 32]);
        let t = Instant::now();
        run_local(
            Dkg::start_with_setup(Role::User, &sid, user_setup).expect("start"),
            Dkg::start_with_setup(Role::Cloud, &sid, cloud_setup).expect("start"),
        )
        .expect("dkg on a setup");
        online.push(t.elapsed());
    }
    (setup, online)
}

/// Per wallet type: key generation and signing times through the service.
struct ServiceRuns {
    dkg: Vec<Duration>,
    sign: Vec<Duration>,
    /// Signing on a lane of one batch connection opened beforehand (a warm connection).
    sign_warm: Vec<Duration>,
    claim: Vec<Duration>,
    /// The process's CPU time (client and server, every thread) per warm signature, where
    /// the system says it (Linux).
    sign_warm_cpu: Option<Duration>,
    /// DKLs: key generation from a warm setup pool (the setup made before the timing; empty
    /// for Ed25519, which has no setup).
    dkg_pooled: Vec<Duration>,
}

const TYPES: [(WalletType, Scheme); 2] = [(WalletType::Evm, Scheme::Dkls), (WalletType::Solana, Scheme::Frost)];

/// The rows to run: both schemes, or the one `--scheme dkls|frost` names (to profile one).
fn types() -> Vec<(WalletType, Scheme)> {
    let only = match arg("--scheme").as_deref() {
        None => None,
        Some("dkls") => Some(Scheme::Dkls),
        Some("frost") => Some(Scheme::Frost),
        Some(other) => {
            eprintln!("error: --scheme takes dkls or frost, not {other:?}");
            std::process::exit(2);
        }
    };
    TYPES
        .into_iter()
        .filter(|(_, s)| only.is_none_or(|o| o == *s))
        .collect()
}

/// A server on a fresh data folder whose store syncs as `durability` says, with one app.
struct Bench {
    dir: std::path::PathBuf,
    store: Arc<dyn Store>,
    server: ServerThread,
    key: dyad_server::api_key::ApiKey,
}

impl Bench {
    async fn start(durability: Durability) -> Bench {
        let dir = std::env::temp_dir().join(format!("dyad-bench-{}-{durability:?}", std::process::id()));
        let data = DataDir::new(&dir).expect("data dir");
        let store: Arc<dyn Store> = Arc::new(SqlStore::open_with(&data.database(), durability).await.expect("store"));
        let master = data.master_key_from_env_or_file().expect("master key");
        let state = AppState::new(store.clone(), &master, ServerConfig::default())
            .await
            .expect("state");
        // The server runs on a runtime of its own (its own two worker threads), as it would in
        // a process of its own: the client's protocol steps, computed on its runtime's workers,
        // do not hold up the server's tasks.
        let server = ServerThread::start(state);
        let (_, key) = dyad_server::api_key::create_app(store.as_ref(), "bench", Environment::Beta)
            .await
            .expect("app");
        Bench {
            dir,
            store,
            server,
            key,
        }
    }

    fn stop(self) {
        self.server.stop();
        drop(self.store);
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// `runs` signatures on a warm batch connection per scheme, one wallet each; prints median,
/// p99 and the process's CPU per signature (client and server).
async fn warm_sign_only(runs: usize) {
    let bench = Bench::start(Durability::Full).await;
    println!(
        "| warm batch signing, synchronous=FULL | median / p99 | CPU per signature, both parties | signatures per second on one wallet | signatures per second over {IN_FLIGHT} wallets, {IN_FLIGHT} at once |"
    );
    println!("|---|---|---|---|---|");
    for (wt, scheme) in types() {
        let dyad = Dyad::new(&bench.server.url(), bench.key.expose());
        let who = PregenId::parse("customId", &format!("bench-warm-{wt}")).expect("id");
        let id = dyad.create_pregen_wallet(wt, &who).await.expect("create").id;
        let batch = dyad.batch().await.expect("batch connection");
        let (times, cpu) = signed_warm(&batch, id, runs).await;
        let cpu = cpu.map_or_else(|| "n/a".into(), |cpu| format!("{:.2} ms", cpu.as_secs_f64() * 1e3));
        // The same number again with several asked for at once: how far the one-ceremony-per-
        // share rule (the SDK's turn per share, the server's lease per wallet) lets them overlap.
        let started = Instant::now();
        let in_flight = futures_util::stream::iter(0..runs)
            .map(|_| batch.sign_message(id, b"benchmark"))
            .buffer_unordered(IN_FLIGHT)
            .map(|signed| signed.expect("sign"))
            .count()
            .await;
        let rate_concurrent = in_flight as f64 / started.elapsed().as_secs_f64();
        let rate_sequential = runs as f64 / times.iter().sum::<Duration>().as_secs_f64();
        // And over several wallets, each its own share pair: nothing but the machine (and the
        // store's one SQLite connection) keeps them from overlapping.
        let mut ids = vec![id];
        for i in 1..IN_FLIGHT {
            let who = PregenId::parse("customId", &format!("bench-warm-{wt}-{i}")).expect("id");
            ids.push(dyad.create_pregen_wallet(wt, &who).await.expect("create").id);
        }
        let started = Instant::now();
        let over_wallets = futures_util::stream::iter(0..runs)
            .map(|i| batch.sign_message(ids[i % ids.len()], b"benchmark"))
            .buffer_unordered(IN_FLIGHT)
            .map(|signed| signed.expect("sign"))
            .count()
            .await;
        let rate_wallets = over_wallets as f64 / started.elapsed().as_secs_f64();
        println!(
            "| {scheme:?} | {} | {cpu} | {rate_sequential:.0}/s one at a time, {rate_concurrent:.0}/s with {IN_FLIGHT} asked at once | {rate_wallets:.0}/s |",
            cell(&times)
        );
    }
    println!("\nruns per row: {runs}");
    bench.stop();
}

/// How many signatures `--warm-sign` asks for at once on one wallet in its throughput run.
const IN_FLIGHT: usize = 8;

/// `runs` signatures with `id` on `batch`, one at a time, after one untimed to warm it up: the
/// time of each, and the process's CPU time (client and server, every thread) per signature,
/// where the system says it (Linux).
async fn signed_warm(batch: &dyad_sdk::Batch<'_>, id: WalletId, runs: usize) -> (Vec<Duration>, Option<Duration>) {
    batch.sign_message(id, b"warm-up").await.expect("sign");
    let mut times = Vec::new();
    let cpu_before = process_cpu();
    for _ in 0..runs {
        let t = Instant::now();
        batch.sign_message(id, b"benchmark").await.expect("sign");
        times.push(t.elapsed());
    }
    let cpu = cpu_before
        .zip(process_cpu())
        .map(|(before, after)| after.saturating_sub(before) / runs as u32);
    (times, cpu)
}

/// Start a server on a fresh data folder whose store syncs as `durability` says, and time
/// `runs` key generations and signatures per wallet type through the SDK.
async fn service(durability: Durability, runs: usize) -> Vec<ServiceRuns> {
    let bench = Bench::start(durability).await;
    let (server, key) = (&bench.server, &bench.key);
    let mut out = Vec::new();
    for (wt, _) in types() {
        let dyad = Dyad::new(&server.url(), key.expose());
        let mut dkg = Vec::new();
        let mut ids = Vec::new();
        for i in 0..runs {
            let who = PregenId::parse("customId", &format!("bench-{wt}-{i}")).expect("id");
            let t = Instant::now();
            ids.push(dyad.create_pregen_wallet(wt, &who).await.expect("create").id);
            dkg.push(t.elapsed());
        }
        let mut sign = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            dyad.sign_message(ids[0], b"benchmark").await.expect("sign");
            sign.push(t.elapsed());
        }
        let batch = dyad.batch().await.expect("batch connection");
        let (sign_warm, sign_warm_cpu) = signed_warm(&batch, ids[0], runs).await;
        drop(batch);
        // Each wallet claimed by its person (logged in by custom id, not timed): the complete
        // refresh, the test signature of the new pair and the commit.
        let share = dyad.get_user_share().expect("share");
        let mut claim = Vec::new();
        for i in 0..runs {
            let person = Dyad::new(&server.url(), key.expose());
            person.login_custom_id(&format!("bench-{wt}-{i}")).await.expect("login");
            person.set_user_share(share.expose()).await.expect("share");
            let t = Instant::now();
            let claimed = person.claim_pregen_wallets(None).await.expect("claim");
            claim.push(t.elapsed());
            assert_eq!(claimed.len(), 1);
        }
        // Single creates from a warm pool: each timing starts with a setup ready (the fill
        // waits for the previous create's background refill, untimed).
        let mut dkg_pooled = Vec::new();
        if wt.scheme() == Scheme::Dkls {
            let pooled = Dyad::builder(&server.url(), key.expose()).setup_pool(1).build();
            for i in 0..runs {
                pooled.fill_setup_pool().await.expect("fill the pool");
                let who = PregenId::parse("customId", &format!("bench-pooled-{wt}-{i}")).expect("id");
                let t = Instant::now();
                pooled
                    .create_pregen_wallet(wt, &who)
                    .await
                    .expect("create from the pool");
                dkg_pooled.push(t.elapsed());
            }
            // The last create's background refill must not run into the next rows.
            pooled.fill_setup_pool().await.expect("fill the pool");
        }
        out.push(ServiceRuns {
            dkg,
            sign,
            sign_warm,
            sign_warm_cpu,
            claim,
            dkg_pooled,
        });
    }
    bench.stop();
    out
}

/// The CPU time this process has used so far, all threads (Linux: `/proc/self/stat`, in clock
/// ticks, usually 10 ms: take enough runs that the loop lasts a second or more).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (in parentheses, which may hold spaces): utime and
    // stime are the 12th and 13th of them.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    const TICKS_PER_SECOND: u64 = 100;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// A server on a thread and tokio runtime of its own.
struct ServerThread {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn start(state: AppState) -> ServerThread {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let server = dyad_server::spawn(state, "127.0.0.1:0").await.expect("server");
                url_tx.send(server.url()).expect("url");
                let _ = stopped.await;
                let _ = server.shutdown().await;
            });
        });
        let url = url_rx.recv().expect("the server started");
        ServerThread {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        self.url.clone()
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn cell(v: &[Duration]) -> String {
    let (m, p) = stats(v.to_vec());
    format!("{m:.1} ms / {p:.1} ms")
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(10).max(1);
    if std::env::args().any(|a| a == "--decode") {
        decode::run(runs);
        return;
    }
    if std::env::args().any(|a| a == "--raw") {
        raw_only(runs);
        return;
    }
    if std::env::args().any(|a| a == "--warm-sign") {
        warm_sign_only(runs).await;
        return;
    }
    let modes: Vec<Durability> = match arg("--sync").as_deref() {
        None | Some("both") => vec![Durability::Normal, Durability::Full],
        Some("normal") => vec![Durability::Normal],
        Some("full") => vec![Durability::Full],
        Some(other) => {
            eprintln!("error: --sync takes normal, full or both, not {other:?}");
            std::process::exit(2);
        }
    };
    // One unmeasured round first, so neither setting pays for a cold start.
    service(Durability::Full, 1).await;
    let mut measured = Vec::new();
    for d in &modes {
        measured.push(service(*d, runs).await);
    }

    let mut header = String::from("| protocol |");
    for d in &modes {
        let name = match d {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        header.push_str(&format!(" via service, synchronous={name}, median / p99 |"));
    }
    header.push_str(" raw library, one process, median / p99 |");
    println!("{header}");
    println!("|---|{}---|", "---|".repeat(modes.len()));
    for (i, (_, scheme)) in types().into_iter().enumerate() {
        let (raw_dkg, raw_sign, raw_refresh) = raw(scheme, runs, runs);
        let dkg: Vec<String> = measured.iter().map(|m| cell(&m[i].dkg)).collect();
        let sign: Vec<String> = measured.iter().map(|m| cell(&m[i].sign)).collect();
        println!(
            "| {scheme:?} DKG (+ test signature via service) | {} | {} |",
            dkg.join(" | "),
            cell(&raw_dkg)
        );
        if !measured.iter().any(|m| m[i].dkg_pooled.is_empty()) {
            let pooled: Vec<String> = measured.iter().map(|m| cell(&m[i].dkg_pooled)).collect();
            println!(
                "| {scheme:?} DKG from a warm setup pool (+ test signature via service; raw: DKG on a setup) | {} | {} |",
                pooled.join(" | "),
                cell(&raw_pooled(runs))
            );
        }
        println!("| {scheme:?} sign | {} | {} |", sign.join(" | "), cell(&raw_sign));
        let warm: Vec<String> = measured.iter().map(|m| cell(&m[i].sign_warm)).collect();
        println!(
            "| {scheme:?} sign on a warm batch connection | {} | {} |",
            warm.join(" | "),
            cell(&raw_sign)
        );
        let cpu: Vec<String> = measured
            .iter()
            .map(|m| {
                m[i].sign_warm_cpu
                    .map_or("n/a".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
            })
            .collect();
        println!(
            "| {scheme:?} sign on a warm batch connection: CPU per signature, both parties (raw: one thread, so its time) | {} | {} |",
            cpu.join(" | "),
            cell(&raw_sign)
        );
        let claim: Vec<String> = measured.iter().map(|m| cell(&m[i].claim)).collect();
        println!(
            "| {scheme:?} claim (refresh + test signature via service; raw: the refresh) | {} | {} |",
            claim.join(" | "),
            cell(&raw_refresh)
        );
    }
    println!(
        "\nruns per row: {runs}; machine: {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
}

/// `--decode`: `SignRequest::prepare` on the largest requests each decoding limit admits.
mod decode {
    use std::time::{Duration, Instant};

    use dyad_chains::cosmos::{MAX_COINS, MAX_MESSAGES, MAX_SIGN_DOC_BYTES};
    use dyad_chains::evm::typed_data::{MAX_ARRAY_LEN, MAX_STRUCTS, MAX_STRUCT_WORK, MAX_TYPES, MAX_VALUES};
    use dyad_chains::{Account, ChainConfig, CosmosSignMode, PublicKey, SignRequest, TransactionRequest, WalletType};
    use serde_json::{json, Value};

    /// A fixed secp256k1 key for the wallet that signs (its secret does not matter here).
    fn wallet_key() -> PublicKey {
        let secret = k256::ecdsa::SigningKey::from_slice(&[0x42; 32]).expect("a valid scalar");
        let point = secret.verifying_key().to_encoded_point(true);
        PublicKey::Secp256k1(point.as_bytes().try_into().expect("33 bytes"))
    }

    // Protobuf, by hand: only what a SignDoc needs (varints and length-delimited fields).
    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn bytes_field(out: &mut Vec<u8>, tag: u64, bytes: &[u8]) {
        varint(out, tag << 3 | 2);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    fn varint_field(out: &mut Vec<u8>, tag: u64, n: u64) {
        varint(out, tag << 3);
        varint(out, n);
    }

    fn coin(denom: &str, amount: &str) -> Vec<u8> {
        let mut c = Vec::new();
        bytes_field(&mut c, 1, denom.as_bytes());
        bytes_field(&mut c, 2, amount.as_bytes());
        c
    }

    fn denom(i: usize) -> String {
        format!("ibc/{i:060}")
    }

    /// A direct SignDoc: MAX_MESSAGES bank sends carrying MAX_COINS coins of distinct denoms
    /// between them, and a memo filling the document up to MAX_SIGN_DOC_BYTES.
    fn cosmos_direct(key: &[u8; 33], from: &str) -> Vec<u8> {
        let per_send = MAX_COINS / MAX_MESSAGES;
        let doc = |memo_len: usize| {
            let mut body = Vec::new();
            for m in 0..MAX_MESSAGES {
                let mut send = Vec::new();
                bytes_field(&mut send, 1, from.as_bytes());
                bytes_field(&mut send, 2, format!("cosmos1recipient{m:05}").as_bytes());
                for c in 0..per_send {
                    bytes_field(&mut send, 3, &coin(&denom(m * per_send + c), "1000000"));
                }
                let mut any = Vec::new();
                bytes_field(&mut any, 1, b"/cosmos.bank.v1beta1.MsgSend");
                bytes_field(&mut any, 2, &send);
                bytes_field(&mut body, 1, &any);
            }
            bytes_field(&mut body, 2, "m".repeat(memo_len).as_bytes());
            let mut pubkey = Vec::new();
            bytes_field(&mut pubkey, 1, key);
            let mut pubkey_any = Vec::new();
            bytes_field(&mut pubkey_any, 1, b"/cosmos.crypto.secp256k1.PubKey");
            bytes_field(&mut pubkey_any, 2, &pubkey);
            let mut single = Vec::new();
            varint_field(&mut single, 1, 1); // SIGN_MODE_DIRECT
            let mut mode = Vec::new();
            bytes_field(&mut mode, 1, &single);
            let mut signer = Vec::new();
            bytes_field(&mut signer, 1, &pubkey_any);
            bytes_field(&mut signer, 2, &mode);
            let mut fee = Vec::new();
            varint_field(&mut fee, 2, 200_000);
            let mut auth = Vec::new();
            bytes_field(&mut auth, 1, &signer);
            bytes_field(&mut auth, 2, &fee);
            let mut sign_doc = Vec::new();
            bytes_field(&mut sign_doc, 1, &body);
            bytes_field(&mut sign_doc, 2, &auth);
            bytes_field(&mut sign_doc, 3, b"cosmoshub-4");
            varint_field(&mut sign_doc, 4, 7);
            sign_doc
        };
        fill(doc)
    }

    /// The longest document `doc(n)` builds within MAX_SIGN_DOC_BYTES.
    fn fill(doc: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
        let mut n = MAX_SIGN_DOC_BYTES.saturating_sub(doc(0).len());
        while doc(n).len() > MAX_SIGN_DOC_BYTES {
            n -= 1;
        }
        doc(n)
    }

    /// An amino doc at the same limits, whose sends also carry large objects of small keys
    /// (every key sorted and compared for the canonical check), filling MAX_SIGN_DOC_BYTES.
    fn cosmos_amino(from: &str) -> Vec<u8> {
        let per_send = MAX_COINS / MAX_MESSAGES;
        let doc = |keys: usize| {
            let msgs: Vec<Value> = (0..MAX_MESSAGES)
                .map(|m| {
                    let amount: Vec<Value> = (0..per_send)
                        .map(|c| json!({ "amount": "1000000", "denom": denom(m * per_send + c) }))
                        .collect();
                    let extra: serde_json::Map<String, Value> =
                        (0..keys).map(|k| (format!("{k:x}"), json!(0))).collect();
                    json!({
                        "type": "cosmos-sdk/MsgSend",
                        "value": {
                            "amount": amount,
                            "extra": extra,
                            "from_address": from,
                            "to_address": format!("cosmos1recipient{m:05}"),
                        }
                    })
                })
                .collect();
            let value = json!({
                "account_number": "7",
                "chain_id": "cosmoshub-4",
                "fee": { "amount": [], "gas": "200000" },
                "memo": "",
                "msgs": msgs,
                "sequence": "0",
            });
            canonical(&value).into_bytes()
        };
        // Each key adds about 8 bytes per message; find the most that fit.
        let mut keys = MAX_SIGN_DOC_BYTES / MAX_MESSAGES / 8;
        while doc(keys).len() > MAX_SIGN_DOC_BYTES {
            keys -= 1;
        }
        doc(keys)
    }

    /// Keys sorted (the keys here are ASCII, so byte order is UTF-16 order), no whitespace.
    fn canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let inner: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                    .collect();
                format!("{{{}}}", inner.join(","))
            }
            Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
            other => other.to_string(),
        }
    }

    fn typed(types: Value, message: Value) -> String {
        json!({
            "types": types,
            "primaryType": "Root",
            "domain": { "name": "bench", "version": "1", "chainId": 1 },
            "message": message,
        })
        .to_string()
    }

    /// `types_count` type definitions and `structs` struct values (the root included): the
    /// values are of a type that reaches every other type (a binary tree of types linked by
    /// arrays, so each value is `{"l":[],"r":[]}`), and the library rebuilds the full
    /// encodeType for each.
    fn eip712_structs(types_count: usize, structs: usize) -> String {
        let tree = types_count - 1;
        let mut types = serde_json::Map::new();
        for i in 0..tree {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let fields = if r < tree {
                json!([{ "name": "l", "type": format!("T{l}[]") }, { "name": "r", "type": format!("T{r}[]") }])
            } else {
                json!([{ "name": "v", "type": "uint256" }])
            };
            types.insert(format!("T{i}"), fields);
        }
        types.insert("Root".into(), json!([{ "name": "items", "type": "T0[][]" }]));
        let node = if tree > 2 {
            json!({ "l": [], "r": [] })
        } else {
            json!({ "v": 1 })
        };
        let items: Vec<Value> = vec![node; structs - 1];
        let rows: Vec<Value> = items.chunks(MAX_ARRAY_LEN).map(|c| Value::Array(c.to_vec())).collect();
        typed(Value::Object(types), json!({ "items": rows }))
    }

    /// As many values as MAX_VALUES allows, each a 24-character string (hashed one by one).
    fn eip712_values() -> String {
        let rows = (MAX_VALUES - 2) / (MAX_ARRAY_LEN + 1);
        let message = json!({ "x": vec![vec!["dyad decode benchmark ok"; MAX_ARRAY_LEN]; rows] });
        typed(json!({ "Root": [{ "name": "x", "type": "string[][]" }] }), message)
    }

    fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        (ms(times[times.len() / 2]), ms(times[times.len() - 1]))
    }

    pub fn run(runs: usize) {
        let key = wallet_key();
        let PublicKey::Secp256k1(compressed) = &key else {
            unreachable!("a secp256k1 key")
        };
        let config = ChainConfig::default();
        let cosmos_address = dyad_chains::address(WalletType::Cosmos, &key, &config).expect("address");
        let evm_address = dyad_chains::address(WalletType::Evm, &key, &config).expect("address");
        let cosmos = Account {
            wallet_type: WalletType::Cosmos,
            public_key: &key,
            address: &cosmos_address,
        };
        let evm = Account {
            wallet_type: WalletType::Evm,
            public_key: &key,
            address: &evm_address,
        };
        let tx = |bytes: Vec<u8>, mode| {
            SignRequest::Transaction(TransactionRequest {
                bytes,
                chain_id: None,
                network_passphrase: None,
                cosmos_sign_mode: Some(mode),
            })
        };
        let cases = [
            (
                format!(
                    "Cosmos direct: {MAX_MESSAGES} sends, {MAX_COINS} coins of distinct denoms, memo to the size limit"
                ),
                cosmos,
                tx(cosmos_direct(compressed, &cosmos_address), CosmosSignMode::Direct),
            ),
            (
                format!(
                    "Cosmos amino: {MAX_MESSAGES} sends, {MAX_COINS} coins, objects of small keys to the size limit"
                ),
                cosmos,
                tx(cosmos_amino(&cosmos_address), CosmosSignMode::Amino),
            ),
            (
                format!(
                    "EIP-712: {} struct values of a type reaching all {MAX_TYPES} types",
                    MAX_STRUCT_WORK / MAX_TYPES
                ),
                evm,
                SignRequest::TypedData(eip712_structs(MAX_TYPES, MAX_STRUCT_WORK / MAX_TYPES)),
            ),
            (
                format!(
                    "EIP-712: {MAX_STRUCTS} struct values of a type reaching all {} types",
                    MAX_STRUCT_WORK / MAX_STRUCTS
                ),
                evm,
                SignRequest::TypedData(eip712_structs(MAX_STRUCT_WORK / MAX_STRUCTS, MAX_STRUCTS)),
            ),
            (
                "EIP-712: the most values (string[][], 24-character strings)".to_string(),
                evm,
                SignRequest::TypedData(eip712_values()),
            ),
        ];
        println!("| request (largest accepted) | size | `prepare` median / max |");
        println!("|---|---|---|");
        for (what, signer, request) in cases {
            let size = match &request {
                SignRequest::Transaction(t) => t.bytes.len(),
                SignRequest::TypedData(json) => json.len(),
                _ => 0,
            };
            if let Err(e) = request.prepare(signer) {
                panic!("{what}: refused: {e}");
            }
            let (median, max) = time(runs, || {
                let _ = std::hint::black_box(request.prepare(signer));
            });
            println!(
                "| {what} | {:.0} KiB | {median:.1} ms / {max:.1} ms |",
                size as f64 / 1024.0
            );
        }
        println!(
            "\nruns per row: {runs}; machine: {} cores",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
    }
}
