//! One wallet across apps: a person's claimed wallet is invisible to every other app on the
//! server until the person, in that app's session, grants it; then it signs within the grant's
//! operations, and nothing once the grant is revoked. Environments never mix.

mod support;

use dyad_proto::grant::{GrantRequest, Operation};
use dyad_proto::{Environment, ErrorCode, WalletType};
use dyad_sdk::{Dyad, SdkError};
use dyad_test_support::email;
use dyad_test_support::fixtures::mail_typed_data;
use dyad_test_support::verify::verify_message;
use support::{expect_error, TestServer};

fn code(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_app_sees_nothing_before_a_grant_signs_within_it_and_nothing_after_revoking() {
    let t = TestServer::start().await;
    let key_a = t.app("shop").await;
    let key_b = t.app("game").await;
    let app_a = Dyad::new(&t.url(), &key_a);
    let w = app_a
        .create_pregen_wallet(WalletType::Evm, &email("ida@example.com"))
        .await
        .unwrap();
    let in_a = t.person(&key_a, "ida@example.com").await;
    in_a.set_user_share(app_a.get_user_share().unwrap().expose())
        .await
        .unwrap();
    let claimed = in_a.claim_pregen_wallets(None).await.unwrap().remove(0).wallet;
    let share = in_a.get_user_share().unwrap();

    // The same person in another app: one account, but the wallet is not there yet.
    let in_b = t.person(&key_b, "ida@example.com").await;
    assert_eq!(
        in_b.session().await.unwrap().user_id,
        in_a.session().await.unwrap().user_id
    );
    in_b.set_user_share(share.expose()).await.unwrap();
    let e = in_b.sign_message(w.id, b"before the grant").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    let e = in_b.get_wallet(w.id).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    assert_eq!(
        t.get(&key_b, &format!("/v1/wallets/{}", w.id)).await.status().as_u16(),
        404
    );

    // A grant for messages only.
    let grant = in_b
        .create_grant(&GrantRequest {
            wallets: vec![w.id],
            wallet_types: vec![],
            operations: vec![Operation::Message],
        })
        .await
        .unwrap();
    assert_eq!(in_b.list_grants().await.unwrap(), vec![grant.clone()]);
    assert_eq!(in_b.get_wallet(w.id).await.unwrap().address, claimed.address);
    let s = in_b.sign_message(w.id, b"in the other app").await.unwrap();
    verify_message(&claimed, b"in the other app", &s.signature).unwrap();
    // Outside the grant's operations: refused, no ceremony.
    let e = in_b.sign_typed_data(w.id, &mail_typed_data()).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::Forbidden), "{e}");
    // The other app's API key still sees nothing: the grant is the person's, in their session.
    assert_eq!(
        t.get(&key_b, &format!("/v1/wallets/{}", w.id)).await.status().as_u16(),
        404
    );

    // Revoked: nothing again.
    in_b.revoke_grant(grant.id).await.unwrap();
    let e = in_b.sign_message(w.id, b"after revoking").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    let e = in_b.revoke_grant(grant.id).await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::GrantNotFound), "{e}");
    assert!(in_b.list_grants().await.unwrap().is_empty());

    // The grants are audited in the granted app's log.
    let app_b = t.store.apps().await.unwrap()[1].clone();
    let log = t.store.audit_log(app_b.scope()).await.unwrap();
    let actions: Vec<_> = log.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.contains(&"grant.created") && actions.contains(&"grant.revoked"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_by_type_covers_the_persons_wallets_of_that_type_only_and_environments_never_mix() {
    let t = TestServer::start().await;
    let key_a = t.app("shop").await;
    let key_b = t.app("game").await;
    let key_prod = t.app_in("game-prod", Environment::Prod).await;
    let app_a = Dyad::new(&t.url(), &key_a);
    let wallets = app_a
        .create_pregen_wallet_per_type(&[WalletType::Evm, WalletType::Solana], &email("jo@example.com"))
        .await
        .unwrap();
    let in_a = t.person(&key_a, "jo@example.com").await;
    in_a.set_user_share(app_a.get_user_share().unwrap().expose())
        .await
        .unwrap();
    in_a.claim_pregen_wallets(None).await.unwrap();
    let share = in_a.get_user_share().unwrap();

    let in_b = t.person(&key_b, "jo@example.com").await;
    in_b.set_user_share(share.expose()).await.unwrap();
    in_b.create_grant(&GrantRequest {
        wallets: vec![],
        wallet_types: vec![WalletType::Solana],
        operations: vec![Operation::Message, Operation::Transaction],
    })
    .await
    .unwrap();
    let s = in_b.sign_message(wallets[1].id, b"solana ok").await.unwrap();
    verify_message(&wallets[1], b"solana ok", &s.signature).unwrap();
    let e = in_b.sign_message(wallets[0].id, b"evm not granted").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    let listed: Vec<_> = in_b
        .get_pregen_wallets(&email("jo@example.com"))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, vec![wallets[1].id]);

    // PROD: the same email is another account there, which owns nothing and can grant nothing.
    let in_prod = t.person(&key_prod, "jo@example.com").await;
    assert_ne!(
        in_prod.session().await.unwrap().user_id,
        in_a.session().await.unwrap().user_id
    );
    let e = in_prod
        .create_grant(&GrantRequest {
            wallets: vec![wallets[0].id],
            wallet_types: vec![],
            operations: vec![Operation::Message],
        })
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
    in_prod.set_user_share(share.expose()).await.unwrap();
    let e = in_prod.sign_message(wallets[1].id, b"prod").await.unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::WalletNotFound), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_needs_a_session_and_names_something() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/grants", t.url()))
        .header("x-api-key", &key)
        .json(&serde_json::json!({ "walletTypes": ["EVM"], "operations": ["message"] }))
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "SESSION_INVALID").await;
    let person = t.person(&key, "kit@example.com").await;
    let e = person
        .create_grant(&GrantRequest {
            wallets: vec![],
            wallet_types: vec![],
            operations: vec![Operation::Message],
        })
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(ErrorCode::InvalidRequest), "{e}");
}
