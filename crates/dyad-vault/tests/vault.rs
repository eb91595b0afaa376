//! The share vault on a real file, with shares of real wallets (a server on port 0): a share
//! read back signs; a record is bound to its wallet, version and identifier; the key is checked;
//! rekeying is all or nothing; nothing is stored in clear.

use dyad_proto::{Environment, WalletType};
use dyad_sdk::Dyad;
use dyad_server::{AppState, DataDir, ServerConfig};
use dyad_test_support::{email, private_tempdir};
use dyad_vault::{ShareVault, VaultError, VaultKey};

struct Setup {
    _dir: tempfile::TempDir,
    server: dyad_server::RunningServer,
    key: String,
}

async fn server() -> Setup {
    let dir = private_tempdir();
    let data = DataDir::new(dir.path()).unwrap();
    let store = data.open_store().await.unwrap();
    let master = data.master_key_from_env_or_file().unwrap();
    let state = AppState::new(store.clone(), &master, ServerConfig::default())
        .await
        .unwrap();
    let server = dyad_server::spawn(state, "127.0.0.1:0").await.unwrap();
    let (_, key) = dyad_server::api_key::create_app(store.as_ref(), "vault", Environment::Beta)
        .await
        .unwrap();
    Setup {
        _dir: dir,
        server,
        key: key.expose().to_string(),
    }
}

/// Wallets of `types` for the email `who`, each share put into `vault`.
async fn into_vault(s: &Setup, types: &[WalletType], who: &str, vault: &ShareVault) -> Vec<dyad_proto::WalletView> {
    let app = Dyad::new(&s.server.url(), &s.key);
    let wallets = app.create_pregen_wallet_per_type(types, &email(who)).await.unwrap();
    for w in &wallets {
        vault.put(&app.get_user_share_of(w.id).unwrap()).await.unwrap();
    }
    wallets
}

fn key_copy(k: &VaultKey) -> VaultKey {
    VaultKey::from_base64(&k.to_base64()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_read_back_from_the_vault_sign_and_are_bound_to_their_wallet() {
    let s = server().await;
    let app = Dyad::new(&s.server.url(), &s.key);
    let wallets = app
        .create_pregen_wallet_per_type(&[WalletType::Evm, WalletType::Solana], &email("vi@example.com"))
        .await
        .unwrap();
    let dir = private_tempdir();
    let path = dir.path().join("shares.vault");
    let key = VaultKey::random();
    let vault = ShareVault::open(&path, key_copy(&key)).await.unwrap();
    for w in &wallets {
        let r = vault.put(&app.get_user_share_of(w.id).unwrap()).await.unwrap();
        assert_eq!((r.wallet_id, r.key_version, r.wallet_type), (w.id, 1, w.wallet_type));
        // The same share again is a no-op.
        vault.put(&app.get_user_share_of(w.id).unwrap()).await.unwrap();
    }
    assert_eq!(vault.list().await.unwrap().len(), 2);
    // A share of two wallets at once is refused.
    assert!(matches!(
        vault.put(&app.get_user_share().unwrap()).await,
        Err(VaultError::Share(_))
    ));

    // Read back into a fresh client: it signs.
    let (record, text) = vault.get(wallets[1].id).await.unwrap().unwrap();
    assert_eq!(record.identifier, email("vi@example.com"));
    let fresh = Dyad::new(&s.server.url(), &s.key);
    fresh.set_user_share(&text).await.unwrap();
    let sig = fresh.sign_message(wallets[1].id, b"from the vault").await.unwrap();
    dyad_test_support::verify::verify_message(&wallets[1], b"from the vault", &sig.signature).unwrap();

    // Retired, the share is no longer usable (still readable, to move it); its record stays.
    assert!(vault.usable(wallets[1].id).await.unwrap().is_some());
    vault.retire(wallets[1].id, 1).await.unwrap();
    assert!(matches!(vault.usable(wallets[1].id).await, Err(VaultError::Retired(id)) if id == wallets[1].id));
    assert!(vault.get(wallets[1].id).await.unwrap().is_some());
    assert_eq!(vault.record(wallets[1].id).await.unwrap(), Some(record.clone()));
    assert!(vault.usable(dyad_proto::WalletId::random()).await.unwrap().is_none());

    // Nothing in the file (or its WAL) is a share in clear.
    vault.close().await;
    let share_text = app.get_user_share_of(wallets[0].id).unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        // SQLite may still be removing its -wal/-shm as the pool closes: a file gone between
        // the listing and the read holds nothing; every file there is read.
        let bytes = match std::fs::read(entry.unwrap().path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading a vault file: {e}"),
        };
        assert!(!bytes.windows(40).any(|w| w == &share_text.expose().as_bytes()[..40]));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // A record moved onto another wallet (or another identifier) does not open as that one.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE shares SET sealed = (SELECT sealed FROM shares WHERE wallet_id = $1) WHERE wallet_id = $2")
        .bind(wallets[0].id.to_string())
        .bind(wallets[1].id.to_string())
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE shares SET pregen_value = 'eve@example.com' WHERE wallet_id = $1")
        .bind(wallets[0].id.to_string())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let vault = ShareVault::open(&path, key_copy(&key)).await.unwrap();
    assert!(matches!(vault.get(wallets[1].id).await, Err(VaultError::Sealed(id)) if id == wallets[1].id));
    assert!(matches!(vault.get(wallets[0].id).await, Err(VaultError::Sealed(id)) if id == wallets[0].id));
    // Another key does not open the vault at all.
    vault.close().await;
    assert!(matches!(
        ShareVault::open(&path, VaultKey::random()).await,
        Err(VaultError::Key(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rekey_is_all_or_nothing() {
    let s = server().await;
    let dir = private_tempdir();
    let path = dir.path().join("shares.vault");
    let old = VaultKey::random();
    let vault = ShareVault::open(&path, key_copy(&old)).await.unwrap();
    let wallets = into_vault(&s, &[WalletType::Solana, WalletType::Stellar], "re@example.com", &vault).await;
    vault.close().await;

    // A rekey that dies at the second record (a trigger stands in for the kill): nothing
    // changed, every share opens with the old key.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(&format!(
        "CREATE TRIGGER die BEFORE UPDATE ON shares WHEN OLD.wallet_id = '{}' BEGIN SELECT RAISE(ABORT, 'killed'); END",
        wallets[1].id
    ))
    .execute(&db)
    .await
    .unwrap();
    let vault = ShareVault::open(&path, key_copy(&old)).await.unwrap();
    assert!(vault.rekey(VaultKey::random()).await.is_err());
    let vault = ShareVault::open(&path, key_copy(&old)).await.unwrap();
    for w in &wallets {
        assert!(vault.get(w.id).await.unwrap().is_some());
    }
    vault.close().await;
    sqlx::query("DROP TRIGGER die").execute(&db).await.unwrap();
    db.close().await;

    // A rekey that finishes: every share opens with the new key, none with the old.
    let new = VaultKey::random();
    let vault = ShareVault::open(&path, key_copy(&old)).await.unwrap();
    let vault = vault.rekey(key_copy(&new)).await.unwrap();
    assert_eq!(vault.export().await.unwrap().len(), 2);
    vault.close().await;
    assert!(matches!(
        ShareVault::open(&path, key_copy(&old)).await,
        Err(VaultError::Key(_))
    ));
    let vault = ShareVault::open(&path, new).await.unwrap();
    let exported = vault.export().await.unwrap();
    let fresh = Dyad::new(&s.server.url(), &s.key);
    fresh.set_user_share(&exported[0].1).await.unwrap();
    fresh.sign_message(wallets[0].id, b"rekeyed").await.unwrap();
}

/// The same vault in a PostgreSQL database (`DATABASE_URL`): shares read back sign, a record
/// moved onto another wallet does not open, another key is refused, a rekey moves every record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_vault_keeps_binds_and_rekeys_shares() {
    let Some(pg) = dyad_test_support::postgres::TestDatabase::create().await else {
        return;
    };
    let s = server().await;
    let key = VaultKey::random();
    let vault = ShareVault::open_at(&pg.url, key_copy(&key)).await.unwrap();
    let wallets = into_vault(&s, &[WalletType::Evm, WalletType::Solana], "pg@example.com", &vault).await;
    assert_eq!(vault.list().await.unwrap().len(), 2);
    let (_, text) = vault.get(wallets[0].id).await.unwrap().unwrap();
    let fresh = Dyad::new(&s.server.url(), &s.key);
    fresh.set_user_share(&text).await.unwrap();
    let sig = fresh.sign_message(wallets[0].id, b"from postgres").await.unwrap();
    dyad_test_support::verify::verify_message(&wallets[0], b"from postgres", &sig.signature).unwrap();
    assert!(matches!(
        ShareVault::open_at(&pg.url, VaultKey::random()).await,
        Err(VaultError::Key(_))
    ));

    let new = VaultKey::random();
    let vault = vault.rekey(key_copy(&new)).await.unwrap();
    assert!(vault.get(wallets[1].id).await.unwrap().is_some());
    vault.close().await;
    assert!(matches!(
        ShareVault::open_at(&pg.url, key_copy(&key)).await,
        Err(VaultError::Key(_))
    ));

    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&pg.url).await.unwrap();
    sqlx::query("UPDATE shares SET sealed = (SELECT sealed FROM shares WHERE wallet_id = $1) WHERE wallet_id = $2")
        .bind(wallets[0].id.to_string())
        .bind(wallets[1].id.to_string())
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let vault = ShareVault::open_at(&pg.url, key_copy(&new)).await.unwrap();
    assert!(matches!(vault.get(wallets[1].id).await, Err(VaultError::Sealed(_))));
    vault.close().await;
}
