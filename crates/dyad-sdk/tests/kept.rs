//! `create_pregen_wallet_kept`: the share goes to the caller's keeper before the confirmation.
//! A keeper that fails means no wallet; one that succeeds holds a share that signs, and the
//! client does not keep a copy loaded.

mod support;

use std::sync::{Arc, Mutex};

use dyad_sdk::{Dyad, SdkError, WalletType};
use dyad_test_support::email;
use support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_is_created_only_once_its_share_is_kept() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let app = Dyad::new(&t.url(), &key);

    // The keeper fails (a full disk, a vault that refuses): no confirmation, no wallet.
    let refused = app
        .create_pregen_wallet_kept(
            WalletType::Solana,
            &email("lost@example.com"),
            Box::new(|_share| Box::pin(async { Err("disk full".to_string()) })),
        )
        .await;
    assert!(
        matches!(&refused, Err(SdkError::NotKept(reason)) if reason == "disk full"),
        "{refused:?}"
    );
    assert!(app
        .get_pregen_wallets(&email("lost@example.com"))
        .await
        .unwrap()
        .is_empty());

    // The keeper succeeds: the wallet exists, its kept share signs in a fresh client, and this
    // client holds no copy.
    let kept: Arc<Mutex<Option<String>>> = Arc::default();
    let into = kept.clone();
    let w = app
        .create_pregen_wallet_kept(
            WalletType::Evm,
            &email("kept@example.com"),
            Box::new(move |share| {
                Box::pin(async move {
                    *into.lock().unwrap() = Some(share.expose().to_string());
                    Ok(())
                })
            }),
        )
        .await
        .unwrap();
    assert!(app.loaded_wallets().is_empty());
    assert_eq!(
        app.get_pregen_wallets(&email("kept@example.com")).await.unwrap()[0].id,
        w.id
    );
    let share = kept.lock().unwrap().clone().expect("the keeper got the share");
    let fresh = Dyad::new(&t.url(), &key);
    fresh.set_user_share(&share).await.unwrap();
    let sig = fresh.sign_message(w.id, b"kept").await.unwrap();
    dyad_test_support::verify::verify_message(&w, b"kept", &sig.signature).unwrap();
}
