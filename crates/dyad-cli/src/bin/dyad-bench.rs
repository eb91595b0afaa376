//! `dyad-bench`: what a ceremony costs through the service (SDK ↔ server over loopback
//! WebSocket + Noise, SQLite, sealing, audit) beside the raw library cost of the same protocol
//! with both parties in one process. The service is measured twice, on a SQLite store with
//! `synchronous=NORMAL` and with `synchronous=FULL` (what the server uses), each on a fresh data
//! folder, to show what syncing every commit costs. Prints a Markdown table; `--runs N`
//! (default 10); `--sync normal|full|both` (default both).
//!
//! `cargo run --release --bin dyad-bench -- --runs 10`

use std::sync::Arc;
use std::time::{Duration, Instant};

use dyad_mpc::{run_local, Dkg, Role, Scheme, Sign, SignInput};
use dyad_proto::{Environment, PregenId, WalletType};
use dyad_sdk::Dyad;
use dyad_server::store::Durability;
use dyad_server::{AppState, DataDir, ServerConfig, SqliteStore, Store};

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = ms(v[v.len() / 2]);
    // Nearest-rank p99: with few runs this is the maximum.
    let idx = ((v.len() as f64) * 0.99).ceil() as usize;
    (median, ms(v[idx.saturating_sub(1).min(v.len() - 1)]))
}

fn raw(scheme: Scheme, runs: usize) -> (Vec<Duration>, Vec<Duration>) {
    let sid = [7u8; 32];
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
        Scheme::Dkls => SignInput::Digest([9u8; 32]),
        Scheme::Ed25519 => SignInput::Message(b"benchmark".to_vec()),
    };
    let mut sign = Vec::new();
    for i in 0..runs {
        let sid = [i as u8; 32];
        let t = Instant::now();
        run_local(
            Sign::start(&a, &sid, &input).expect("start"),
            Sign::start(&b, &sid, &input).expect("start"),
        )
        .expect("sign");
        sign.push(t.elapsed());
    }
    (dkg, sign)
}

/// Per wallet type: key generation and signing times through the service.
struct ServiceRuns {
    dkg: Vec<Duration>,
    sign: Vec<Duration>,
}

const TYPES: [(WalletType, Scheme); 2] = [(WalletType::Evm, Scheme::Dkls), (WalletType::Solana, Scheme::Ed25519)];

/// Start a server on a fresh data folder whose store syncs as `durability` says, and time
/// `runs` key generations and signatures per wallet type through the SDK.
async fn service(durability: Durability, runs: usize) -> Vec<ServiceRuns> {
    let dir = std::env::temp_dir().join(format!("dyad-bench-{}-{durability:?}", std::process::id()));
    let data = DataDir::new(&dir).expect("data dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with(&data.database(), durability)
            .await
            .expect("store"),
    );
    let master = data.master_key_from_env_or_file().expect("master key");
    let state = AppState::new(store.clone(), &master, ServerConfig::default())
        .await
        .expect("state");
    let server = dyad_server::spawn(state, "127.0.0.1:0").await.expect("server");
    let (_, key) = dyad_server::api_key::create_app(store.as_ref(), "bench", Environment::Beta)
        .await
        .expect("app");
    let mut out = Vec::new();
    for (wt, _) in TYPES {
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
        out.push(ServiceRuns { dkg, sign });
    }
    let _ = server.shutdown().await;
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
    out
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
    let runs: usize = arg("--runs").and_then(|s| s.parse().ok()).unwrap_or(10).max(1);
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
    for (i, (_, scheme)) in TYPES.into_iter().enumerate() {
        let (raw_dkg, raw_sign) = raw(scheme, runs);
        let dkg: Vec<String> = measured.iter().map(|m| cell(&m[i].dkg)).collect();
        let sign: Vec<String> = measured.iter().map(|m| cell(&m[i].sign)).collect();
        println!(
            "| {scheme:?} DKG (+ test signature via service) | {} | {} |",
            dkg.join(" | "),
            cell(&raw_dkg)
        );
        println!("| {scheme:?} sign | {} | {} |", sign.join(" | "), cell(&raw_sign));
    }
    println!(
        "\nruns per row: {runs}; machine: {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
}
