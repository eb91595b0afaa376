//! The SQLite store on a real file: pending wallets, single-use ceremonies, reaping, and the
//! append-only audit log.

use dyad_proto::{Environment, PregenId, WalletId, WalletStatus, WalletType};
use dyad_server::store::{CeremonyKind, CeremonyRecord, CreateOutcome, Scope, SqliteStore, Store, WalletRecord};
use serde_json::json;

async fn setup() -> (tempfile::TempDir, SqliteStore, Scope) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("dyad.db")).await.unwrap();
    let (app, _) = dyad_server::api_key::create_app(&store, "shop", Environment::Beta)
        .await
        .unwrap();
    (
        dir,
        store,
        Scope {
            app_id: app.id,
            environment: app.environment,
        },
    )
}

fn pending(scope: Scope, created_at: i64) -> WalletRecord {
    WalletRecord {
        id: WalletId::random(),
        scope,
        wallet_type: WalletType::Evm,
        scheme: WalletType::Evm.scheme(),
        public_key: None,
        address: None,
        pregen_id: PregenId::parse("email", "p@example.com").unwrap(),
        status: WalletStatus::Pending,
        key_version: 1,
        locked: false,
        created_at,
    }
}

fn ceremony(scope: Scope, wallet: WalletId, expires_at: i64, tag: u8) -> CeremonyRecord {
    CeremonyRecord {
        id_hash: [tag; 32],
        scope,
        wallet_id: wallet,
        kind: CeremonyKind::Dkg,
        expires_at,
    }
}

#[tokio::test]
async fn stale_pending_wallets_are_replaced_and_reaped_fresh_ones_conflict() {
    let (_dir, store, scope) = setup().await;
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, "test", json!({}));

    let old = pending(scope, now - 1000);
    let c = ceremony(scope, old.id, now - 900, 1);
    assert_eq!(
        store.create_pending_wallet(&old, &c, &audit, now - 300).await.unwrap(),
        CreateOutcome::Created
    );

    // A fresh attempt replaces the stale one.
    let fresh = pending(scope, now);
    let c2 = ceremony(scope, fresh.id, now + 60, 2);
    assert_eq!(
        store
            .create_pending_wallet(&fresh, &c2, &audit, now - 300)
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    assert!(store.pending_wallet(old.id).await.unwrap().is_none());

    // A third, while the fresh one is pending, is told who holds the identifier.
    let third = pending(scope, now);
    let c3 = ceremony(scope, third.id, now + 60, 3);
    assert_eq!(
        store
            .create_pending_wallet(&third, &c3, &audit, now - 300)
            .await
            .unwrap(),
        CreateOutcome::Exists(fresh.id, WalletStatus::Pending)
    );
    assert!(store.pending_wallet(third.id).await.unwrap().is_none());
    // Pending wallets are never listed.
    assert!(store.wallets(scope, None).await.unwrap().is_empty());
    assert!(store.wallet(scope, fresh.id).await.unwrap().is_none());

    // The reaper leaves the fresh one, then removes it once it is old enough.
    store.reap(now, now - 300).await.unwrap();
    assert!(store.pending_wallet(fresh.id).await.unwrap().is_some());
    store.reap(now + 1000, now + 700).await.unwrap();
    assert!(store.pending_wallet(fresh.id).await.unwrap().is_none());
    // Its ceremony went with it.
    assert!(store.consume_ceremony(&[2; 32], now).await.unwrap().is_none());
}

#[tokio::test]
async fn a_ceremony_is_consumed_once_and_not_after_expiry() {
    let (_dir, store, scope) = setup().await;
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, "test", json!({}));
    let w = pending(scope, now);
    store
        .create_pending_wallet(&w, &ceremony(scope, w.id, now + 60, 7), &audit, now - 300)
        .await
        .unwrap();
    assert!(
        store.consume_ceremony(&[7; 32], now + 61).await.unwrap().is_none(),
        "expired"
    );
    let got = store.consume_ceremony(&[7; 32], now).await.unwrap().unwrap();
    assert_eq!(got.wallet_id, w.id);
    assert_eq!(got.kind, CeremonyKind::Dkg);
    assert!(
        store.consume_ceremony(&[7; 32], now).await.unwrap().is_none(),
        "second use"
    );
    assert!(
        store.consume_ceremony(&[8; 32], now).await.unwrap().is_none(),
        "unknown"
    );
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let (dir, store, scope) = setup().await;
    store
        .audit(&dyad_server::audit::entry(scope, None, "first", json!({ "n": 1 })))
        .await
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("dyad.db").display()))
        .await
        .unwrap();
    assert!(sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(&pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(&pool).await.is_err());
    let log = store.audit_log(scope).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "first");
    assert_eq!(log[0].detail, json!({ "n": 1 }));
}
