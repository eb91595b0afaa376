//! `dyad-bench`: what a ceremony costs through the service (SDK ↔ server over loopback
//! WebSocket + Noise, SQLite, sealing, audit) beside the raw library cost of the same protocol
//! with both parties in one process. Prints a Markdown table; `--runs N` (default 10).
//!
//! `cargo run --release --bin dyad-bench -- --runs 10`

use std::time::{Duration, Instant};

use dyad_mpc::{run_local, Dkg, Role, Scheme, Sign, SignInput};
use dyad_proto::{Environment, PregenId, WalletType};
use dyad_sdk::Dyad;
use dyad_server::{AppState, DataDir, ServerConfig};

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

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .max(1);
    let dir = std::env::temp_dir().join(format!("dyad-bench-{}", std::process::id()));
    let data = DataDir::new(&dir).expect("data dir");
    let store = data.open_store().await.expect("store");
    let master = data.master_key_from_env_or_file().expect("master key");
    let state = AppState::new(store.clone(), &master, ServerConfig::default())
        .await
        .expect("state");
    let server = dyad_server::spawn(state, "127.0.0.1:0").await.expect("server");
    let (_, key) = dyad_server::api_key::create_app(store.as_ref(), "bench", Environment::Beta)
        .await
        .expect("app");

    println!(
        "| protocol | via service (SDK ↔ server, loopback) median / p99 | raw library, one process median / p99 |"
    );
    println!("|---|---|---|");
    for (wt, scheme) in [(WalletType::Evm, Scheme::Dkls), (WalletType::Solana, Scheme::Ed25519)] {
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
        let (raw_dkg, raw_sign) = raw(scheme, runs);
        let (sm, sp) = stats(dkg);
        let (rm, rp) = stats(raw_dkg);
        println!(
            "| {scheme:?} DKG (+ test signature via service) | {sm:.1} ms / {sp:.1} ms | {rm:.1} ms / {rp:.1} ms |"
        );
        let (sm, sp) = stats(sign);
        let (rm, rp) = stats(raw_sign);
        println!("| {scheme:?} sign | {sm:.1} ms / {sp:.1} ms | {rm:.1} ms / {rp:.1} ms |");
    }
    println!(
        "\nruns per row: {runs}; machine: {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let _ = server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
