//! `dyad demo`: the whole job on the embedded default, in one process. Start a server on the
//! data folder's SQLite file, create an app, pregenerate one wallet per type, export the user
//! share, load it into a fresh client, sign with each wallet, and verify each signature against
//! the wallet's key the way the server does (`dyad_mpc::PublicKey::verify` on what `dyad-chains`
//! says was signed). The CLI's tests check every printed signature again with verifiers that
//! rebuild the digests independently (`dyad-test-support`).

use std::time::Instant;

use dyad_chains::ChainConfig;
use dyad_mpc::{PublicKey, Signature};
use dyad_proto::{Environment, PregenId, WalletType, WalletView};
use dyad_sdk::Dyad;
use dyad_server::{AppState, ServerConfig};
use dyad_types::hex0x;
use serde_json::json;

use crate::args::DemoArgs;
use crate::commands::open_storage;
use crate::{output, CliError};

/// Run the demo; fails (exit 1) if any signature does not verify.
pub async fn run(args: DemoArgs, json_out: bool) -> Result<(), CliError> {
    let say = |s: &str| {
        if !json_out {
            eprintln!("{s}");
        }
    };
    let (store, master) = open_storage(&args.storage).await?;
    let config = ServerConfig::default();
    let chain = config.chain.clone();
    let state = AppState::new(store.clone(), &master, config).await?;
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
        let verified = verify(w, message, &r.signature, &chain);
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

/// Checks a `sign_message` signature as the server does before it returns one: the input is what
/// `dyad-chains` says the wallet type's `signMessage` signs, the check is
/// `dyad_mpc::PublicKey::verify` (k256 with low s and public-key recovery; ed25519-dalek
/// `verify_strict`), and the wallet's address must be its key's.
fn verify(wallet: &WalletView, message: &[u8], signature: &[u8], chain: &ChainConfig) -> Result<(), String> {
    let key = hex::decode(wallet.public_key.trim_start_matches("0x")).map_err(|_| "the public key is not hex")?;
    let key = PublicKey::from_bytes(wallet.scheme, &key).map_err(|e| e.to_string())?;
    let address = dyad_chains::address(wallet.wallet_type, &key, chain).map_err(|e| e.to_string())?;
    if address != wallet.address {
        return Err("the address is not the public key's".into());
    }
    let input =
        dyad_chains::message_sign_input(wallet.wallet_type, &wallet.address, message).map_err(|e| e.to_string())?;
    let mut outcome = Err("not a signature of this wallet type".to_string());
    for candidate in decode_signature(wallet.wallet_type, signature) {
        outcome = key.verify(&input, &candidate).map_err(|e| e.to_string());
        if outcome.is_ok() {
            break;
        }
    }
    outcome
}

/// What a chain-encoded signature can stand for: EVM `r ‖ s ‖ v` names its recovery id
/// (`v = 27 + id`); Cosmos `r ‖ s` carries none, so it stands for either id (the check recovers
/// the key with the right one); Solana and Stellar are the Ed25519 signature itself. Empty when
/// the length or `v` does not fit.
fn decode_signature(wallet_type: WalletType, bytes: &[u8]) -> Vec<Signature> {
    let ecdsa = |rs: &[u8], recovery_id: u8| Signature::Secp256k1 {
        r: rs[..32].try_into().expect("32 bytes"),
        s: rs[32..64].try_into().expect("32 bytes"),
        recovery_id,
    };
    match (wallet_type, bytes.len()) {
        (WalletType::Evm, 65) if matches!(bytes[64], 27 | 28) => vec![ecdsa(bytes, bytes[64] - 27)],
        (WalletType::Cosmos, 64) => vec![ecdsa(bytes, 0), ecdsa(bytes, 1)],
        (WalletType::Solana | WalletType::Stellar, 64) => {
            vec![Signature::Ed25519(bytes.try_into().expect("64 bytes"))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use dyad_mpc::{Scheme, SignInput};
    use dyad_proto::{WalletId, WalletStatus};
    use k256::ecdsa::SigningKey;

    use super::*;

    /// A wallet of `wallet_type` (EVM or COSMOS) whose key is the single-party k256 key
    /// `[secret; 32]`, and its `signMessage` signature of `message` in the chain's encoding.
    fn signed(wallet_type: WalletType, secret: u8, message: &[u8]) -> (WalletView, Vec<u8>) {
        let secret = SigningKey::from_slice(&[secret; 32]).unwrap();
        let point = secret.verifying_key().to_encoded_point(true);
        let key = PublicKey::from_bytes(Scheme::Dkls, point.as_bytes()).unwrap();
        let address = dyad_chains::address(wallet_type, &key, &ChainConfig::default()).unwrap();
        let SignInput::Digest(digest) = dyad_chains::message_sign_input(wallet_type, &address, message).unwrap() else {
            panic!("ECDSA signs a digest");
        };
        let (sig, id) = secret.sign_prehash_recoverable(digest.as_bytes()).unwrap();
        let rs = sig.to_bytes();
        let signature = Signature::Secp256k1 {
            r: rs[..32].try_into().unwrap(),
            s: rs[32..].try_into().unwrap(),
            recovery_id: id.to_byte(),
        };
        let wallet = WalletView {
            id: WalletId::random(),
            wallet_type,
            scheme: Scheme::Dkls,
            address,
            public_key: format!("0x{}", hex::encode(key.as_bytes())),
            pregen_id: PregenId::parse("email", "demo@example.com").unwrap(),
            status: WalletStatus::Pregen,
            key_version: 1,
        };
        (wallet, dyad_chains::encode_signature(wallet_type, &signature).unwrap())
    }

    #[test]
    fn the_demo_check_accepts_a_signature_and_refuses_what_is_not_one() {
        let chain = ChainConfig::default();
        for wallet_type in [WalletType::Evm, WalletType::Cosmos] {
            let (wallet, sig) = signed(wallet_type, 0x42, b"hello");
            verify(&wallet, b"hello", &sig, &chain).unwrap();
            assert!(verify(&wallet, b"hellp", &sig, &chain).is_err(), "{wallet_type}");
            let mut tampered = sig.clone();
            tampered[10] ^= 0x01;
            assert!(verify(&wallet, b"hello", &tampered, &chain).is_err(), "{wallet_type}");
            assert!(verify(&wallet, b"hello", &sig[..63], &chain).is_err(), "{wallet_type}");
            // Another key's signature, or the wallet's key under another address.
            let (other, other_sig) = signed(wallet_type, 0x43, b"hello");
            assert!(verify(&wallet, b"hello", &other_sig, &chain).is_err(), "{wallet_type}");
            let moved = WalletView {
                address: other.address,
                ..wallet.clone()
            };
            assert!(verify(&moved, b"hello", &sig, &chain).is_err(), "{wallet_type}");
        }
        let (wallet, mut sig) = signed(WalletType::Evm, 0x42, b"hello");
        sig[64] += 2;
        assert!(verify(&wallet, b"hello", &sig, &chain).is_err(), "v must be 27 or 28");
    }
}
