//! `dyad demo`: the whole job on the embedded default, in one process. Start a server on the
//! data folder's SQLite file, create an app, pregenerate one wallet per type, export the user
//! share, load it into a fresh client, sign with each wallet, and verify each signature with the
//! chain's standard verifier.

use std::time::Instant;

use dyad_proto::{Environment, PregenId, WalletType};
use dyad_sdk::Dyad;
use dyad_server::{AppState, ServerConfig};
use dyad_types::hex0x;
use serde_json::json;

use crate::args::DemoArgs;
use crate::commands::open_storage;
use crate::{output, verify, CliError};

/// Run the demo; fails (exit 1) if any signature does not verify.
pub async fn run(args: DemoArgs, json_out: bool) -> Result<(), CliError> {
    let say = |s: &str| {
        if !json_out {
            eprintln!("{s}");
        }
    };
    let (store, master) = open_storage(&args.storage).await?;
    let state = AppState::new(store.clone(), &master, ServerConfig::default()).await?;
    drop(master);
    let server = dyad_server::spawn(state, "127.0.0.1:0")
        .await
        .map_err(|e| CliError::Io(format!("starting the server: {e}")))?;
    say(&format!(
        "server: {} (data in {})",
        server.url(),
        args.storage.data_dir.display()
    ));

    let (app, key) = dyad_server::api_key::create_app(store.as_ref(), "demo", Environment::Beta).await?;
    say(&format!("app: {} (BETA)", app.id));

    let pregen_id = PregenId::parse("email", &args.email).map_err(|e| CliError::Usage(e.to_string()))?;
    let started = Instant::now();
    let creator = Dyad::new(&server.url(), key.expose());
    let wallets = creator
        .create_pregen_wallet_per_type(&WalletType::ALL, &pregen_id)
        .await?;
    say(&format!(
        "pregenerated {} wallets for {} in {:.1} s",
        wallets.len(),
        pregen_id,
        started.elapsed().as_secs_f64()
    ));
    let share = creator.get_user_share()?;
    drop(creator);

    // As an app backend would: a fresh client per request, loaded from the stored share.
    let signer = Dyad::new(&server.url(), key.expose());
    signer.set_user_share(share.expose()).await?;
    let message = args.message.as_bytes();
    let mut rows = Vec::new();
    let mut all_ok = true;
    for w in &wallets {
        let r = signer.sign_message(w.id, message).await?;
        let verified = verify::verify_message(w, message, &r.signature);
        all_ok &= verified.is_ok();
        rows.push((w.clone(), r.signature, verified));
    }
    server.shutdown().await.map_err(|e| CliError::Io(e.to_string()))?;

    if json_out {
        let list: Vec<_> = rows
            .iter()
            .map(|(w, sig, v)| {
                json!({
                    "type": w.wallet_type, "walletId": w.id, "address": w.address,
                    "signature": hex0x::encode(sig), "verified": v.is_ok(),
                })
            })
            .collect();
        output::json(&json!({ "appId": app.id, "message": args.message, "wallets": list }));
    } else {
        println!("signed {:?} with each wallet:\n", args.message);
        let table: Vec<Vec<String>> = rows
            .iter()
            .map(|(w, sig, v)| {
                let hex_sig = hex::encode(sig);
                vec![
                    w.wallet_type.to_string(),
                    w.address.clone(),
                    format!("0x{}…{}", &hex_sig[..10], &hex_sig[hex_sig.len() - 8..]),
                    match v {
                        Ok(()) => "yes".to_string(),
                        Err(e) => format!("NO ({e})"),
                    },
                ]
            })
            .collect();
        output::table(&["TYPE", "ADDRESS", "SIGNATURE", "VERIFIED"], &table);
    }
    if !all_ok {
        return Err(CliError::Usage("a signature did not verify".into()));
    }
    Ok(())
}
