//! The agent end to end over HTTP: a real Dyad server on port 0, the agent on port 0 with a
//! vault file, and plain JSON requests in Para's shapes (no SDK on the caller's side).
//! Signatures are checked with independent verifiers (ecrecover, ed25519 `verify_strict`).

use dyad_agent::{Agent, AgentKey, AgentKeys, AgentState, Audit, Exposure, Idempotency, RunningAgent};
use dyad_proto::{Environment, WalletId};
use dyad_server::{AppState, DataDir, ServerConfig};
use dyad_test_support::fixtures::{eip155_signing_hash, mail_typed_data, MAIL_DIGEST_HEX};
use dyad_test_support::private_tempdir;
use dyad_test_support::verify::{ed25519_verify_strict, eip191_digest, recover_evm_address};
use dyad_vault::{ShareVault, VaultKey};
use serde_json::{json, Value};

struct Setup {
    _dir: tempfile::TempDir,
    server: dyad_server::RunningServer,
    api_key: String,
    /// The agent's audit log, opened a second time to read it.
    audit: Audit,
    agent: RunningAgent,
    key: AgentKey,
    /// The agent's vault, opened a second time to look into it.
    vault: ShareVault,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    setup_with(false).await
}

/// An agent that hands shares over (`--allow-share-export`) when `share_export`.
async fn setup_with(share_export: bool) -> Setup {
    let dir = private_tempdir();
    let data = DataDir::new(dir.path().join("server")).unwrap();
    let store = data.open_store().await.unwrap();
    let master = data.master_key_from_env_or_file().unwrap();
    let state = AppState::new(store.clone(), &master, ServerConfig::default())
        .await
        .unwrap();
    let server = dyad_server::spawn(state, "127.0.0.1:0").await.unwrap();
    let (_, api_key) = dyad_server::api_key::create_app(store.as_ref(), "agent", Environment::Beta)
        .await
        .unwrap();
    let vault_key = VaultKey::random();
    let path = dir.path().join("shares.vault");
    let vault = ShareVault::open(&path, VaultKey::from_base64(&vault_key.to_base64()).unwrap())
        .await
        .unwrap();
    let mut agent = Agent::connect(&server.url(), api_key.expose(), vault, None)
        .await
        .unwrap();
    let key = AgentKey::random();
    let state = AgentState::open(&dir.path().join("agent.db")).await.unwrap();
    let idempotency = Idempotency::open(&state).await.unwrap();
    if share_export {
        agent = agent.with_share_export(Audit::new(&state));
    }
    let audit = Audit::new(&AgentState::open(&dir.path().join("agent.db")).await.unwrap());
    let agent = dyad_agent::spawn(
        agent,
        AgentKeys::of(&[&key]),
        idempotency,
        "127.0.0.1:0".parse().unwrap(),
        Exposure::Loopback,
    )
    .await
    .unwrap();
    let vault = ShareVault::open(&path, vault_key).await.unwrap();
    Setup {
        _dir: dir,
        server,
        api_key: api_key.expose().to_string(),
        audit,
        agent,
        key,
        vault,
        http: reqwest::Client::new(),
    }
}

impl Setup {
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.header("x-api-key", self.key.expose()).send().await.unwrap();
        assert!(r.headers().contains_key("x-request-id"));
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.agent.url())
    }

    async fn vault_count(&self) -> usize {
        self.vault.list().await.unwrap().len()
    }
}

fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn para_shaped_creates_and_signatures_through_the_agent_verify_independently() {
    let s = setup().await;

    // EVM: 201 in Para's shape, the share in the vault, a duplicate named in a 409.
    let body = json!({"type": "EVM", "userIdentifier": "Ann@Example.com", "userIdentifierType": "EMAIL"});
    let (status, evm) = s.post("/v1/wallets", &body).await;
    assert_eq!(status, 201, "{evm}");
    assert_eq!(evm["type"], "EVM");
    assert_eq!(evm["scheme"], "DKLS");
    assert_eq!(evm["status"], "ready");
    assert_eq!(evm["userIdentifier"], "ann@example.com");
    assert_eq!(evm["userIdentifierType"], "EMAIL");
    assert!(evm["createdAt"].as_str().unwrap().ends_with('Z'), "{evm}");
    let id: WalletId = evm["id"].as_str().unwrap().parse().unwrap();
    assert!(s.vault.get(id).await.unwrap().is_some());
    let (status, dup) = s.post("/v1/wallets", &body).await;
    assert_eq!(status, 409, "{dup}");
    assert_eq!(dup["code"], "WALLET_ALREADY_EXISTS");
    assert_eq!(dup["walletId"], evm["id"]);
    let (status, got) = s.get(&format!("/v1/wallets/{id}")).await;
    assert_eq!((status, &got), (200, &evm));

    // EIP-191 over the text, recovered to the wallet's address.
    let (status, signed) = s
        .post(
            &format!("/v1/wallets/{id}/sign-message"),
            &json!({"message": "hello agent"}),
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let sig = signed["signature"].as_str().unwrap();
    assert!(sig.starts_with("0x"));
    let recovered = recover_evm_address(&eip191_digest(b"hello agent"), &hex_bytes(sig));
    assert_eq!(
        recovered.to_lowercase(),
        evm["address"].as_str().unwrap().to_lowercase()
    );

    // Solana: the bytes as base64, verified strictly under the wallet's key.
    let (status, sol) = s
        .post(
            "/v1/wallets",
            &json!({"type": "SOLANA", "userIdentifier": "bot-7", "userIdentifierType": "CUSTOM_ID"}),
        )
        .await;
    assert_eq!(status, 201, "{sol}");
    assert_eq!(sol["scheme"], "ED25519");
    let message = b"off-chain hello";
    use base64::Engine;
    let (status, signed) = s
        .post(
            &format!("/v1/wallets/{}/sign-message", sol["id"].as_str().unwrap()),
            &json!({"messageBase64": base64::engine::general_purpose::STANDARD.encode(message)}),
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let public_key = hex_bytes(sol["publicKey"].as_str().unwrap());
    ed25519_verify_strict(&public_key, message, &hex_bytes(signed["signature"].as_str().unwrap())).unwrap();
    assert_eq!(s.vault_count().await, 2);

    // Listing: all the wallets this agent holds, or one identifier's.
    let (status, all) = s.get("/v1/wallets").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["wallets"].as_array().unwrap().len(), 2);
    let (status, ann) = s
        .get("/v1/wallets?userIdentifier=ANN%40example.com&userIdentifierType=EMAIL")
        .await;
    assert_eq!(status, 200, "{ann}");
    assert_eq!(ann["wallets"], json!([evm]));
    let (status, half) = s.get("/v1/wallets?userIdentifier=x").await;
    assert_eq!(
        (status, half["code"].as_str()),
        (400, Some("INVALID_REQUEST")),
        "{half}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evm_transactions_typed_data_and_raw_digests_sign_as_para_answers_them() {
    let s = setup().await;
    let (status, evm) = s
        .post(
            "/v1/wallets",
            &json!({"type": "EVM", "userIdentifier": "tx@example.com", "userIdentifierType": "EMAIL"}),
        )
        .await;
    assert_eq!(status, 201, "{evm}");
    let id = evm["id"].as_str().unwrap();
    let address = evm["address"].as_str().unwrap().to_lowercase();

    // EIP-155's example transaction as Para's JSON object: signed over the spec's own signing
    // hash, and answered ready to broadcast.
    let tx = json!({"to": "0x3535353535353535353535353535353535353535", "chainId": "0x1", "type": 0,
        "nonce": "0x9", "gasLimit": "0x5208", "gasPrice": "0x4a817c800", "value": "0xde0b6b3a7640000"});
    let (status, signed) = s
        .post(
            &format!("/v1/wallets/{id}/sign-transaction"),
            &json!({"transaction": tx}),
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let signature = hex_bytes(signed["signature"].as_str().unwrap());
    assert_eq!(recover_evm_address(&eip155_signing_hash(), &signature), address);
    let raw = hex_bytes(signed["signedTransaction"].as_str().unwrap());
    assert!(
        raw.windows(32).any(|w| w == &signature[..32]),
        "r is in the raw transaction"
    );

    // The same as unsigned hex needs its chain id; a transaction for another chain is refused.
    let hex_tx = format!("0x{}", dyad_test_support::fixtures::EIP155_UNSIGNED);
    let (status, body) = s
        .post(
            &format!("/v1/wallets/{id}/sign-transaction"),
            &json!({"transaction": hex_tx}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST")),
        "{body}"
    );
    let (status, body) = s
        .post(
            &format!("/v1/wallets/{id}/sign-transaction"),
            &json!({"transaction": hex_tx, "chainId": 5}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("CHAIN_ID_MISMATCH")),
        "{body}"
    );

    // EIP-712's Mail example: hex without 0x, as Para answers it, over the spec's digest.
    let (status, signed) = s
        .post(
            &format!("/v1/wallets/{id}/sign-typed-data"),
            &json!({"typedData": mail_typed_data()}),
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let sig = signed["signature"].as_str().unwrap();
    assert!(!sig.starts_with("0x"));
    let digest: [u8; 32] = hex::decode(MAIL_DIGEST_HEX).unwrap().try_into().unwrap();
    assert_eq!(recover_evm_address(&digest, &hex_bytes(sig)), address);

    // A raw digest: off for the app by default, and the server's refusal keeps its code.
    let (status, body) = s
        .post(
            &format!("/v1/wallets/{id}/sign-raw"),
            &json!({"data": format!("0x{}", "11".repeat(32))}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("RAW_SIGNING_DISABLED")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_need_an_agent_key_and_bad_input_gets_a_code_and_writes_nothing() {
    let s = setup().await;
    let create = json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL"});

    // No key, a wrong key, the Dyad API key's shape: refused before anything runs.
    let r = s.http.post(s.url("/v1/wallets")).json(&create).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().contains_key("x-request-id"));
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "MISSING_API_KEY");
    let r = s
        .http
        .post(s.url("/v1/wallets"))
        .header("x-api-key", AgentKey::random().expose())
        .header("x-request-id", "trace-42")
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(r.headers()["x-request-id"], "trace-42");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "INVALID_API_KEY");

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (s.http.post(s.url("/v1/wallets")).body("{not json"), 400, "INVALID_JSON"),
        (
            s.http
                .post(s.url("/v1/wallets"))
                .json(&json!({"type": "DOGE", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL"})),
            400,
            "INVALID_REQUEST",
        ),
        (
            s.http
                .post(s.url("/v1/wallets"))
                .json(&json!({"type": "EVM", "userIdentifier": "g-1", "userIdentifierType": "GUEST_ID"})),
            400,
            "UNSUPPORTED",
        ),
        (
            s.http.post(s.url("/v1/wallets")).json(
                &json!({"type": "EVM", "userIdentifier": "x".repeat(300_000), "userIdentifierType": "CUSTOM_ID"}),
            ),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            s.http.get(s.url(&format!("/v1/wallets/{}", WalletId::random()))),
            404,
            "WALLET_NOT_FOUND",
        ),
        (s.http.get(s.url("/v1/wallets/not-an-id")), 400, "INVALID_REQUEST"),
        (
            s.http
                .post(s.url(&format!("/v1/wallets/{}/sign-message", WalletId::random())))
                .json(&json!({"message": "hi"})),
            404,
            "WALLET_NOT_FOUND",
        ),
        (s.http.get(s.url("/v1/nothing")), 404, "NOT_FOUND"),
    ];
    for (req, status, code) in cases {
        let (got, body) = s.send(req).await;
        assert_eq!((got, body["code"].as_str().unwrap()), (status, code), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    assert_eq!(s.vault_count().await, 0, "a refused request wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_answers_the_first_time_again_and_runs_nothing() {
    let s = setup().await;
    let body = json!({"type": "SOLANA", "userIdentifier": "once@example.com", "userIdentifierType": "EMAIL"});
    let post = |key: &str, body: &Value| {
        s.http
            .post(s.url("/v1/wallets"))
            .header("idempotency-key", key)
            .json(body)
    };
    let (status, first) = s.send(post("k-1", &body)).await;
    assert_eq!(status, 201, "{first}");
    let again = post("k-1", &body)
        .header("x-api-key", s.key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the first answer, byte for byte"
    );
    assert_eq!(s.vault_count().await, 1, "no second wallet");

    // The same key with another body: 422, and nothing made.
    let other = json!({"type": "EVM", "userIdentifier": "once@example.com", "userIdentifierType": "EMAIL"});
    let (status, refused) = s.send(post("k-1", &other)).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("IDEMPOTENCY_KEY_REUSED")),
        "{refused}"
    );
    // Without the key the duplicate runs, and is the server's 409 naming the wallet.
    let (status, dup) = s.post("/v1/wallets", &body).await;
    assert_eq!((status, &dup["walletId"]), (409, &first["id"]), "{dup}");
    let (status, bad) = s.send(post(&"k".repeat(300), &body)).await;
    assert_eq!((status, bad["code"].as_str()), (400, Some("INVALID_REQUEST")), "{bad}");
    assert_eq!(s.vault_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_is_handed_over_only_when_allowed_audited_and_never_after_the_claim() {
    let body = json!({"type": "EVM", "userIdentifier": "claim-me", "userIdentifierType": "CUSTOM_ID"});
    // Off by default.
    let off = setup().await;
    let (_, w) = off.post("/v1/wallets", &body).await;
    let (status, refused) = off
        .get(&format!("/v1/wallets/{}/user-share", w["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("SHARE_EXPORT_DISABLED")),
        "{refused}"
    );
    assert!(off.audit.entries().await.unwrap().is_empty());

    let s = setup_with(true).await;
    let (status, w) = s.post("/v1/wallets", &body).await;
    assert_eq!(status, 201, "{w}");
    let id: WalletId = w["id"].as_str().unwrap().parse().unwrap();
    let r = s
        .http
        .get(s.url(&format!("/v1/wallets/{id}/user-share")))
        .header("x-api-key", s.key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let handed: Value = r.json().await.unwrap();
    assert_eq!(handed["walletId"], w["id"]);
    let entries = s.audit.entries().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].action.as_str(), entries[0].wallet_id),
        ("share.exported", id)
    );

    // The person claims with it from their own client; the agent then refuses the old share.
    let person = dyad_sdk::Dyad::new(&s.server.url(), &s.api_key);
    person.login_custom_id("claim-me").await.unwrap();
    person
        .set_user_share(handed["userShare"].as_str().unwrap())
        .await
        .unwrap();
    let claimed = person.claim_pregen_wallets(None).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let (status, refused) = s.get(&format!("/v1/wallets/{id}/user-share")).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("WALLET_CLAIMED")),
        "{refused}"
    );
    assert_eq!(
        s.audit.entries().await.unwrap().len(),
        1,
        "a refusal is not a hand-over"
    );
    let (status, refused) = s
        .post(&format!("/v1/wallets/{id}/sign-message"), &json!({"message": "mine?"}))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("WALLET_CLAIMED")),
        "the app's old share no longer signs: {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_makes_a_wallet_per_type_and_person_reports_bad_ones_and_repeats_make_nothing() {
    let s = setup().await;
    let body = json!({
        "types": ["SOLANA", "STELLAR"],
        "concurrency": 4,
        "people": [
            {"userIdentifier": "b0@example.com", "userIdentifierType": "EMAIL"},
            {"userIdentifier": "+1 555 000 0001", "userIdentifierType": "PHONE"},
            {"userIdentifier": "bulk-2", "userIdentifierType": "CUSTOM_ID"},
            {"userIdentifier": "not an email", "userIdentifierType": "EMAIL"},
            {"userIdentifier": "B0@example.com", "userIdentifierType": "EMAIL"}
        ]
    });
    let (status, first) = s.post("/v1/wallets/bulk", &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["created"].as_u64(), first["skipped"].as_u64()),
        (Some(6), Some(0)),
        "{first}"
    );
    let failed = first["failed"].as_array().unwrap();
    let indexes: Vec<u64> = failed.iter().map(|f| f["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [3, 4], "{first}");
    assert!(failed[1]["error"].as_str().unwrap().contains("index 0"), "{first}");
    assert_eq!(s.vault_count().await, 6);

    let (status, again) = s.post("/v1/wallets/bulk", &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["created"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(6)),
        "{again}"
    );
    assert_eq!(s.vault_count().await, 6, "a repeat makes nothing");

    // Each wallet made in bulk signs from the vault.
    let (_, all) = s.get("/v1/wallets").await;
    for w in all["wallets"].as_array().unwrap() {
        let (status, signed) = s
            .post(
                &format!("/v1/wallets/{}/sign-message", w["id"].as_str().unwrap()),
                &json!({"message": "bulk"}),
            )
            .await;
        assert_eq!(status, 200, "{signed}");
        let sig = hex_bytes(signed["signature"].as_str().unwrap());
        let public_key = hex_bytes(w["publicKey"].as_str().unwrap());
        let signed_bytes = if w["type"] == "STELLAR" {
            dyad_test_support::verify::sep53_hash(b"bulk").to_vec()
        } else {
            b"bulk".to_vec()
        };
        ed25519_verify_strict(&public_key, &signed_bytes, &sig).unwrap();
    }
    for bad in [
        json!({"types": [], "people": []}),
        json!({"types": ["DOGE"], "people": []}),
        json!({"types": ["EVM"], "people": [], "concurrency": 0}),
    ] {
        let (status, e) = s.post("/v1/wallets/bulk", &bad).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (400, Some("INVALID_REQUEST")),
            "{bad}: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_hangs_up_gets_the_first_answer_when_it_retries_with_its_key() {
    let s = setup().await;
    let body = json!({"type": "EVM", "userIdentifier": "gone@example.com", "userIdentifierType": "EMAIL"});
    // Gone long before an EVM key generation could finish.
    let cut = s
        .http
        .post(s.url("/v1/wallets"))
        .header("x-api-key", s.key.expose())
        .header("idempotency-key", "gone-1")
        .timeout(std::time::Duration::from_millis(30))
        .json(&body)
        .send()
        .await;
    assert!(cut.is_err(), "the caller hung up");
    // Retried with its key: "still running" until the create ends, then the create's answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let answer = loop {
        let r = s
            .http
            .post(s.url("/v1/wallets"))
            .header("x-api-key", s.key.expose())
            .header("idempotency-key", "gone-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let replayed = r.headers().contains_key("idempotent-replayed");
        let answer: Value = r.json().await.unwrap();
        if status == 409 && answer["code"] == "IDEMPOTENCY_KEY_IN_USE" && std::time::Instant::now() < deadline {
            tokio::task::yield_now().await;
            continue;
        }
        assert!(replayed, "{status} {answer}");
        break (status, answer);
    };
    assert_eq!(answer.0, 201, "{}", answer.1);
    let id: WalletId = answer.1["id"].as_str().unwrap().parse().unwrap();
    assert!(s.vault.get(id).await.unwrap().is_some(), "its share is in the vault");
    assert_eq!(s.vault_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_route_and_needs_no_key() {
    let s = setup().await;
    let r = s.http.get(s.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for (path, method) in [
        ("/v1/wallets", "post"),
        ("/v1/wallets", "get"),
        ("/v1/wallets/bulk", "post"),
        ("/v1/wallets/{id}", "get"),
        ("/v1/wallets/{id}/sign-message", "post"),
        ("/v1/wallets/{id}/sign-transaction", "post"),
        ("/v1/wallets/{id}/sign-typed-data", "post"),
        ("/v1/wallets/{id}/sign-raw", "post"),
        ("/v1/wallets/{id}/user-share", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is described");
    }
    let wallet = &doc["components"]["schemas"]["ParaWallet"]["properties"];
    for field in [
        "id",
        "type",
        "scheme",
        "status",
        "createdAt",
        "address",
        "publicKey",
        "userIdentifier",
        "userIdentifierType",
    ] {
        assert!(wallet[field].is_object(), "ParaWallet.{field}: {wallet}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["agentKey"]["name"], "X-API-Key");
    // Every other route still needs a key.
    let r = s.http.get(s.url("/v1/wallets")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_the_vault_marks_retired_never_signs_again() {
    let s = setup_with(true).await;
    let (_, w) = s
        .post(
            "/v1/wallets",
            &json!({"type": "SOLANA", "userIdentifier": "cheated", "userIdentifierType": "CUSTOM_ID"}),
        )
        .await;
    let id: WalletId = w["id"].as_str().unwrap().parse().unwrap();
    let sign = format!("/v1/wallets/{id}/sign-message");
    let (status, _) = s.post(&sign, &json!({"message": "before"})).await;
    assert_eq!(status, 200);
    // What the agent does when the SDK reports SERVER_MISBEHAVED, done here through another
    // handle on the same vault (as another agent, or the same one after a restart, sees it).
    assert!(!s.vault.is_retired(id, 1).await.unwrap());
    s.vault.retire(id, 1).await.unwrap();
    s.vault.retire(id, 1).await.unwrap();
    assert!(s.vault.is_retired(id, 1).await.unwrap());
    assert!(
        !s.vault.is_retired(id, 2).await.unwrap(),
        "a refreshed share is not retired"
    );
    let (status, refused) = s.post(&sign, &json!({"message": "after"})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("SERVER_MISBEHAVED")),
        "{refused}"
    );
    assert_eq!(refused["walletId"], w["id"]);
    // Nor is it handed over for a claim.
    let (status, refused) = s.get(&format!("/v1/wallets/{id}/user-share")).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("SERVER_MISBEHAVED")),
        "{refused}"
    );
    assert!(s.audit.entries().await.unwrap().is_empty());
    // HEAD is not a hand-over: not routed.
    let r = s
        .http
        .head(s.url(&format!("/v1/wallets/{id}/user-share")))
        .header("x-api-key", s.key.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}

#[tokio::test]
async fn the_agent_will_not_listen_beyond_loopback_unless_told() {
    let e = dyad_agent::listen::check("0.0.0.0:0".parse().unwrap(), Exposure::Loopback).unwrap_err();
    assert!(e.to_string().contains("--allow-non-loopback"), "{e}");
}
