//! The store conformance suite, on a real SQLite file and on a real PostgreSQL server alike
//! (`DATABASE_URL`; see `dyad_test_support::postgres`): pending wallets, single-use ceremonies,
//! reaping, the append-only audit log, app settings, API keys, data keys, leases, corrupt rows;
//! and, for SQLite only, file permissions.

use dyad_proto::{AppId, Environment, PregenId, WalletId, WalletStatus, WalletType};
use dyad_server::audit::AuditAction;
use dyad_server::model::{
    AppSettings, Begins, CeremonyHash, CeremonyKind, CeremonyRecord, CreateOutcome, PendingWallet, Scope,
};
use dyad_server::store::{Abandoned, LeaseAttempt, LeaseRequest, SealedShare, SqlStore, Store, StoredDataKey};
use dyad_server::{ServerError, SetupError, StoreError};
use serde_json::json;

/// Which engine a test runs on.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A store on a fresh database, and a connection of its own to that database, as an outside
/// reader (or someone changing it behind Dyad's back) has.
struct Db {
    store: SqlStore,
    raw: sqlx::AnyPool,
    _sqlite: Option<tempfile::TempDir>,
    _postgres: Option<dyad_test_support::postgres::TestDatabase>,
}

impl Db {
    /// Another store on the same database, with connections of its own: what a second replica
    /// (or a second process) opens.
    async fn second_store(&self) -> SqlStore {
        let url: dyad_server::DatabaseUrl = match (&self._sqlite, &self._postgres) {
            (Some(dir), _) => format!("sqlite:{}", dir.path().join("dyad.db").display())
                .parse()
                .unwrap(),
            (_, Some(pg)) => pg.url.parse().unwrap(),
            _ => unreachable!("a Db has one of the two"),
        };
        SqlStore::open_url(&url).await.unwrap()
    }
}

/// A fresh database, or `None` when PostgreSQL is not configured outside CI.
async fn open(kind: Kind) -> Option<Db> {
    sqlx::any::install_default_drivers();
    Some(match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("dyad.db");
            let store = SqlStore::open(&path).await.unwrap();
            let raw = sqlx::AnyPool::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            Db {
                store,
                raw,
                _sqlite: Some(dir),
                _postgres: None,
            }
        }
        Kind::Postgres => {
            let pg = dyad_test_support::postgres::TestDatabase::create().await?;
            let store = SqlStore::open_url(&pg.url.parse().unwrap()).await.unwrap();
            let raw = sqlx::AnyPool::connect(&pg.url).await.unwrap();
            Db {
                store,
                raw,
                _sqlite: None,
                _postgres: Some(pg),
            }
        }
    })
}

/// [`open`] with one app in it.
async fn setup(kind: Kind) -> Option<(Db, Scope)> {
    let db = open(kind).await?;
    let (app, _) = dyad_server::api_key::create_app(&db.store, "shop", Environment::Beta)
        .await
        .unwrap();
    let scope = Scope {
        app_id: app.id,
        environment: app.environment,
    };
    Some((db, scope))
}

/// Each test below, once per engine: `sqlite::name` and `postgres::name`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::Kind::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::Kind::Postgres).await })*
        }
    };
}

on_both!(
    abandoned_pending_wallets_are_replaced_and_reaped_live_ones_conflict,
    a_ceremony_is_consumed_once_and_not_after_expiry,
    a_ceremony_that_begins_at_once_is_stored_used_up_and_its_wallet_started,
    the_audit_log_is_append_only,
    settings_change_only_from_what_was_read_and_are_audited,
    revoked_keys_stop_authenticating_at_once,
    a_database_from_the_direct_wrapping_scheme_is_refused_clearly,
    a_ceremony_lease_has_one_holder_expires_on_its_own_and_a_lock_ends_it,
    rows_the_model_cannot_represent_are_refused_as_corrupt,
    concurrent_creates_of_one_identifier_make_one_wallet,
    a_lease_holds_across_stores_sharing_one_database,
    the_schema_is_the_same_on_both_engines,
    a_key_setup_is_reserved_once_by_its_own_scope_taken_once_and_reaped,
    only_what_nobody_can_present_after_a_power_loss_commits_without_waiting_for_the_disk,
    a_ceremony_its_entry_and_its_lease_are_written_together_or_not_at_all,
);

/// Key setups (the warm setup pool): reserved by one create of their own scope while unexpired,
/// taken (deleted) once, reaped unreserved after their time to live.
async fn a_key_setup_is_reserved_once_by_its_own_scope_taken_once_and_reaped(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let stand_in = StoredDataKey {
        wrapped: vec![0; 60],
        wrapped_with: "test".into(),
    };
    store.put_data_key(1, &stand_in).await.unwrap();
    let stored = |created_at: i64| dyad_server::store::StoredKeySetup {
        id: dyad_proto::KeySetupId::random(),
        scope,
        sealed: SealedShare {
            data_key_id: 1,
            sealed: vec![3; 48],
        },
        created_at,
    };
    let fresh = stored(now);
    let old = stored(now - 100_000);
    store.put_key_setup(&fresh).await.unwrap();
    store.put_key_setup(&old).await.unwrap();
    assert_eq!(store.key_setups_available(scope).await.unwrap(), 2);
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
    let audit = &audit;
    let create = |setup, tag: u8| {
        // A person of its own each, so only the setup can refuse it.
        let w = PendingWallet {
            pregen_id: PregenId::parse("customId", &format!("setup-{tag}")).unwrap(),
            ..pending(scope, now)
        };
        let c = ceremony(scope, w.id, now + 60, tag);
        async move {
            let outcome = store
                .create_pending_wallet(&w, &c, audit, rule(now), Begins::OnPresentation, Some(setup))
                .await
                .unwrap();
            (w.id, outcome)
        }
    };

    // Expired (older than the time to live): refused, and nothing written.
    let (refused, outcome) = create(old.id, 20).await;
    assert_eq!(outcome, CreateOutcome::NoKeySetup);
    assert!(store.pending_wallet(refused).await.unwrap().is_none());
    // Another scope's: refused.
    let (other_app, _) = dyad_server::api_key::create_app(store, "other", Environment::Beta)
        .await
        .unwrap();
    let other = Scope {
        app_id: other_app.id,
        environment: other_app.environment,
    };
    let w = pending(other, now);
    let outcome = store
        .create_pending_wallet(
            &w,
            &ceremony(other, w.id, now + 60, 21),
            audit,
            rule(now),
            Begins::OnPresentation,
            Some(fresh.id),
        )
        .await
        .unwrap();
    assert_eq!(outcome, CreateOutcome::NoKeySetup);
    assert!(store.pending_wallet(w.id).await.unwrap().is_none());

    // Its own scope reserves it once; a second create naming it is refused.
    let (first, outcome) = create(fresh.id, 22).await;
    assert_eq!(outcome, CreateOutcome::Created);
    assert_eq!(
        store.key_setups_available(scope).await.unwrap(),
        1,
        "reserved is not available"
    );
    let (second, outcome) = create(fresh.id, 23).await;
    assert_eq!(outcome, CreateOutcome::NoKeySetup);
    assert!(store.pending_wallet(second).await.unwrap().is_none());

    // Taken once, by the wallet that reserved it; then gone.
    assert!(store.take_key_setup(second).await.unwrap().is_none());
    let taken = store.take_key_setup(first).await.unwrap().expect("reserved for it");
    assert_eq!(taken, fresh);
    assert!(store.take_key_setup(first).await.unwrap().is_none());

    // The unreserved expired one is reaped.
    store.reap(now, rule(now)).await.unwrap();
    assert_eq!(store.key_setups_available(scope).await.unwrap(), 0);
}

fn pending(scope: Scope, created_at: i64) -> PendingWallet {
    PendingWallet {
        id: WalletId::random(),
        scope,
        wallet_type: WalletType::Evm,
        pregen_id: PregenId::parse("email", "p@example.com").unwrap(),
        created_at,
    }
}

fn ceremony(scope: Scope, wallet: WalletId, expires_at: i64, tag: u8) -> CeremonyRecord {
    CeremonyRecord {
        id_hash: CeremonyHash([tag; 32]),
        scope,
        actor: dyad_server::model::Actor::App,
        wallet_id: wallet,
        kind: CeremonyKind::Dkg,
        expires_at,
    }
}

/// The server's rule with a 60 s ticket and a 300 s ceiling, at `now`.
fn rule(now: i64) -> Abandoned {
    Abandoned {
        key_setups_before: now - 86_400,
        unstarted_before: now - 60,
        before: now - 300,
    }
}

async fn abandoned_pending_wallets_are_replaced_and_reaped_live_ones_conflict(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));

    // Never connected, ticket expired: abandoned after a minute.
    let unstarted = pending(scope, now - 100);
    let c = ceremony(scope, unstarted.id, now - 40, 1);
    assert_eq!(
        store
            .create_pending_wallet(&unstarted, &c, &audit, rule(now), Begins::OnPresentation, None)
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    let fresh = pending(scope, now);
    let c2 = ceremony(scope, fresh.id, now + 60, 2);
    assert_eq!(
        store
            .create_pending_wallet(&fresh, &c2, &audit, rule(now), Begins::OnPresentation, None)
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    assert!(store.pending_wallet(unstarted.id).await.unwrap().is_none());

    // Connected (its ceremony consumed): it runs, so it holds the identifier for longer.
    assert!(store
        .consume_ceremony(&CeremonyHash([2; 32]), now)
        .await
        .unwrap()
        .is_some());
    let third = pending(scope, now + 100);
    let c3 = ceremony(scope, third.id, now + 160, 3);
    assert_eq!(
        store
            .create_pending_wallet(&third, &c3, &audit, rule(now + 100), Begins::OnPresentation, None)
            .await
            .unwrap(),
        CreateOutcome::Exists(fresh.id, WalletStatus::Pending)
    );
    assert!(store.pending_wallet(third.id).await.unwrap().is_none());
    // Pending wallets are never listed.
    assert!(store.wallets(scope, None).await.unwrap().is_empty());
    assert!(store.wallet(scope, fresh.id).await.unwrap().is_none());

    // The reaper leaves the running one, then removes it past the ceiling.
    store.reap(now + 100, rule(now + 100)).await.unwrap();
    assert!(store.pending_wallet(fresh.id).await.unwrap().is_some());
    store.reap(now + 301, rule(now + 301)).await.unwrap();
    assert!(store.pending_wallet(fresh.id).await.unwrap().is_none());

    // An unstarted one is reaped once its ticket is past.
    let idle = pending(scope, now);
    let c4 = ceremony(scope, idle.id, now + 60, 4);
    assert_eq!(
        store
            .create_pending_wallet(&idle, &c4, &audit, rule(now), Begins::OnPresentation, None)
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    store.reap(now + 30, rule(now + 30)).await.unwrap();
    assert!(store.pending_wallet(idle.id).await.unwrap().is_some());
    store.reap(now + 61, rule(now + 61)).await.unwrap();
    assert!(store.pending_wallet(idle.id).await.unwrap().is_none());
    assert!(store
        .consume_ceremony(&CeremonyHash([4; 32]), now)
        .await
        .unwrap()
        .is_none());
}

async fn a_ceremony_is_consumed_once_and_not_after_expiry(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
    let w = pending(scope, now);
    store
        .create_pending_wallet(
            &w,
            &ceremony(scope, w.id, now + 60, 7),
            &audit,
            rule(now),
            Begins::OnPresentation,
            None,
        )
        .await
        .unwrap();
    assert!(
        store
            .consume_ceremony(&CeremonyHash([7; 32]), now + 61)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    let got = store
        .consume_ceremony(&CeremonyHash([7; 32]), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.wallet_id, w.id);
    assert_eq!(got.kind, CeremonyKind::Dkg);
    assert!(
        store
            .consume_ceremony(&CeremonyHash([7; 32]), now)
            .await
            .unwrap()
            .is_none(),
        "second use"
    );
    assert!(
        store
            .consume_ceremony(&CeremonyHash([8; 32]), now)
            .await
            .unwrap()
            .is_none(),
        "unknown"
    );
}

/// A batch lane's key generation: its ticket is never presented, so it is stored used up (no
/// route ever accepts it), and its wallet counts as started (it is not reaped as unconnected).
async fn a_ceremony_that_begins_at_once_is_stored_used_up_and_its_wallet_started(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
    let w = pending(scope, now);
    assert_eq!(
        store
            .create_pending_wallet(
                &w,
                &ceremony(scope, w.id, now + 60, 9),
                &audit,
                rule(now),
                Begins::Now(now),
                None,
            )
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    assert!(
        store
            .consume_ceremony(&CeremonyHash([9; 32]), now)
            .await
            .unwrap()
            .is_none(),
        "a ticket stored used up is never accepted"
    );
    // Past its ticket's life, an unstarted wallet would be gone; a started one stays until the
    // ceiling.
    store.reap(now + 61, rule(now + 61)).await.unwrap();
    assert!(store.pending_wallet(w.id).await.unwrap().is_some());
    store.reap(now + 301, rule(now + 301)).await.unwrap();
    assert!(store.pending_wallet(w.id).await.unwrap().is_none());
}

/// Which writes commit relaxed (SQLite's `synchronous=NORMAL`, `store/sql/relaxed.rs`): a batch
/// lane's ceremony (with its lease, and its pending wallet when no key setup is reserved) and a
/// lease. A ticket answered `201 Created` before its run, and a key setup's reservation, are
/// synced. PostgreSQL relaxes nothing, and its lease still commits.
async fn only_what_nobody_can_present_after_a_power_loss_commits_without_waiting_for_the_disk(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let relaxes = u64::from(matches!(kind, Kind::Sqlite));
    let now = dyad_server::clock::now();
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
    let created = |tag: u8, begins: Begins, setup: Option<dyad_proto::KeySetupId>| {
        let w = PendingWallet {
            pregen_id: PregenId::parse("customId", &format!("relaxed-{tag}")).unwrap(),
            ..pending(scope, now)
        };
        let c = ceremony(scope, w.id, now + 60, tag);
        let audit = &audit;
        async move {
            store
                .create_pending_wallet(&w, &c, audit, rule(now), begins, setup)
                .await
                .unwrap()
        }
    };
    let id = live(store, scope, now).await;
    let before = store.relaxed_holds();
    let holds = || store.relaxed_holds() - before;

    assert_eq!(created(40, Begins::OnPresentation, None).await, CreateOutcome::Created);
    assert_eq!(
        holds(),
        0,
        "a pending wallet answered 201 before its key generation is synced"
    );
    assert_eq!(created(41, Begins::Now(now), None).await, CreateOutcome::Created);
    assert_eq!(holds(), relaxes, "a lane's pending wallet");
    let setup = dyad_server::store::StoredKeySetup {
        id: dyad_proto::KeySetupId::random(),
        scope,
        sealed: SealedShare {
            data_key_id: 1,
            sealed: vec![3; 48],
        },
        created_at: now,
    };
    store.put_key_setup(&setup).await.unwrap();
    assert_eq!(
        created(42, Begins::Now(now), Some(setup.id)).await,
        CreateOutcome::Created
    );
    assert_eq!(holds(), relaxes, "a key setup's reservation is synced, on a lane too");

    // The store does not look at a ceremony's kind; the wallet is live.
    let sign = |tag: u8| ceremony(scope, id, now + 60, tag);
    store
        .insert_ceremony(&sign(43), &audit, Begins::OnPresentation)
        .await
        .unwrap();
    assert_eq!(holds(), relaxes, "a ticket answered 201 before its run is synced");
    store
        .insert_ceremony(&sign(44), &audit, Begins::Now(now))
        .await
        .unwrap();
    assert_eq!(holds(), 2 * relaxes, "a lane's ceremony");
    assert!(store
        .insert_ceremony_leased(&sign(45), &audit, Begins::Now(now), &lease(6, now, now + 10))
        .await
        .unwrap());
    assert_eq!(holds(), 3 * relaxes, "a lane's ceremony with its lease");
    store.release_lease(id, &[6; 16]).await.unwrap();
    assert_eq!(
        store.acquire_lease(id, &lease(7, now, now + 10)).await.unwrap(),
        LeaseAttempt::Acquired
    );
    assert_eq!(holds(), 4 * relaxes, "a lease");
    assert_eq!(
        store.acquire_lease(id, &lease(8, now, now + 10)).await.unwrap(),
        LeaseAttempt::Busy,
        "the lease was taken, relaxed or not"
    );
}

/// A signature's writes: the ceremony with its request's entry, with or without the lease; the
/// outcome's entry with the lease given back. Each writes all of its rows, says rightly
/// whether it took the lease, and one that fails writes nothing.
async fn a_ceremony_its_entry_and_its_lease_are_written_together_or_not_at_all(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let id = live(store, scope, now).await;
    let entry = |n: u32| dyad_server::audit::entry(scope, Some(id), AuditAction::SignRequested, json!({ "n": n }));
    let logged = || async {
        let log = store.audit_log(scope).await.unwrap();
        log.iter()
            .filter_map(|r| r.detail.get("n").and_then(|n| n.as_u64()))
            .collect::<Vec<_>>()
    };
    let consumed_at = |tag: u8| {
        let raw = &db.raw;
        async move {
            sqlx::query_scalar::<_, Option<i64>>("SELECT consumed_at FROM ceremonies WHERE id_hash = $1")
                .bind(&[tag; 32][..])
                .fetch_optional(raw)
                .await
                .unwrap()
        }
    };

    store
        .insert_ceremony(&ceremony(scope, id, now + 60, 50), &entry(1), Begins::OnPresentation)
        .await
        .unwrap();
    assert_eq!(logged().await, [1]);
    assert!(store
        .consume_ceremony(&CeremonyHash([50; 32]), now)
        .await
        .unwrap()
        .is_some());

    assert!(
        store
            .insert_ceremony_leased(
                &ceremony(scope, id, now + 60, 51),
                &entry(2),
                Begins::Now(now),
                &lease(1, now, now + 10)
            )
            .await
            .unwrap(),
        "the lease was free"
    );
    assert_eq!(consumed_at(51).await, Some(Some(now)), "stored used up");
    assert_eq!(logged().await, [1, 2]);
    assert_eq!(
        store.acquire_lease(id, &lease(2, now, now + 10)).await.unwrap(),
        LeaseAttempt::Busy
    );

    assert!(
        !store
            .insert_ceremony_leased(
                &ceremony(scope, id, now + 60, 52),
                &entry(3),
                Begins::Now(now),
                &lease(3, now, now + 10)
            )
            .await
            .unwrap(),
        "the lease is held"
    );
    assert_eq!(consumed_at(52).await, Some(Some(now)), "stored all the same");
    assert_eq!(logged().await, [1, 2, 3]);

    store.release_lease_recorded(id, &[1; 16], &entry(4)).await.unwrap();
    assert_eq!(logged().await, [1, 2, 3, 4]);
    assert_eq!(
        store.acquire_lease(id, &lease(4, now, now + 10)).await.unwrap(),
        LeaseAttempt::Acquired,
        "given back with the entry"
    );

    // A ceremony id that exists: refused, and neither its entry nor the lease is written.
    let again = ceremony(scope, id, now + 60, 51);
    assert!(store
        .insert_ceremony(&again, &entry(5), Begins::Now(now))
        .await
        .is_err());
    store.release_lease(id, &[4; 16]).await.unwrap();
    assert!(store
        .insert_ceremony_leased(&again, &entry(6), Begins::Now(now), &lease(5, now, now + 10))
        .await
        .is_err());
    assert_eq!(logged().await, [1, 2, 3, 4]);
    assert_eq!(
        store.acquire_lease(id, &lease(6, now, now + 10)).await.unwrap(),
        LeaseAttempt::Acquired,
        "the failed one took no lease"
    );
}

async fn the_audit_log_is_append_only(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    store
        .audit(&dyad_server::audit::entry(
            scope,
            None,
            AuditAction::SignRequested,
            json!({ "n": 1 }),
        ))
        .await
        .unwrap();
    let pool = &db.raw;
    // Refused by the triggers, not by anything else (a locked or read-only database).
    for statement in ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"] {
        let err = sqlx::query(statement).execute(pool).await.unwrap_err();
        assert!(
            err.to_string().contains("audit log is append-only"),
            "{statement}: {err}"
        );
    }
    let log = store.audit_log(scope).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["app.created", "api_key.created", "sign.requested"]);
    assert_eq!(log[2].detail, json!({ "n": 1 }));
}

async fn settings_change_only_from_what_was_read_and_are_audited(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let off = AppSettings::default();
    let on = AppSettings {
        allow_raw_signing: true,
    };
    assert!(!off.allow_raw_signing, "a new app may not sign raw digests");
    let entry = dyad_server::audit::entry(scope, None, AuditAction::AppUpdated, json!({}));
    // Someone else's view (it was on) is stale: nothing changes, nothing is audited.
    assert!(!store
        .update_app_settings(scope.app_id, &on, &off, &entry)
        .await
        .unwrap());
    assert!(store
        .update_app_settings(scope.app_id, &off, &on, &entry)
        .await
        .unwrap());
    assert_eq!(store.app(scope.app_id).await.unwrap().unwrap().settings, on);
    let (app, old) = dyad_server::api_key::set_allow_raw_signing(store, scope.app_id, false)
        .await
        .unwrap();
    assert!(old && !app.settings.allow_raw_signing);
    let log = store.audit_log(scope).await.unwrap();
    let updates: Vec<_> = log.iter().filter(|r| r.action == "app.updated").collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[1].detail,
        json!({ "allowRawSigning": { "old": true, "new": false } })
    );
    let unknown = dyad_server::api_key::set_allow_raw_signing(store, AppId::random(), true).await;
    assert!(unknown.unwrap_err().to_string().contains("dyad app list"));
}

async fn revoked_keys_stop_authenticating_at_once(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let (second, key) = dyad_server::api_key::create_key(store, scope.app_id).await.unwrap();
    assert_eq!(
        dyad_server::api_key::authenticate(store, key.expose()).await.unwrap(),
        scope
    );
    let listed = dyad_server::api_key::list_keys(store, scope.app_id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].key_id, second.key_id);
    assert!(listed.iter().all(|k| k.revoked_at.is_none()));

    let revoked = dyad_server::api_key::revoke_key(store, scope.app_id, &second.key_id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        dyad_server::api_key::authenticate(store, key.expose()).await,
        Err(ServerError::Unauthenticated)
    ));
    // Twice, unknown, another app's, or a whole key: refused, nothing changes, no secret echoed.
    let again = dyad_server::api_key::revoke_key(store, scope.app_id, &second.key_id).await;
    assert!(again.unwrap_err().to_string().contains("revoked already"));
    let unknown = dyad_server::api_key::revoke_key(store, scope.app_id, "0123456789abcdef").await;
    assert!(unknown.unwrap_err().to_string().contains("no API key"));
    let (other, _) = dyad_server::api_key::create_app(store, "other", Environment::Beta)
        .await
        .unwrap();
    let first = &listed[0].key_id;
    let foreign = dyad_server::api_key::revoke_key(store, other.id, first).await;
    assert!(
        matches!(&foreign, Err(ServerError::InvalidRequest(m)) if m.contains("has no API key")),
        "{foreign:?}"
    );
    let whole = dyad_server::api_key::revoke_key(store, scope.app_id, key.expose()).await;
    let msg = whole.unwrap_err().to_string();
    assert!(!msg.contains(key.expose()) && msg.contains("16 hex digits"), "{msg}");

    let log = store.audit_log(scope).await.unwrap();
    let count = |a: &str| log.iter().filter(|r| r.action == a).count();
    assert_eq!(count("api_key.created"), 2);
    assert_eq!(count("api_key.revoked"), 1);
    let listed = dyad_server::api_key::list_keys(store, scope.app_id).await.unwrap();
    assert!(listed[0].revoked_at.is_none() && listed[1].revoked_at.is_some());
}

async fn a_database_from_the_direct_wrapping_scheme_is_refused_clearly(kind: Kind) {
    let Some(db) = open(kind).await else { return };
    let store = &db.store;
    // A data key row as the first version wrote it: no scheme column, so the migration marks it
    // as wrapped by the master key itself.
    sqlx::query("INSERT INTO data_keys (id, wrapped, created_at) VALUES (1, $1, 0)")
        .bind(vec![0u8; 60])
        .execute(&db.raw)
        .await
        .unwrap();
    let master = dyad_server::MasterKey::from_hex(&"11".repeat(32)).unwrap();
    let state = dyad_server::AppState::new(
        std::sync::Arc::new(store.clone()),
        &master,
        dyad_server::ServerConfig::default(),
    )
    .await;
    let err = state.err().expect("refused");
    let msg = err.to_string();
    assert!(matches!(err, SetupError::Database(_)), "{err:?}");
    assert!(
        msg.contains("earlier Dyad version") && msg.contains("master key itself"),
        "{msg}"
    );

    // A current database under another master key: also a clear refusal.
    let Some(db2) = open(kind).await else { return };
    let store2 = std::sync::Arc::new(db2.store.clone());
    dyad_server::AppState::new(store2.clone(), &master, dyad_server::ServerConfig::default())
        .await
        .unwrap();
    let other = dyad_server::MasterKey::from_hex(&"22".repeat(32)).unwrap();
    let err = dyad_server::AppState::new(store2, &other, dyad_server::ServerConfig::default())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("another master key"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_are_private_and_an_existing_one_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dyad.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqlStore::open(&path).await.unwrap();
    store
        .audit(&dyad_server::audit::entry(
            Scope {
                app_id: AppId::random(),
                environment: Environment::Beta,
            },
            None,
            AuditAction::SignRequested,
            json!({}),
        ))
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = dir.path().join(format!("dyad.db{suffix}"));
        assert!(p.exists(), "{} exists while open", p.display());
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[cfg(unix)]
#[test]
fn a_data_folder_others_can_read_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("new");
    dyad_server::DataDir::new(&fresh).unwrap();
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o750)).unwrap();
    let msg = dyad_server::DataDir::new(&fresh).unwrap_err().to_string();
    assert!(msg.contains("chmod 700") && msg.contains("mode 750"), "{msg}");
    assert_eq!(msg.lines().count(), 1);
}

/// A committed wallet (its sealed share is a stand-in: the store never looks inside).
async fn live(store: &SqlStore, scope: Scope, now: i64) -> WalletId {
    let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
    let w = pending(scope, now);
    let c = ceremony(scope, w.id, now + 60, 9);
    store
        .create_pending_wallet(&w, &c, &audit, rule(now), Begins::OnPresentation, None)
        .await
        .unwrap();
    let stand_in = StoredDataKey {
        wrapped: vec![0; 60],
        wrapped_with: "test".into(),
    };
    store.put_data_key(1, &stand_in).await.unwrap();
    let generator = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798").unwrap();
    let key = dyad_mpc::PublicKey::from_bytes(dyad_mpc::Scheme::Dkls, &generator).unwrap();
    let share = SealedShare {
        data_key_id: 1,
        sealed: vec![1; 48],
    };
    store
        .activate_wallet(w.id, &key, "0xabc", &share, &audit)
        .await
        .unwrap();
    w.id
}

fn lease(tag: u8, now: i64, until: i64) -> LeaseRequest {
    LeaseRequest {
        token: [tag; 16],
        now,
        until,
    }
}

async fn a_ceremony_lease_has_one_holder_expires_on_its_own_and_a_lock_ends_it(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let now = dyad_server::clock::now();
    let id = live(store, scope, now).await;

    assert_eq!(
        store.acquire_lease(id, &lease(1, now, now + 10)).await.unwrap(),
        LeaseAttempt::Acquired
    );
    assert_eq!(
        store.acquire_lease(id, &lease(2, now, now + 10)).await.unwrap(),
        LeaseAttempt::Busy
    );
    // Its holder died: once the lease's time is up, the next one takes it.
    assert_eq!(
        store.acquire_lease(id, &lease(2, now + 11, now + 20)).await.unwrap(),
        LeaseAttempt::Acquired
    );
    // The first holder, late, cannot give back a lease that is no longer its own.
    store.release_lease(id, &[1; 16]).await.unwrap();
    assert_eq!(
        store.acquire_lease(id, &lease(3, now + 12, now + 20)).await.unwrap(),
        LeaseAttempt::Busy
    );
    store.release_lease(id, &[2; 16]).await.unwrap();
    assert_eq!(
        store.acquire_lease(id, &lease(3, now + 12, now + 20)).await.unwrap(),
        LeaseAttempt::Acquired
    );
    store.release_lease(id, &[3; 16]).await.unwrap();

    // A locked share pair has no lease to give, free or not.
    let audit = dyad_server::audit::entry(scope, Some(id), AuditAction::WalletLocked, json!({}));
    store.lock_wallet(id, &audit).await.unwrap();
    assert_eq!(
        store.acquire_lease(id, &lease(4, now, now + 10)).await.unwrap(),
        LeaseAttempt::Locked
    );
    // Pending or unknown wallets have none either.
    assert_eq!(
        store
            .acquire_lease(WalletId::random(), &lease(5, now, now + 10))
            .await
            .unwrap(),
        LeaseAttempt::Gone
    );
}

/// Rows the model cannot represent (a live wallet without its key, an audit action this version
/// does not know) are refused as corrupt, never half-read.
async fn rows_the_model_cannot_represent_are_refused_as_corrupt(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = &db.store;
    let pool = &db.raw;
    let id = WalletId::random();
    sqlx::query(
        "INSERT INTO wallets (id, app_id, environment, wallet_type, scheme, public_key, address, pregen_kind, \
         pregen_value, status, key_version, created_at, updated_at) \
         VALUES ($1, $2, $3, 'EVM', 'DKLS', NULL, NULL, 'email', 'k@example.com', 'pregen', 1, 0, 0)",
    )
    .bind(id.to_string())
    .bind(scope.app_id.to_string())
    .bind(scope.environment.as_str())
    .execute(pool)
    .await
    .unwrap();
    assert!(matches!(
        store.wallet(scope, id).await,
        Err(StoreError::Corrupt("key of a live wallet"))
    ));
    assert!(matches!(store.wallets(scope, None).await, Err(StoreError::Corrupt(_))));
    // The same row as pending would be fine: it has no key yet.
    assert!(store.pending_wallet(id).await.unwrap().is_none());

    sqlx::query(
        "INSERT INTO audit_log (at, app_id, environment, wallet_id, action, detail) \
         VALUES (0, $1, $2, NULL, 'wallet.teleported', '{}')",
    )
    .bind(scope.app_id.to_string())
    .bind(scope.environment.as_str())
    .execute(pool)
    .await
    .unwrap();
    assert!(matches!(
        store.audit_log(scope).await,
        Err(StoreError::Corrupt("audit action"))
    ));
    // A corrupt row is a server fault, not the caller's.
    let e = ServerError::from(StoreError::Corrupt("audit action"));
    assert_eq!(e.status_and_code().0, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
}

/// Many creates of one identifier at once, each through its own connection: one wallet, and
/// every other caller is told which.
async fn concurrent_creates_of_one_identifier_make_one_wallet(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let store = std::sync::Arc::new(db.store.clone());
    let now = dyad_server::clock::now();
    let tasks: Vec<_> = (0..16u8)
        .map(|tag| {
            let store = store.clone();
            tokio::spawn(async move {
                let audit = dyad_server::audit::entry(scope, None, AuditAction::WalletCreateRequested, json!({}));
                let w = pending(scope, now);
                let outcome = store
                    .create_pending_wallet(
                        &w,
                        &ceremony(scope, w.id, now + 60, tag),
                        &audit,
                        rule(now),
                        Begins::OnPresentation,
                        None,
                    )
                    .await
                    .unwrap();
                (w.id, outcome)
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut told = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (id, CreateOutcome::Created) => created.push(id),
            (_, CreateOutcome::Exists(id, WalletStatus::Pending)) => told.push(id),
            (_, other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one create wins");
    assert_eq!(told.len(), 15);
    assert!(
        told.iter().all(|id| *id == created[0]),
        "the others are told the winner"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wallets")
        .fetch_one(&db.raw)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// Two stores on one database (two replicas): the lease one takes, the other cannot, until it
/// is given back or expires.
async fn a_lease_holds_across_stores_sharing_one_database(kind: Kind) {
    let Some((db, scope)) = setup(kind).await else { return };
    let now = dyad_server::clock::now();
    let id = live(&db.store, scope, now).await;
    let other = db.second_store().await;
    assert_eq!(
        db.store.acquire_lease(id, &lease(1, now, now + 10)).await.unwrap(),
        LeaseAttempt::Acquired
    );
    assert_eq!(
        other.acquire_lease(id, &lease(2, now, now + 10)).await.unwrap(),
        LeaseAttempt::Busy
    );
    // Many at once from both: none gets it while it is held.
    let attempts: Vec<_> = (0..8u8)
        .map(|i| {
            let s = if i % 2 == 0 { db.store.clone() } else { other.clone() };
            tokio::spawn(async move { s.acquire_lease(id, &lease(10 + i, now + 1, now + 10)).await.unwrap() })
        })
        .collect();
    for a in attempts {
        assert_eq!(a.await.unwrap(), LeaseAttempt::Busy);
    }
    db.store.release_lease(id, &[1; 16]).await.unwrap();
    // Freed: of many at once from both, exactly one gets it.
    let attempts: Vec<_> = (0..8u8)
        .map(|i| {
            let s = if i % 2 == 0 { db.store.clone() } else { other.clone() };
            tokio::spawn(async move { s.acquire_lease(id, &lease(20 + i, now + 2, now + 10)).await.unwrap() })
        })
        .collect();
    let mut acquired = 0;
    for a in attempts {
        if a.await.unwrap() == LeaseAttempt::Acquired {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1, "one holder at a time");
    other.close().await;
}

/// The PostgreSQL schema has every table and column of the SQLite one and nothing else (but
/// the `rowid` columns standing in for SQLite's implicit ones): the same SQL runs on both.
async fn the_schema_is_the_same_on_both_engines(kind: Kind) {
    let Some(db) = open(kind).await else { return };
    let Some(sqlite) = open(Kind::Sqlite).await else { return };
    let columns = |mut c: Vec<(String, String)>| {
        c.retain(|(_, col)| col != "rowid");
        // Sorted here: the engines' collations order names differently.
        c.sort();
        c
    };
    let here = columns(db.store.schema_columns().await.unwrap());
    assert!(
        here.iter().any(|(t, c)| t == "wallets" && c == "recovery_hash"),
        "{here:?}"
    );
    assert_eq!(here, columns(sqlite.store.schema_columns().await.unwrap()));
}
