//! The `dyad` binary as a new user runs it from the README: `dyad serve` on port 0 in a
//! temporary folder, `dyad app create`, then the pregen and sign subcommands with `--json`,
//! every signature checked with the standard verifiers. Also the error paths a user hits first,
//! and `dyad demo`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use dyad_proto::{PregenId, WalletStatus, WalletType, WalletView};
use dyad_test_support::verify::{recover_evm_address as recover, verify_message, verify_message_of};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_dyad");

/// Variables the binary reads that the test's own environment must not leak into it.
const SCRUB: &[&str] = &[
    "DYAD_URL",
    "DYAD_API_KEY",
    "DYAD_DATA_DIR",
    "DYAD_MASTER_KEY",
    "DYAD_SERVER_KEY",
    "DYAD_DATABASE_URL",
    "DYAD_VAULT_KEY",
    "DATABASE_URL",
    "RUST_LOG",
];

/// What one run of `dyad` did.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Succeeded; its stdout.
    fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "dyad failed ({}): stderr: {}",
            self.status,
            self.stderr
        );
        self.no_panic();
        &self.stdout
    }

    /// Succeeded with one line of JSON on stdout.
    fn json(&self) -> Value {
        let out = self.ok();
        assert_eq!(out.lines().count(), 1, "--json prints one line: {out}");
        serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// Failed with nothing on stdout and exactly one line on stderr, which it returns.
    fn fails_with_one_line(&self) -> &str {
        assert!(!self.status.success(), "expected failure, got stdout: {}", self.stdout);
        self.no_panic();
        assert!(self.stdout.is_empty(), "a failure printed to stdout: {}", self.stdout);
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected one stderr line, got: {}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", lines[0]);
        lines[0]
    }

    fn no_panic(&self) {
        assert!(!self.stderr.contains("panicked"), "dyad panicked: {}", self.stderr);
    }
}

/// A command line's words (for arguments without spaces).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `sign message --wallet ID --share-file SHARE HOW WHAT --json` (`HOW`: `--message` or
/// `--message-base64`).
fn sign_args<'a>(id: &'a str, share: &'a str, how: &'a str, what: &'a str) -> [&'a str; 9] {
    [
        "sign",
        "message",
        "--wallet",
        id,
        "--share-file",
        share,
        how,
        what,
        "--json",
    ]
}

/// `dyad args…` in `cwd` with only the given DYAD_* variables set, not yet run (standard input
/// closed unless the caller pipes it).
fn command(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for v in SCRUB {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Run `dyad args…` in `cwd` with only the given DYAD_* variables set.
fn dyad(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let out = command(cwd, env, args).output().expect("running dyad");
    Run {
        status: out.status,
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A `dyad serve` child process; killed when dropped, so a failing test does not leak it.
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// `dyad serve --listen 127.0.0.1:0 --data-dir data` in `cwd`; the URL is read from the
    /// "dyad listening on …" line it prints on stderr.
    fn start(cwd: &Path) -> Self {
        Self::start_with(cwd, &[])
    }

    /// [`start`](Self::start) with more `dyad serve` arguments.
    fn start_with(cwd: &Path, extra: &[&str]) -> Self {
        let mut cmd = command(cwd, &[], &["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"]);
        cmd.args(extra);
        Self::spawn(cmd)
    }

    /// Spawn `cmd` (`dyad serve` or `dyad agent`, listening on port 0) and read its URL from
    /// the "… listening on URL" line it prints on stderr.
    fn spawn(mut cmd: Command) -> Self {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning dyad");
        let pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let log = stderr.clone();
        // Read until the listening line, then keep draining so the server never blocks on a
        // full pipe; the thread ends when the child exits and the pipe closes.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = String::new();
            let mut tx = Some(tx);
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some((_, url)) = line.trim().rsplit_once(" listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.to_string());
                    }
                }
                log.lock().unwrap().push_str(&line);
                line.clear();
            }
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
            log.lock().unwrap().push_str(&rest);
        });
        let mut server = Server {
            child,
            url: String::new(),
            stderr,
        };
        // A generous bound so a broken server fails the test instead of hanging it.
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => server.url = url,
            Err(_) => panic!(
                "dyad never said where it listens; stderr: {}",
                server.stderr.lock().unwrap()
            ),
        }
        assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
        let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "the real port, not the requested 0");
        server
    }

    /// The server is still running (nothing the test did crashed it); then stop it.
    fn stop(mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "dyad serve exited early; stderr: {}",
            self.stderr.lock().unwrap()
        );
        assert!(!self.stderr.lock().unwrap().contains("panicked"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sign message --vault VAULT` with wallet `w`'s share from the vault; the signature must
/// verify with the standard verifier.
fn sign_from_vault(cwd: &Path, env: &[(&str, &str)], w: &WalletView, vault: &str, message: &str) {
    let id = w.id.to_string();
    let args = [
        "sign",
        "message",
        "--wallet",
        &id,
        "--vault",
        vault,
        "--message",
        message,
        "--json",
    ];
    let out = dyad(cwd, env, &args).json();
    verify_message(w, message.as_bytes(), &signature(&out, w)).unwrap();
}

/// `app create` on the data folder; the API key.
fn create_app(cwd: &Path, name: &str) -> String {
    let app = dyad(
        cwd,
        &[],
        &words(&format!("app create --data-dir data --name {name} --env beta --json")),
    )
    .json();
    app["apiKey"].as_str().expect("apiKey").to_string()
}

fn wallet(v: &Value) -> WalletView {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not a wallet ({e}): {v}"))
}

fn wallets(v: &Value) -> Vec<WalletView> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(wallet)
        .collect()
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// `0x`-prefixed hex of exactly `len` hex digits.
fn assert_0x_hex(s: &str, len: usize) {
    let body = s.strip_prefix("0x").unwrap_or_else(|| panic!("no 0x: {s}"));
    assert!(body.len() == len && is_hex(body), "expected 0x + {len} hex digits: {s}");
}

/// The signature bytes from `sign message --json`, checked to be for `wallet`.
fn signature(out: &Value, wallet: &WalletView) -> Vec<u8> {
    assert_eq!(out["walletId"], json!(wallet.id.to_string()), "{out}");
    let sig = out["signature"].as_str().expect("signature");
    let bytes = hex::decode(sig.strip_prefix("0x").expect("0x signature")).expect("hex signature");
    let expected = if wallet.wallet_type == WalletType::Evm { 65 } else { 64 };
    assert_eq!(bytes.len(), expected, "{} signature length", wallet.wallet_type);
    bytes
}

/// The JSON entries of a share file (`-`-separated base64 JSON, one per wallet).
fn share_entries(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim()
        .split('-')
        .map(|e| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(e)
                .expect("share entry is base64");
            serde_json::from_slice(&raw).expect("share entry is JSON")
        })
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(_: &Path) -> u32 {
    0o600
}

#[test]
fn readme_flow_serve_pregen_sign_list_update() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let server = Server::start(cwd);

    // An app; its key is shown once, at creation, and never by `app list`.
    let app = dyad(
        cwd,
        &[],
        &words("app create --data-dir data --name shop --env beta --json"),
    )
    .json();
    assert_eq!(app["name"], "shop");
    assert_eq!(app["environment"], "BETA");
    let app_id = app["appId"].as_str().expect("appId");
    uuid::Uuid::parse_str(app_id).expect("appId is a UUID");
    let key = app["apiKey"].as_str().expect("apiKey").to_string();
    assert!(
        key.starts_with("dyad_beta_") && key.len() > "dyad_beta_".len() + 16,
        "{key}"
    );
    let listed = dyad(cwd, &[], &words("app list --data-dir data --json"));
    let apps = listed.json();
    let apps = apps.as_array().expect("app list is an array");
    assert_eq!(apps.len(), 1, "{apps:?}");
    assert_eq!(apps[0]["appId"], app_id);
    assert_eq!(apps[0]["name"], "shop");
    assert_eq!(apps[0]["environment"], "BETA");
    assert!(!listed.stdout.contains(&key), "app list shows the API key");
    let table = dyad(cwd, &[], &words("app list --data-dir data"));
    assert!(
        table.ok().contains(app_id) && table.stdout.contains("shop"),
        "{}",
        table.stdout
    );

    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let run = |args: &[&str]| dyad(cwd, &env, args);

    let has = |who: &str, ty: &str| run(&["pregen", "has", "--email", who, "--type", ty, "--json"]).json();
    assert_eq!(has("user1@example.com", "EVM"), json!({ "exists": false }));

    // One EVM wallet for user1.
    let share1 = cwd.join("user1.share");
    let created = run(&words(
        "pregen create --email user1@example.com --type EVM --share-file user1.share --json",
    ))
    .json();
    assert_eq!(created["type"], "EVM");
    assert_eq!(created["scheme"], "DKLS");
    assert_eq!(created["status"], "pregen");
    assert_eq!(created["keyVersion"], 1);
    assert_eq!(created["pregenId"], json!({ "email": "user1@example.com" }));
    let w1 = wallet(&created);
    assert_0x_hex(&w1.address, 40);
    assert_0x_hex(&w1.public_key, 66);
    assert!(
        matches!(&w1.public_key[..4], "0x02" | "0x03"),
        "compressed key: {}",
        w1.public_key
    );
    assert_eq!(w1.status, WalletStatus::Pregen);

    assert_eq!(has("user1@example.com", "EVM"), json!({ "exists": true }));
    assert_eq!(has("user1@example.com", "SOLANA"), json!({ "exists": false }));
    // The same, with --url/--api-key instead of the environment.
    let by_flags = dyad(
        cwd,
        &[],
        &words(&format!(
            "pregen has --url {} --api-key {key} --email User1@Example.com --json",
            server.url
        )),
    )
    .json();
    assert_eq!(by_flags, json!({ "exists": true }), "emails are normalised");

    // The share file: 0600, non-empty, holding this wallet; no temporary file left beside it.
    assert_eq!(mode(&share1), 0o600, "share file mode");
    let share1_before = std::fs::read(&share1).unwrap();
    assert!(!share1_before.is_empty());
    assert!(!cwd.join(".user1.share.tmp").exists());
    let entries = share_entries(&share1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], json!(w1.id.to_string()));

    // A second EVM wallet for user1 is refused, in one line, and the share file is untouched.
    let dup = run(&words(
        "pregen create --email user1@example.com --type EVM --share-file user1.share --json",
    ));
    let line = dup.fails_with_one_line();
    assert!(line.contains("WALLET_EXISTS"), "{line}");
    assert_eq!(std::fs::read(&share1).unwrap(), share1_before, "share file changed");

    // One wallet of each type for user2.
    let share2 = cwd.join("user2.share");
    let per_type = run(&words(
        "pregen create-per-type --email user2@example.com --types EVM,SOLANA,COSMOS,STELLAR \
         --share-file user2.share --json",
    ))
    .json();
    let w2 = wallets(&per_type);
    assert_eq!(
        w2.iter().map(|w| w.wallet_type).collect::<Vec<_>>(),
        [
            WalletType::Evm,
            WalletType::Solana,
            WalletType::Cosmos,
            WalletType::Stellar
        ]
    );
    let ids: BTreeSet<_> = w2.iter().map(|w| w.id).collect();
    assert_eq!(ids.len(), 4);
    assert!(!ids.contains(&w1.id));
    for w in &w2 {
        assert_eq!(w.pregen_id, PregenId::parse("email", "user2@example.com").unwrap());
        assert_eq!(w.status, WalletStatus::Pregen);
        assert_eq!(w.key_version, 1);
        match w.wallet_type {
            WalletType::Evm => {
                assert_0x_hex(&w.address, 40);
                assert_0x_hex(&w.public_key, 66);
            }
            WalletType::Cosmos => {
                assert!(w.address.starts_with("cosmos1"), "{}", w.address);
                assert_0x_hex(&w.public_key, 66);
            }
            WalletType::Solana => assert_0x_hex(&w.public_key, 64),
            WalletType::Stellar => {
                assert!(w.address.starts_with('G') && w.address.len() == 56, "{}", w.address);
                assert_0x_hex(&w.public_key, 64);
            }
        }
    }
    assert_eq!(mode(&share2), 0o600);
    assert_eq!(share_entries(&share2).len(), 4);

    // Sign with each of user2's wallets, as text and as base64 of the same bytes.
    let message = "hello from the dyad cli test";
    let message_b64 = base64::engine::general_purpose::STANDARD.encode(message);
    for w in &w2 {
        let id = w.id.to_string();
        let sign = |how: &str, what: &str| {
            let out = run(&sign_args(&id, "user2.share", how, what)).json();
            signature(&out, w)
        };
        let sig = sign("--message", message);
        verify_message(w, message.as_bytes(), &sig)
            .unwrap_or_else(|e| panic!("{} signature does not verify: {e}", w.wallet_type));
        assert!(
            verify_message(w, b"another message", &sig).is_err(),
            "{}",
            w.wallet_type
        );
        let sig = sign("--message-base64", &message_b64);
        verify_message(w, message.as_bytes(), &sig)
            .unwrap_or_else(|e| panic!("{} base64 signature does not verify: {e}", w.wallet_type));
        assert!(
            verify_message(w, b"another message", &sig).is_err(),
            "{}",
            w.wallet_type
        );
    }
    // Bytes that are not text go through --message-base64 intact.
    let binary = [0u8, 0xff, 0x80, b'\n', 0xc3];
    let sol = &w2[1];
    let out = run(&sign_args(
        &sol.id.to_string(),
        "user2.share",
        "--message-base64",
        &base64::engine::general_purpose::STANDARD.encode(binary),
    ))
    .json();
    verify_message(sol, &binary, &signature(&out, sol)).unwrap();

    // List: exactly the four, as created.
    let listed = wallets(&run(&words("pregen list --email user2@example.com --json")).json());
    let mut expected = w2.clone();
    let mut got = listed.clone();
    expected.sort_by_key(|w| w.id);
    got.sort_by_key(|w| w.id);
    assert_eq!(got, expected);

    // Move user1's wallet to a custom id; the list follows, and the share file is rewritten.
    let updated = run(&words(&format!(
        "pregen update-id --wallet {} --share-file user1.share --custom-id user-42 --json",
        w1.id
    )))
    .json();
    assert_eq!(updated["pregenId"], json!({ "customId": "user-42" }));
    let w1u = wallet(&updated);
    assert_eq!(
        (w1u.id, &w1u.address, &w1u.public_key),
        (w1.id, &w1.address, &w1.public_key)
    );
    let by_custom = wallets(&run(&words("pregen list --custom-id user-42 --json")).json());
    assert_eq!(by_custom, std::slice::from_ref(&w1u));
    let by_email = run(&words("pregen list --email user1@example.com --json")).json();
    assert_eq!(by_email, json!([]));
    assert_eq!(has("user1@example.com", "EVM"), json!({ "exists": false }));
    let human = run(&words("pregen list --custom-id user-42"));
    let human = human.ok();
    assert!(
        human
            .lines()
            .next()
            .is_some_and(|h| h.contains("ID") && h.contains("ADDRESS")),
        "{human}"
    );
    assert!(human.contains(&w1.address), "{human}");

    assert_ne!(
        std::fs::read(&share1).unwrap(),
        share1_before,
        "share file not rewritten"
    );
    assert_eq!(mode(&share1), 0o600);
    let entries = share_entries(&share1);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["pregenId"], json!({ "customId": "user-42" }));
    let out = run(&sign_args(
        &w1.id.to_string(),
        "user1.share",
        "--message",
        "after the update",
    ))
    .json();
    verify_message(&w1u, b"after the update", &signature(&out, &w1u)).unwrap();

    server.stop();
}

#[test]
fn errors_are_one_line_and_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "errors");
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let run = |args: &[&str]| dyad(cwd, &env, args);

    // A wallet to have a valid share file (Solana: quick to make).
    let w = wallet(
        &run(&words(
            "pregen create --email errors@example.com --type SOLANA --share-file good.share --json",
        ))
        .json(),
    );

    // An unknown type is a usage error naming the value and the accepted ones. (clap adds its
    // "For more information, try '--help'." hint below the one error line.)
    let r = run(&words(
        "pregen create --email errors@example.com --type BITCOIN --share-file btc.share --json",
    ));
    assert!(!r.status.success());
    r.no_panic();
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(errors[0].contains("BITCOIN") && errors[0].contains("EVM, SOLANA, COSMOS or STELLAR"));
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    assert!(!cwd.join("btc.share").exists());

    // No API key anywhere.
    let r = dyad(
        cwd,
        &[("DYAD_URL", &server.url)],
        &words("pregen list --email errors@example.com --json"),
    );
    let line = r.fails_with_one_line();
    assert!(
        line.contains("no API key") && line.contains("--api-key") && line.contains("DYAD_API_KEY"),
        "{line}"
    );

    // A wrong API key: the server's code, and the key is not echoed.
    let wrong = "dyad_beta_0000000000000000_not-a-real-key";
    let r = dyad(
        cwd,
        &[("DYAD_URL", &server.url), ("DYAD_API_KEY", wrong)],
        &words("pregen list --email errors@example.com --json"),
    );
    let line = r.fails_with_one_line();
    assert!(line.contains("UNAUTHENTICATED"), "{line}");
    assert!(!line.contains(wrong), "the API key is echoed: {line}");

    // A share file that is not a share.
    std::fs::write(cwd.join("garbage.share"), "this is not a share\n").unwrap();
    let id = w.id.to_string();
    let sign_with = |share: &str| run(&sign_args(&id, share, "--message", "hi"));
    let r = sign_with("garbage.share");
    let line = r.fails_with_one_line();
    assert!(line.contains("invalid user share"), "{line}");
    assert_eq!(
        std::fs::read_to_string(cwd.join("garbage.share")).unwrap(),
        "this is not a share\n"
    );

    // A share file that does not exist.
    let r = sign_with("missing.share");
    let line = r.fails_with_one_line();
    assert!(line.contains("missing.share"), "{line}");
    assert!(!cwd.join("missing.share").exists());

    // A wallet id the share file does not hold.
    let other = uuid::Uuid::new_v4().to_string();
    let r = run(&sign_args(&other, "good.share", "--message", "hi"));
    let line = r.fails_with_one_line();
    assert!(line.contains(&other) && line.contains("not loaded"), "{line}");

    // --message-base64 that is not base64.
    let r = run(&sign_args(&id, "good.share", "--message-base64", "***"));
    let line = r.fails_with_one_line();
    assert!(line.contains("--message-base64"), "{line}");

    // No server there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let r = dyad(
        cwd,
        &[("DYAD_URL", &closed), ("DYAD_API_KEY", &key)],
        &words("pregen has --email errors@example.com --json"),
    );
    let line = r.fails_with_one_line();
    assert!(!line.contains(&key), "the API key is echoed: {line}");

    // After all that, the good share still signs.
    let out = sign_with("good.share").json();
    verify_message(&w, b"hi", &signature(&out, &w)).unwrap();

    server.stop();
}

#[test]
fn demo_signs_and_verifies_every_type() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let data: PathBuf = cwd.join("demo-data");

    let out = dyad(cwd, &[], &words("demo --data-dir demo-data --json")).json();
    assert_eq!(out["message"], "Hello from Dyad");
    uuid::Uuid::parse_str(out["appId"].as_str().expect("appId")).unwrap();
    let list = out["wallets"].as_array().expect("wallets");
    assert_eq!(list.len(), 4, "{out}");
    let types: BTreeSet<&str> = list.iter().map(|w| w["type"].as_str().unwrap()).collect();
    assert_eq!(types, BTreeSet::from(["EVM", "SOLANA", "COSMOS", "STELLAR"]));
    for w in list {
        assert_eq!(w["verified"], true, "{w}");
        uuid::Uuid::parse_str(w["walletId"].as_str().unwrap()).unwrap();
        assert!(!w["address"].as_str().unwrap().is_empty(), "{w}");
        let sig = w["signature"].as_str().unwrap();
        let len = if w["type"] == "EVM" { 130 } else { 128 };
        assert_0x_hex(sig, len);
        // The demo's own "verified" uses dyad-chains' digests: check again independently, under
        // the public key the server stored for the wallet.
        let wallet_type: WalletType = w["type"].as_str().unwrap().parse().unwrap();
        let address = w["address"].as_str().unwrap();
        let public_key = stored_public_key(&data.join("dyad.db"), w["walletId"].as_str().unwrap());
        let sig = hex::decode(&sig[2..]).unwrap();
        verify_message_of(wallet_type, address, &public_key, b"Hello from Dyad", &sig)
            .unwrap_or_else(|e| panic!("the demo's {wallet_type} signature does not verify: {e}"));
        assert!(verify_message_of(wallet_type, address, &public_key, b"another message", &sig).is_err());
    }

    assert!(data.join("dyad.db").is_file());
    let key_file = data.join("master.key");
    assert_eq!(mode(&key_file), 0o600, "master.key mode");
    let master = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        master.trim().len() == 64 && is_hex(master.trim()),
        "master.key is 64 hex digits"
    );

    // Again, human-readable, on the same data folder: a table with four verified rows, and the
    // master key is reused, not replaced.
    let human = dyad(cwd, &[], &words("demo --data-dir demo-data"));
    let stdout = human.ok();
    let header = stdout
        .lines()
        .find(|l| l.starts_with("TYPE"))
        .unwrap_or_else(|| panic!("no table header: {stdout}"));
    for col in ["TYPE", "ADDRESS", "SIGNATURE", "VERIFIED"] {
        assert!(header.contains(col), "{header}");
    }
    let yes = stdout.lines().filter(|l| l.trim_end().ends_with(" yes")).count();
    assert_eq!(yes, 4, "{stdout}");
    for ty in ["EVM", "SOLANA", "COSMOS", "STELLAR"] {
        assert!(stdout.lines().any(|l| l.starts_with(ty)), "no {ty} row: {stdout}");
    }
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), master);
    let apps = dyad(cwd, &[], &words("app list --data-dir demo-data --json")).json();
    assert_eq!(apps.as_array().map(Vec::len), Some(2), "{apps}");
}

/// Run `f` on a connection to the SQLite file `db`, as an outside reader sees it.
fn with_db<T, F: std::future::Future<Output = T>>(db: &Path, f: impl FnOnce(sqlx::AnyPool) -> F) -> T {
    with_url(&format!("sqlite://{}", db.display()), f)
}

/// Run `f` on a connection to the database at `url` (SQLite or PostgreSQL).
fn with_url<T, F: std::future::Future<Output = T>>(url: &str, f: impl FnOnce(sqlx::AnyPool) -> F) -> T {
    sqlx::any::install_default_drivers();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let pool = sqlx::AnyPool::connect(url).await.unwrap();
            let out = f(pool.clone()).await;
            pool.close().await;
            out
        })
}

/// `SELECT COUNT(*) …` on `cwd/data/dyad.db`.
fn count(cwd: &Path, sql: &str) -> i64 {
    with_db(&cwd.join("data").join("dyad.db"), |pool| async move {
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    })
}

/// The public key (`0x` hex) the server stored for wallet `id` in the database `db`.
fn stored_public_key(db: &Path, id: &str) -> String {
    let key: Vec<u8> = with_db(db, |pool| async move {
        sqlx::query_scalar("SELECT public_key FROM wallets WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    format!("0x{}", hex::encode(key))
}

/// `app create` on the data folder; its id and API key.
fn create_app_with_id(cwd: &Path, name: &str) -> (String, String) {
    let app = dyad(
        cwd,
        &[],
        &words(&format!("app create --data-dir data --name {name} --env beta --json")),
    )
    .json();
    (
        app["appId"].as_str().expect("appId").to_string(),
        app["apiKey"].as_str().expect("apiKey").to_string(),
    )
}

#[test]
fn raw_signing_is_off_until_the_operator_turns_it_on() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let server = Server::start(cwd);
    let (app_id, key) = create_app_with_id(cwd, "raw");
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let run = |args: &[&str]| dyad(cwd, &env, args);
    let w = wallet(
        &run(&words(
            "pregen create --email raw@example.com --type EVM --share-file raw.share --json",
        ))
        .json(),
    );
    let id = w.id.to_string();
    let digest = [0x5au8; 32];
    let digest_hex = format!("0x{}", hex::encode(digest));
    let sign_raw = || {
        run(&[
            "sign",
            "raw",
            "--wallet",
            &id,
            "--share-file",
            "raw.share",
            "--digest",
            &digest_hex,
            "--json",
        ])
    };
    let update = |value: &str| {
        dyad(
            cwd,
            &[],
            &[
                "app",
                "update",
                "--data-dir",
                "data",
                "--app",
                &app_id,
                "--allow-raw-signing",
                value,
                "--json",
            ],
        )
    };
    let denied = "SELECT COUNT(*) FROM audit_log WHERE action = 'sign.denied'";
    let sign_ceremonies = "SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'";

    // A fresh app: refused with its code, one sign.denied entry, no ceremony.
    let r = sign_raw();
    let line = r.fails_with_one_line();
    assert!(line.contains("RAW_SIGNING_DISABLED") && line.contains("403"), "{line}");
    assert_eq!(count(cwd, denied), 1);
    assert_eq!(count(cwd, sign_ceremonies), 0);

    // Enabled by the operator (audited with old and new value): it signs.
    let up = update("true").json();
    assert_eq!(up["allowRawSigning"], true, "{up}");
    assert_eq!(up["previous"]["allowRawSigning"], false, "{up}");
    let apps = dyad(cwd, &[], &words("app list --data-dir data --json")).json();
    assert_eq!(apps[0]["allowRawSigning"], true, "{apps}");
    let out = sign_raw().json();
    let sig = signature(&out, &w);
    assert!(recover(&digest, &sig).eq_ignore_ascii_case(&w.address));

    // Disabled again: refused again, at once.
    assert_eq!(update("false").json()["allowRawSigning"], false);
    let r = sign_raw();
    assert!(r.fails_with_one_line().contains("RAW_SIGNING_DISABLED"));
    assert_eq!(count(cwd, denied), 2);
    let updated = "SELECT COUNT(*) FROM audit_log WHERE action = 'app.updated' AND wallet_id IS NULL";
    assert_eq!(count(cwd, updated), 2);

    // Bad values and unknown apps change nothing.
    let r = update("maybe");
    assert!(!r.status.success());
    let r = dyad(
        cwd,
        &[],
        &words(&format!(
            "app update --data-dir data --app {} --allow-raw-signing true",
            uuid::Uuid::new_v4()
        )),
    );
    assert!(r.fails_with_one_line().contains("dyad app list"));
    assert_eq!(count(cwd, updated), 2);

    // While the server runs, the database and its WAL and shared-memory files are private.
    for name in ["dyad.db", "dyad.db-wal", "dyad.db-shm"] {
        assert_eq!(mode(&cwd.join("data").join(name)), 0o600, "{name}");
    }
    server.stop();
}

#[test]
fn api_keys_are_created_listed_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let server = Server::start(cwd);
    let (app_id, first) = create_app_with_id(cwd, "keys");
    let admin = |args: &str| {
        dyad(
            cwd,
            &[],
            &words(&format!("app key {args} --data-dir data --app {app_id}")),
        )
    };
    let list_as = |key: &str| {
        dyad(
            cwd,
            &[("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key)],
            &words("pregen list --email keys@example.com --json"),
        )
    };

    let created = admin("create --json").json();
    let second = created["apiKey"].as_str().expect("apiKey").to_string();
    let second_id = created["keyId"].as_str().expect("keyId").to_string();
    assert!(
        second.starts_with("dyad_beta_") && second.contains(&second_id),
        "{created}"
    );
    assert_eq!(created["appId"], json!(app_id));
    assert!(created["revokedAt"].is_null());

    let listed = admin("list --json").json();
    let keys = listed.as_array().expect("array");
    assert_eq!(keys.len(), 2, "{listed}");
    for k in keys {
        let fields: BTreeSet<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            BTreeSet::from(["appId", "keyId", "createdAt", "revokedAt"]),
            "{k}"
        );
    }
    assert_eq!(keys[1]["keyId"], json!(second_id));
    for secret in [&first, &second] {
        let tail = secret.rsplit('_').next().unwrap();
        assert!(!listed.to_string().contains(tail), "a secret is listed");
    }
    list_as(&second).json();

    // Revoked: the running server refuses it on the very next request; the other key works.
    let revoked = admin(&format!("revoke --key {second_id} --json")).json();
    assert!(revoked["revokedAt"].is_i64(), "{revoked}");
    let line = list_as(&second).fails_with_one_line().to_string();
    assert!(line.contains("UNAUTHENTICATED") && line.contains("401"), "{line}");
    list_as(&first).json();
    let listed = admin("list --json").json();
    assert!(
        listed[0]["revokedAt"].is_null() && listed[1]["revokedAt"].is_i64(),
        "{listed}"
    );

    // Again, an unknown id, or the whole key instead of its id: refused, no secret echoed.
    let r = admin(&format!("revoke --key {second_id}"));
    assert!(r.fails_with_one_line().contains("revoked already"));
    let r = admin("revoke --key 0123456789abcdef");
    assert!(r.fails_with_one_line().contains("no API key"));
    let r = admin(&format!("revoke --key {first}"));
    let line = r.fails_with_one_line();
    assert!(!line.contains(&first) && line.contains("key id"), "{line}");
    list_as(&first).json();

    // The table: ids and times, no secret.
    let table = admin("list").ok().to_string();
    let header = table.lines().next().unwrap_or_default();
    for col in ["KEY", "CREATED", "REVOKED"] {
        assert!(header.contains(col), "{table}");
    }
    assert!(table.contains(&second_id) && table.contains(" UTC"), "{table}");

    let n = |action: &str| {
        count(
            cwd,
            &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
        )
    };
    assert_eq!(n("api_key.created"), 2);
    assert_eq!(n("api_key.revoked"), 1);
    server.stop();
}

#[cfg(unix)]
#[test]
fn a_data_folder_others_can_read_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let data = cwd.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    for args in [
        "app create --data-dir data --name open --json",
        "serve --listen 127.0.0.1:0 --data-dir data",
    ] {
        let r = dyad(cwd, &[], &words(args));
        let line = r.fails_with_one_line();
        assert!(line.contains("chmod 700") && line.contains("data"), "{line}");
    }
    assert!(
        std::fs::read_dir(&data).unwrap().next().is_none(),
        "nothing was written"
    );
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    create_app(cwd, "closed");
    for name in ["dyad.db", "master.key"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}

#[test]
fn serve_prints_its_ceremony_key_and_a_client_pinned_to_another_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let server = Server::start(cwd);
    let printed = server.stderr.lock().unwrap().clone();
    let real = printed
        .lines()
        .find_map(|l| l.strip_prefix("dyad ceremony key "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no ceremony key line: {printed}"))
        .to_string();
    assert_0x_hex(&real, 64);
    let key = create_app(cwd, "pinning");
    let with_pin = |pin: &str, args: &[&str]| {
        dyad(
            cwd,
            &[
                ("DYAD_URL", server.url.as_str()),
                ("DYAD_API_KEY", key.as_str()),
                ("DYAD_SERVER_KEY", pin),
            ],
            args,
        )
    };
    let info = with_pin(&real, &words("info --json")).json();
    assert_eq!(info["ceremonyPublicKey"], json!(real));

    let wrong = format!("0x{}", "42".repeat(32));
    let create = "pregen create --email pin@example.com --type SOLANA --share-file pin.share --json";
    for args in ["info --json", create] {
        let r = with_pin(&wrong, &words(args));
        let line = r.fails_with_one_line();
        assert!(
            line.contains("pinned") && line.contains(&wrong) && line.contains(&real),
            "{line}"
        );
    }
    assert!(!cwd.join("pin.share").exists());
    let r = with_pin("0x1234", &words(create));
    assert!(r.fails_with_one_line().contains("DYAD_SERVER_KEY"));

    // The right pin: created and signed.
    let w = wallet(&with_pin(&real, &words(create)).json());
    let out = with_pin(&real, &sign_args(&w.id.to_string(), "pin.share", "--message", "pinned")).json();
    verify_message(&w, b"pinned", &signature(&out, &w)).unwrap();
    // The share is not for a client pinned to another key.
    let r = with_pin(&wrong, &sign_args(&w.id.to_string(), "pin.share", "--message", "x"));
    assert!(r.fails_with_one_line().contains("different Dyad server"));
    server.stop();
}

/// `dyad login email` as a child: it sends the code, says so on stderr, then reads the code
/// from standard input. The test reads the code from the outbox (as a developer would) once
/// the child has said it was sent, and types it in.
fn login_email(cwd: &Path, env: &[(&str, &str)], email: &str, session_file: &str) -> Value {
    let db = format!("sqlite://{}", cwd.join("data").join("dyad.db").display());
    login_email_on(cwd, env, email, session_file, &db)
}

/// [`login_email`] with the server's database (where the outbox is) at `db`.
fn login_email_on(cwd: &Path, env: &[(&str, &str)], email: &str, session_file: &str, db: &str) -> Value {
    let mut cmd = command(
        cwd,
        env,
        &[
            "login",
            "email",
            "--email",
            email,
            "--session-file",
            session_file,
            "--json",
        ],
    );
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawning dyad login");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    err.read_line(&mut said).unwrap();
    assert!(said.contains("code sent to"), "{said}");
    let body: String = with_url(db, |pool| async move {
        sqlx::query_scalar("SELECT body FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1")
            .bind(email)
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code in the message")
        .to_string();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{code}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(out.status.success(), "login failed: {said}{rest}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_person_logs_in_claims_and_signs_from_the_command_line() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "shop");
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let person_env = [("DYAD_URL", server.url.as_str())];

    // The app pregenerates and signs.
    let created = dyad(
        cwd,
        &env,
        &words("pregen create --email pat@example.com --type EVM --share-file app.share --json"),
    )
    .json();
    let w = wallet(&created);
    let out = dyad(
        cwd,
        &env,
        &sign_args(&w.id.to_string(), "app.share", "--message", "app"),
    )
    .json();
    verify_message(&w, b"app", &signature(&out, &w)).unwrap();
    std::fs::copy(cwd.join("app.share"), cwd.join("person.share")).unwrap();

    // The person logs in with the emailed code; the session file is private.
    let login = login_email(cwd, &env, "pat@example.com", "pat.session");
    assert_eq!(login["newUser"], json!(true), "{login}");
    assert_eq!(mode(&cwd.join("pat.session")), 0o600);

    // Claim: same address, new key version, a recovery secret, the share file rewritten.
    let before = std::fs::read_to_string(cwd.join("person.share")).unwrap();
    let claimed = dyad(
        cwd,
        &person_env,
        &words("claim --share-file person.share --session-file pat.session --email pat@example.com --json"),
    )
    .json();
    let c = &claimed["claimed"][0];
    let now = wallet(&c["wallet"]);
    assert_eq!(now.address, w.address);
    assert_eq!((now.status, now.key_version), (WalletStatus::Claimed, 2));
    assert!(
        c["recoverySecret"].as_str().unwrap().starts_with("dyad_recovery_"),
        "{claimed}"
    );
    assert_ne!(std::fs::read_to_string(cwd.join("person.share")).unwrap(), before);
    assert_eq!(share_entries(&cwd.join("person.share"))[0]["keyVersion"], json!(2));

    // The owner signs with the session; the standard verifier accepts it.
    let id = w.id.to_string();
    let mut owner_sign = sign_args(&id, "person.share", "--message", "mine").to_vec();
    owner_sign.extend(["--session-file", "pat.session"]);
    let out = dyad(cwd, &person_env, &owner_sign).json();
    verify_message(&now, b"mine", &signature(&out, &now)).unwrap();
    // The app's old share is refused, and so is the API key with the new share.
    let e = dyad(cwd, &env, &sign_args(&id, "app.share", "--message", "app again"));
    assert!(e.fails_with_one_line().contains("WALLET_CLAIMED"), "{}", e.stderr);
    let e = dyad(cwd, &env, &sign_args(&id, "person.share", "--message", "app again"));
    assert!(e.fails_with_one_line().contains("WALLET_CLAIMED"), "{}", e.stderr);

    // Another app: the person's wallet is not there until they grant it, in that app's session.
    let game_key = create_app(cwd, "game");
    let game_env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", game_key.as_str())];
    login_email(cwd, &game_env, "pat@example.com", "pat-game.session");
    let mut game_sign = sign_args(&id, "person.share", "--message", "in the game").to_vec();
    game_sign.extend(["--session-file", "pat-game.session"]);
    let e = dyad(cwd, &person_env, &game_sign);
    assert!(e.fails_with_one_line().contains("WALLET_NOT_FOUND"), "{}", e.stderr);
    let grant = dyad(
        cwd,
        &person_env,
        &[
            "grant",
            "create",
            "--session-file",
            "pat-game.session",
            "--wallet",
            &id,
            "--operations",
            "message",
            "--json",
        ],
    )
    .json();
    let grant_id = grant["id"].as_str().expect("grant id").to_string();
    let listed = dyad(
        cwd,
        &person_env,
        &words("grant list --session-file pat-game.session --json"),
    )
    .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let out = dyad(cwd, &person_env, &game_sign).json();
    verify_message(&now, b"in the game", &signature(&out, &now)).unwrap();
    dyad(
        cwd,
        &person_env,
        &[
            "grant",
            "revoke",
            "--session-file",
            "pat-game.session",
            "--grant",
            &grant_id,
            "--json",
        ],
    )
    .json();
    let e = dyad(cwd, &person_env, &game_sign);
    assert!(e.fails_with_one_line().contains("WALLET_NOT_FOUND"), "{}", e.stderr);
    // The app vouches for its own user by custom id.
    let custom = dyad(
        cwd,
        &env,
        &words("login custom --custom-id pat-42 --session-file custom.session --json"),
    )
    .json();
    assert_eq!(custom["identifiers"], json!([{ "customId": "pat-42" }]), "{custom}");

    // The session refreshes, exports and imports; after logout it is refused.
    dyad(
        cwd,
        &person_env,
        &words("session refresh --session-file pat.session --json"),
    )
    .json();
    let exported = dyad(cwd, &[], &words("session export --session-file pat.session"))
        .ok()
        .to_string();
    let mut import = command(cwd, &[], &["session", "import", "--session-file", "copy.session"]);
    import
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = import.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(exported.as_bytes()).unwrap();
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(mode(&cwd.join("copy.session")), 0o600);
    dyad(
        cwd,
        &person_env,
        &words("session logout --session-file pat.session --json"),
    )
    .json();
    assert!(!cwd.join("pat.session").exists());
    let mut copied_sign = sign_args(&id, "person.share", "--message", "after logout").to_vec();
    copied_sign.extend(["--session-file", "copy.session"]);
    let e = dyad(cwd, &person_env, &copied_sign);
    assert!(e.fails_with_one_line().contains("SESSION_INVALID"), "{}", e.stderr);
    server.stop();
}

/// A Telegram Login Widget payload for user `id`, signed with the bot token `token` as
/// Telegram's page script signs it (HMAC-SHA256 of the sorted fields under SHA-256(token)).
fn telegram_widget(id: u64, token: &str) -> Value {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let check = format!("auth_date={now}\nfirst_name=Pat\nid={id}");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&Sha256::digest(token.as_bytes())).unwrap();
    mac.update(check.as_bytes());
    json!({ "id": id, "first_name": "Pat", "auth_date": now, "hash": hex::encode(mac.finalize().into_bytes()) })
}

/// A stand-in OAuth 2.0 provider on port 0: `/authorize` redirects to the redirect URI with a
/// code (keeping the PKCE challenge), `/token` answers a token only for the verifier of that
/// challenge, `/userinfo` names `username`. Runs on a runtime of its own thread.
fn oauth_provider(username: &'static str) -> String {
    use axum::extract::{Form, Query};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::{get, post};
    use std::collections::HashMap;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let challenge: Arc<Mutex<Option<String>>> = Arc::default();
            let kept = challenge.clone();
            let app = axum::Router::new()
                .route(
                    "/authorize",
                    get(move |Query(q): Query<HashMap<String, String>>| {
                        let kept = kept.clone();
                        async move {
                            assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"));
                            *kept.lock().unwrap() = q.get("code_challenge").cloned();
                            let to = format!("{}?code=the-code&state={}", q["redirect_uri"], q["state"]);
                            Redirect::to(&to)
                        }
                    }),
                )
                .route(
                    "/token",
                    post(move |Form(f): Form<HashMap<String, String>>| {
                        let challenge = challenge.clone();
                        async move {
                            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
                            use sha2::{Digest, Sha256};
                            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                            let derived = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                            if f.get("code").map(String::as_str) != Some("the-code")
                                || challenge.lock().unwrap().as_deref() != Some(derived.as_str())
                            {
                                return (StatusCode::BAD_REQUEST, axum::Json(json!({ "error": "invalid_grant" })))
                                    .into_response();
                            }
                            axum::Json(json!({ "access_token": "tok", "token_type": "Bearer" })).into_response()
                        }
                    }),
                )
                .route(
                    "/userinfo",
                    get(move |h: HeaderMap| async move {
                        if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer tok") {
                            return StatusCode::UNAUTHORIZED.into_response();
                        }
                        axum::Json(json!({ "username": username })).into_response()
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap())).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

#[test]
fn telegram_and_discord_logins_from_the_command_line() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    std::fs::write(cwd.join("bot.token"), "123456:test-bot-token").unwrap();
    std::fs::write(cwd.join("discord.secret"), "client-secret").unwrap();
    let provider = oauth_provider("pat_discord");
    let endpoints = format!("{provider}/authorize,{provider}/token,{provider}/userinfo");
    let server = Server::start_with(
        cwd,
        &[
            "--telegram-bot-token-file",
            "bot.token",
            "--oauth-discord-client-id",
            "client-id",
            "--oauth-discord-client-secret-file",
            "discord.secret",
            "--oauth-discord-endpoints",
            &endpoints,
        ],
    );
    let key = create_app(cwd, "shop");
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];

    // Telegram: the widget's data logs in; the person claims the wallet made for their id.
    let created = dyad(
        cwd,
        &env,
        &words("pregen create --telegram-user-id 4242 --type SOLANA --share-file tg.share --json"),
    )
    .json();
    let w = wallet(&created);
    let data = telegram_widget(4242, "123456:test-bot-token").to_string();
    let login = dyad(
        cwd,
        &env,
        &[
            "login",
            "telegram",
            "--widget-data",
            &data,
            "--session-file",
            "tg.session",
            "--json",
        ],
    )
    .json();
    assert_eq!(login["identifiers"], json!([{ "telegramUserId": "4242" }]), "{login}");
    let claimed = dyad(
        cwd,
        &[("DYAD_URL", server.url.as_str())],
        &words("claim --share-file tg.share --session-file tg.session --json"),
    )
    .json();
    assert_eq!(wallet(&claimed["claimed"][0]["wallet"]).address, w.address);
    // A forged hash is refused.
    let mut forged = telegram_widget(4242, "another-token");
    forged["first_name"] = json!("Pat");
    let e = dyad(
        cwd,
        &env,
        &[
            "login",
            "telegram",
            "--widget-data",
            &forged.to_string(),
            "--session-file",
            "x.session",
        ],
    );
    assert!(e.fails_with_one_line().contains("LOGIN_REJECTED"), "{}", e.stderr);

    // Discord: the CLI prints the authorization URL and waits on a local port; the "browser"
    // follows it to the provider, whose redirect comes back to the CLI.
    let mut cmd = command(
        cwd,
        &env,
        &["login", "discord", "--session-file", "d.session", "--json"],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let url = line.rsplit(": ").next().unwrap().trim().to_string();
    assert!(url.starts_with(&provider), "{line}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap();
        let page = browser.get(&url).send().await.unwrap();
        assert!(page.status().is_success());
        assert!(page.text().await.unwrap().contains("close this window"));
    });
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(out.status.success(), "discord login failed: {line}{rest}");
    let login: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        login["identifiers"],
        json!([{ "discordUsername": "pat_discord" }]),
        "{login}"
    );
    assert_eq!(mode(&cwd.join("d.session")), 0o600);
    server.stop();
}

#[test]
fn wallets_are_created_into_a_vault_signed_from_it_and_the_vault_rekeyed() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "shop");
    let vault_key = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let env = [
        ("DYAD_URL", server.url.as_str()),
        ("DYAD_API_KEY", key.as_str()),
        ("DYAD_VAULT_KEY", vault_key.as_str()),
    ];
    let created = dyad(
        cwd,
        &env,
        &words("pregen create-per-type --email v@example.com --types EVM,SOLANA --vault app.vault --json"),
    )
    .json();
    let ws = wallets(&created);
    assert_eq!(mode(&cwd.join("app.vault")), 0o600);
    let listed = dyad(cwd, &env, &words("vault list --vault app.vault --json")).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert!(
        !listed.to_string().contains("\"share\""),
        "a listing holds no share: {listed}"
    );
    for w in &ws {
        sign_from_vault(cwd, &env, w, "app.vault", "vaulted");
    }
    // Without the key the vault is useless; with another key it is refused by name.
    let no_key = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let e = dyad(cwd, &no_key, &words("vault list --vault app.vault"));
    assert!(e.fails_with_one_line().contains("DYAD_VAULT_KEY"), "{}", e.stderr);
    let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let wrong = [("DYAD_VAULT_KEY", other.as_str())];
    let e = dyad(cwd, &wrong, &words("vault list --vault app.vault"));
    assert!(
        e.fails_with_one_line().contains("sealed with vault key"),
        "{}",
        e.stderr
    );

    // Rekey to a new key written to a file; the old key no longer opens it, the new one signs.
    let rekeyed = dyad(
        cwd,
        &env,
        &words("vault rekey --vault app.vault --new-key-file new.key --json"),
    )
    .json();
    assert_eq!(rekeyed["records"], json!(2), "{rekeyed}");
    assert_eq!(mode(&cwd.join("new.key")), 0o600);
    let e = dyad(cwd, &env, &words("vault list --vault app.vault"));
    assert!(
        e.fails_with_one_line().contains("sealed with vault key"),
        "{}",
        e.stderr
    );
    let id = ws[0].id.to_string();
    let out = dyad(
        cwd,
        &no_key,
        &[
            "sign",
            "message",
            "--wallet",
            &id,
            "--vault",
            "app.vault",
            "--vault-key-file",
            "new.key",
            "--message",
            "rekeyed",
            "--json",
        ],
    )
    .json();
    verify_message(&ws[0], b"rekeyed", &signature(&out, &ws[0])).unwrap();
    // `vault export`: one JSON line per record, with its share.
    let exported = dyad(
        cwd,
        &no_key,
        &["vault", "export", "--vault", "app.vault", "--vault-key-file", "new.key"],
    )
    .ok()
    .to_string();
    let lines: Vec<Value> = exported.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["share"].as_str().is_some_and(|s| !s.is_empty())));
    // `vault get` hands one wallet's share over (for a claim, say).
    let share = dyad(
        cwd,
        &no_key,
        &[
            "vault",
            "get",
            "--vault",
            "app.vault",
            "--vault-key-file",
            "new.key",
            "--wallet",
            &id,
        ],
    )
    .ok()
    .to_string();
    std::fs::write(cwd.join("one.share"), share.trim()).unwrap();
    assert_eq!(share_entries(&cwd.join("one.share")).len(), 1);
    server.stop();
}

/// A fresh PostgreSQL schema (`DATABASE_URL`), or `None` (the test is skipped) outside CI.
fn postgres() -> Option<dyad_test_support::postgres::TestDatabase> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(dyad_test_support::postgres::TestDatabase::create())
}

#[test]
fn two_replicas_on_one_postgres_pregenerate_sign_and_claim_across_each_other() {
    let Some(pg) = postgres() else { return };
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let db = ["--database-url", pg.url.as_str()];
    // Both replicas read the master key from the same data folder (a shared secret in
    // production); the first one started makes it.
    let a = Server::start_with(cwd, &db);
    let b = Server::start_with(cwd, &db);
    assert_ne!(a.url, b.url);
    let app = dyad(
        cwd,
        &[("DYAD_DATABASE_URL", pg.url.as_str())],
        &words("app create --data-dir data --name shop --env beta --json"),
    )
    .json();
    let key = app["apiKey"].as_str().unwrap().to_string();
    let env_a = [("DYAD_URL", a.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let env_b = [("DYAD_URL", b.url.as_str()), ("DYAD_API_KEY", key.as_str())];

    // Pregenerated through A, signed through B.
    let created = dyad(
        cwd,
        &env_a,
        &words("pregen create --email pat@example.com --type EVM --share-file app.share --json"),
    )
    .json();
    let w = wallet(&created);
    let id = w.id.to_string();
    let out = dyad(cwd, &env_b, &sign_args(&id, "app.share", "--message", "via b")).json();
    verify_message(&w, b"via b", &signature(&out, &w)).unwrap();
    let listed = wallets(&dyad(cwd, &env_b, &words("pregen list --email pat@example.com --json")).json());
    assert_eq!(listed.iter().map(|l| l.id).collect::<Vec<_>>(), [w.id]);

    // Creates of one identifier through both replicas at once: one wallet, the others told.
    let runs: Vec<Run> = (0..4)
        .map(|i| {
            let url = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let (key, cwd) = (key.clone(), cwd.to_path_buf());
            std::thread::spawn(move || {
                let file = format!("same-{i}.share");
                dyad(
                    &cwd,
                    &[("DYAD_URL", url.as_str()), ("DYAD_API_KEY", key.as_str())],
                    &[
                        "pregen",
                        "create",
                        "--email",
                        "same@example.com",
                        "--type",
                        "SOLANA",
                        "--share-file",
                        &file,
                        "--json",
                    ],
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let won: Vec<&Run> = runs.iter().filter(|r| r.status.success()).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one create wins: {:?}",
        runs.iter().map(|r| &r.stderr).collect::<Vec<_>>()
    );
    for lost in runs.iter().filter(|r| !r.status.success()) {
        let line = lost.fails_with_one_line();
        assert!(
            line.contains("WALLET_EXISTS") || line.contains("CEREMONY_IN_PROGRESS"),
            "{line}"
        );
    }
    let same = with_url(&pg.url, |pool| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM wallets WHERE pregen_value = 'same@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(same, 1);

    // Claimed through A (the code read from the shared outbox), then the owner signs through B
    // and the app's old share is refused there.
    std::fs::copy(cwd.join("app.share"), cwd.join("person.share")).unwrap();
    login_email_on(cwd, &env_a, "pat@example.com", "pat.session", &pg.url);
    let claimed = dyad(
        cwd,
        &[("DYAD_URL", a.url.as_str())],
        &words("claim --share-file person.share --session-file pat.session --email pat@example.com --json"),
    )
    .json();
    let now = wallet(&claimed["claimed"][0]["wallet"]);
    assert_eq!((now.status, now.key_version), (WalletStatus::Claimed, 2));
    let mut owner_sign = sign_args(&id, "person.share", "--message", "mine").to_vec();
    owner_sign.extend(["--session-file", "pat.session"]);
    let out = dyad(cwd, &[("DYAD_URL", b.url.as_str())], &owner_sign).json();
    verify_message(&now, b"mine", &signature(&out, &now)).unwrap();
    let e = dyad(cwd, &env_b, &sign_args(&id, "app.share", "--message", "app again"));
    assert!(e.fails_with_one_line().contains("WALLET_CLAIMED"), "{}", e.stderr);
    a.stop();
    b.stop();
}

#[test]
fn migrate_moves_an_embedded_deployment_to_postgres_and_every_wallet_still_signs() {
    let Some(pg) = postgres() else { return };
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "shop");
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    let mut made = Vec::new();
    for (n, t) in ["EVM", "SOLANA", "COSMOS", "STELLAR"].iter().enumerate() {
        let file = format!("w{n}.share");
        let created = dyad(
            cwd,
            &env,
            &[
                "pregen",
                "create",
                "--email",
                &format!("p{n}@example.com"),
                "--type",
                t,
                "--share-file",
                &file,
                "--json",
            ],
        )
        .json();
        made.push((wallet(&created), file));
    }
    server.stop();

    let from = format!("sqlite:{}", cwd.join("data").join("dyad.db").display());
    // A missing source is refused before anything is made; so are a PostgreSQL source, the
    // same file twice, and a URL of neither kind.
    let e = dyad(cwd, &[], &["migrate", "--from", "sqlite:nowhere.db", "--to", &pg.url]);
    assert!(e.fails_with_one_line().contains("does not exist"), "{}", e.stderr);
    assert!(!cwd.join("nowhere.db").exists());
    let e = dyad(cwd, &[], &["migrate", "--from", &pg.url, "--to", &pg.url]);
    assert!(
        e.fails_with_one_line().contains("--from must be a SQLite database"),
        "{}",
        e.stderr
    );
    let e = dyad(cwd, &[], &["migrate", "--from", &from, "--to", &from]);
    assert!(e.fails_with_one_line().contains("the same database"), "{}", e.stderr);
    let e = dyad(cwd, &[], &["migrate", "--from", &from, "--to", "mysql://db/x"]);
    assert!(
        !e.status.success() && e.stderr.contains("sqlite: or postgres://"),
        "{}",
        e.stderr
    );
    let moved = dyad(cwd, &[], &["migrate", "--from", &from, "--to", &pg.url, "--json"]).json();
    assert_eq!(moved["rows"]["wallets"], json!(4), "{moved}");
    assert_eq!(moved["rows"]["cloud_shares"], json!(4), "{moved}");
    assert_eq!(moved["rows"]["apps"], json!(1), "{moved}");
    assert!(!moved.to_string().contains("password"), "{moved}");
    // Into a database that holds data: refused, nothing added.
    let e = dyad(cwd, &[], &["migrate", "--from", &from, "--to", &pg.url]);
    assert!(e.fails_with_one_line().contains("already holds data"), "{}", e.stderr);

    // The new deployment: same master key (the data folder's), the database on PostgreSQL. The
    // SQLite file is moved away so nothing can come from it.
    std::fs::rename(cwd.join("data").join("dyad.db"), cwd.join("old.db")).unwrap();
    let server = Server::start_with(cwd, &["--database-url", &pg.url]);
    let env = [("DYAD_URL", server.url.as_str()), ("DYAD_API_KEY", key.as_str())];
    for (w, file) in &made {
        let out = dyad(cwd, &env, &sign_args(&w.id.to_string(), file, "--message", "moved")).json();
        verify_message(w, b"moved", &signature(&out, w)).unwrap();
    }
    let listed = wallets(&dyad(cwd, &env, &words("pregen list --json")).json());
    assert_eq!(listed.len(), 4);
    assert!(
        !cwd.join("data").join("dyad.db").exists(),
        "the server opened no SQLite file"
    );
    server.stop();
}

/// `pregen bulk` killed midway and run again: every person ends with exactly one wallet per
/// type, every wallet's share is in the vault and signs, a third run creates nothing, and the
/// bad rows are reported by row number without stopping the run.
#[test]
fn bulk_pregeneration_survives_a_kill_and_resumes_without_duplicates() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "shop");
    let vault_key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let env = [
        ("DYAD_URL", server.url.as_str()),
        ("DYAD_API_KEY", key.as_str()),
        ("DYAD_VAULT_KEY", vault_key.as_str()),
    ];
    // 14 people by email, phone or custom id; row 5 has a malformed email, row 9 nothing, row
    // 18 repeats row 4, and the `nickname` column is not an identifier.
    let mut csv = String::from("email,phone,custom_id,nickname\n");
    let mut people = Vec::new();
    for i in 0..16 {
        let line = match i {
            3 => "not-an-email,,,bad".to_string(),
            7 => ",,,nobody".to_string(),
            i if i % 3 == 0 => format!(",+1555000{i:04},,p{i}"),
            i if i % 3 == 1 => format!(",,user-{i},p{i}"),
            i => format!("Person{i}@Example.com,,,p{i}"),
        };
        if i != 3 && i != 7 {
            let id = match i % 3 {
                0 => PregenId::parse("phone", &format!("+1555000{i:04}")),
                1 => PregenId::parse("customId", &format!("user-{i}")),
                _ => PregenId::parse("email", &format!("person{i}@example.com")),
            };
            people.push(id.unwrap());
        }
        csv.push_str(&line);
        csv.push('\n');
    }
    // Row 18: row 4's person again, spelled otherwise.
    csv.push_str("PERSON2@example.com,,,again\n");
    std::fs::write(cwd.join("people.csv"), csv).unwrap();
    let args = words("pregen bulk --csv people.csv --types EVM,SOLANA --vault app.vault --concurrency 4 --json");
    let want = (people.len() * 2) as u64;

    // First run: killed (SIGKILL) once a quarter of the wallets are done, by its own progress.
    let mut cmd = command(cwd, &env, &args);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "bulk ended before the kill");
        let Some(progress) = line.strip_prefix("bulk: ") else {
            continue;
        };
        let done: u64 = progress.split('/').next().unwrap().parse().unwrap();
        if done >= want / 4 {
            break;
        }
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());

    // Resumed with the same command: the rest are made, the bad rows reported, exit status 1.
    let summary = |run: &Run| -> Value {
        assert!(!run.status.success(), "bad rows make the run fail: {}", run.stdout);
        assert!(run.stderr.contains("run the same command again"), "{}", run.stderr);
        serde_json::from_str(run.stdout.trim()).unwrap()
    };
    let second = summary(&dyad(cwd, &env, &args));
    let created = second["created"].as_u64().unwrap();
    let skipped = second["skipped"].as_u64().unwrap();
    assert_eq!(created + skipped, want, "{second}");
    assert!(skipped >= want / 4, "what the first run made is skipped: {second}");
    let failed = second["failed"].as_array().unwrap();
    let rows: Vec<u64> = failed.iter().map(|f| f["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [1, 5, 9, 18], "{second}");
    assert!(failed[0]["error"].as_str().unwrap().contains("nickname"), "{second}");
    assert!(
        failed[3]["error"].as_str().unwrap().contains("same person as row 4"),
        "{second}"
    );
    assert!(second["seconds"].as_f64().unwrap() > 0.0);

    // A third run makes nothing.
    let third = summary(&dyad(cwd, &env, &args));
    assert_eq!(
        (third["created"].as_u64(), third["skipped"].as_u64()),
        (Some(0), Some(want)),
        "{third}"
    );

    // Exactly one wallet per person and type; each signs from the vault.
    let all = wallets(&dyad(cwd, &env, &words("pregen list --json")).json());
    assert_eq!(all.len() as u64, want);
    let pairs: BTreeSet<(String, &str)> = all
        .iter()
        .map(|w| (format!("{:?}", w.pregen_id), w.wallet_type.as_str()))
        .collect();
    assert_eq!(pairs.len() as u64, want, "no person has two wallets of a type");
    for p in &people {
        for t in [WalletType::Evm, WalletType::Solana] {
            assert!(
                pairs.contains(&(format!("{p:?}"), t.as_str())),
                "{p:?} has a {t:?} wallet"
            );
        }
    }
    for w in &all {
        sign_from_vault(cwd, &env, w, "app.vault", "bulk");
    }
    server.stop();
}

/// `pregen bulk --setup-pool`: the pool is filled before the run, its setups are used by EVM
/// keys (each named in its `wallet.create_requested`, none twice), Solana keys make none, and
/// every wallet signs from the vault.
#[test]
fn bulk_pregeneration_uses_the_warm_setup_pool() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "pool");
    let vault_key = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
    let env = [
        ("DYAD_URL", server.url.as_str()),
        ("DYAD_API_KEY", key.as_str()),
        ("DYAD_VAULT_KEY", vault_key.as_str()),
    ];
    let mut csv = String::from("email\n");
    for i in 0..4 {
        csv.push_str(&format!("pool{i}@example.com\n"));
    }
    std::fs::write(cwd.join("people.csv"), csv).unwrap();
    let args = words(
        "pregen bulk --csv people.csv --types EVM,SOLANA --vault app.vault --concurrency 2 --setup-pool 2 --json",
    );
    let out = dyad(cwd, &env, &args).json();
    assert_eq!(out["created"], 8, "{out}");
    let named = |what: &str, wallet_type: &str| {
        count(
            cwd,
            &format!(
                "SELECT {what} FROM audit_log WHERE action = 'wallet.create_requested' \
                 AND json_extract(detail, '$.type') = '{wallet_type}' \
                 AND json_extract(detail, '$.keySetupId') IS NOT NULL"
            ),
        )
    };
    let used = named("COUNT(*)", "EVM");
    // The two made before the run at least; more if the refill kept up.
    assert!((2..=4).contains(&used), "the EVM keys used the pool's setups: {used}");
    assert_eq!(
        named("COUNT(DISTINCT json_extract(detail, '$.keySetupId'))", "EVM"),
        used,
        "no setup served two keys"
    );
    let solana = named("COUNT(*)", "SOLANA");
    assert_eq!(solana, 0, "Ed25519 keys take no setup");
    let all = wallets(&dyad(cwd, &env, &words("pregen list --json")).json());
    assert_eq!(all.len(), 8);
    for w in &all {
        sign_from_vault(cwd, &env, w, "app.vault", "pooled bulk");
    }
    server.stop();
}

/// `POST /v1/wallets` to the agent at `url`: the status and body.
async fn agent_create(http: &reqwest::Client, url: &str, key: &str, email: &str) -> reqwest::Result<(u16, Value)> {
    let r = http
        .post(format!("{url}/v1/wallets"))
        .header("x-api-key", key)
        .json(&json!({"type": "EVM", "userIdentifier": email, "userIdentifierType": "EMAIL"}))
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await?))
}

#[test]
fn an_agent_killed_during_creates_leaves_each_wallet_whole_or_absent() {
    let dir = dyad_test_support::private_tempdir();
    let cwd = dir.path();
    let server = Server::start(cwd);
    let key = create_app(cwd, "agent");
    let vault_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let env = [
        ("DYAD_URL", server.url.as_str()),
        ("DYAD_API_KEY", key.as_str()),
        ("DYAD_VAULT_KEY", vault_key.as_str()),
    ];
    let made = dyad(cwd, &[], &words("agent key create --keys agent.keys"));
    assert!(made.status.success(), "{}", made.stderr);
    let agent_key = made.stdout.trim().to_string();
    assert!(agent_key.starts_with("dyad_agent_"), "{agent_key}");
    let agent_args = words("agent --listen 127.0.0.1:0 --keys agent.keys --vault app.vault --state agent.db");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let people: Vec<String> = (0..6).map(|i| format!("killed{i}@example.com")).collect();

    // Six EVM creates at once; the agent is SIGKILLed as soon as the first is answered, with
    // the others somewhere in their ceremonies.
    let agent = Server::spawn(command(cwd, &env, &agent_args));
    let first = rt.block_on(async {
        let mut creates = tokio::task::JoinSet::new();
        for p in &people {
            let (http, url, key, p) = (http.clone(), agent.url.clone(), agent_key.clone(), p.clone());
            creates.spawn(async move { agent_create(&http, &url, &key, &p).await });
        }
        creates.join_next().await.unwrap().unwrap().unwrap()
    });
    assert_eq!(first.0, 201, "{}", first.1);
    drop(agent);

    // Restarted on the same vault and state.
    let agent = Server::spawn(command(cwd, &env, &agent_args));
    let in_vault: BTreeSet<String> = dyad(cwd, &env, &words("vault list --vault app.vault --json"))
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["walletId"].as_str().unwrap().to_string())
        .collect();
    // Every wallet the server committed has its share in the vault, and signs through the agent.
    let committed = wallets(&dyad(cwd, &env, &words("pregen list --json")).json());
    assert!(!committed.is_empty());
    rt.block_on(async {
        for w in &committed {
            assert!(
                in_vault.contains(&w.id.to_string()),
                "wallet {} has no share in the vault",
                w.id
            );
            let r = http
                .post(format!("{}/v1/wallets/{}/sign-message", agent.url, w.id))
                .header("x-api-key", &agent_key)
                .json(&json!({"message": "after the kill"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let body: Value = r.json().await.unwrap();
            let sig = hex::decode(body["signature"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            verify_message(w, b"after the kill", &sig).unwrap();
        }
    });
    // Everyone else's identifier is free again: their wallet can be made now (once the server
    // has seen the killed agent's ceremonies end; it reports them in progress until then).
    let has: BTreeSet<String> = committed.iter().map(|w| w.pregen_id.value().to_string()).collect();
    rt.block_on(async {
        for p in people.iter().filter(|p| !has.contains(*p)) {
            let deadline = std::time::Instant::now() + Duration::from_secs(90);
            loop {
                let (status, body) = agent_create(&http, &agent.url, &agent_key, p).await.unwrap();
                if status == 409 && body["code"] == "CEREMONY_IN_PROGRESS" && std::time::Instant::now() < deadline {
                    tokio::task::yield_now().await;
                    continue;
                }
                assert_eq!(status, 201, "{p}: {body}");
                break;
            }
        }
    });
    let all = wallets(&dyad(cwd, &env, &words("pregen list --json")).json());
    let owners: BTreeSet<String> = all.iter().map(|w| w.pregen_id.value().to_string()).collect();
    assert_eq!(
        (all.len(), owners.len()),
        (people.len(), people.len()),
        "one wallet each"
    );
    agent.stop();
    server.stop();
}
