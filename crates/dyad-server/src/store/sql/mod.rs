//! The SQL store: one implementation of [`Store`] for the embedded SQLite file (WAL mode) and
//! for a PostgreSQL server shared by replicas. Both run the same SQL through sqlx's `Any`
//! driver; the schemas differ only in column types (see `migrations/postgres`), and the one
//! thing the engines do differently, serialising a transaction that reads before it writes, is
//! [`SqlStore::begin_serialized`].

mod copy;
mod grants;
mod open;
mod people;
mod proofs;
mod relaxed;
mod rows;

use std::str::FromStr;

use async_trait::async_trait;
use dyad_mpc::PublicKey;
use dyad_proto::{AppId, Environment, KeySetupId, PregenId, WalletId, WalletStatus};
use sqlx::{AnyPool, Row};

pub use copy::CopyReport;
pub use open::{Backend, DatabaseUrl, Durability};
use rows::{
    api_key_from_row, corrupt, insert_api_key, insert_audit, insert_ceremony_row, is_unique_violation, key_setup,
    scheme_str, update_one_audited, API_KEY_COLUMNS, WALLET_COLUMNS,
};

use super::*;
use crate::model::{Actor, AuthorisedSign, CeremonyKind};

/// Takes wallet `id`'s lease for `lease` if it is free; whether it did. One statement, which
/// SQLite runs under its single writer lock and PostgreSQL re-checks on the locked row, so two
/// callers can never both see the lease free.
async fn take_lease<'e, E>(exec: E, id: WalletId, lease: &LeaseRequest) -> StoreResult<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let taken = sqlx::query(
        "UPDATE wallets SET lease_token = $1, lease_until = $2 WHERE id = $3 AND status <> 'pending' \
         AND locked_at IS NULL AND (lease_until IS NULL OR lease_until < $4)",
    )
    .bind(&lease.token[..])
    .bind(lease.until)
    .bind(id.to_string())
    .bind(lease.now)
    .execute(exec)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// Gives wallet `id`'s lease back if `token` still holds it.
async fn give_lease_back<'e, E>(exec: E, id: WalletId, token: &[u8; 16]) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE wallets SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2")
        .bind(id.to_string())
        .bind(&token[..])
        .execute(exec)
        .await?;
    Ok(())
}

/// [`Store`] on SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    relaxed: relaxed::RelaxedMark,
}

#[async_trait]
impl Store for SqlStore {
    async fn create_app(&self, app: &AppRecord, key: &ApiKeyRecord, audit: &[AuditRecord]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO apps (id, name, environment, created_at, allow_raw_signing) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(app.id.to_string())
        .bind(&app.name)
        .bind(app.environment.as_str())
        .bind(app.created_at)
        .bind(i64::from(app.settings.allow_raw_signing))
        .execute(&mut *tx)
        .await?;
        insert_api_key(&mut *tx, key).await?;
        for entry in audit {
            insert_audit(&mut *tx, entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn api_key(&self, key_id: &str) -> StoreResult<Option<(ApiKeyRecord, Scope)>> {
        let row = sqlx::query(
            "SELECT k.key_id, k.app_id, k.secret_hash, k.created_at, k.revoked_at, a.environment \
             FROM api_keys k JOIN apps a ON a.id = k.app_id WHERE k.key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|r| {
                let key = api_key_from_row(r)?;
                let env: String = r.try_get("environment")?;
                let scope = Scope {
                    app_id: key.app_id,
                    environment: Environment::from_str(&env).map_err(|_| corrupt("environment"))?,
                };
                Ok((key, scope))
            })
            .transpose()
    }

    async fn app(&self, id: AppId) -> StoreResult<Option<AppRecord>> {
        Ok(self.apps_where(Some(id)).await?.into_iter().next())
    }

    async fn apps(&self) -> StoreResult<Vec<AppRecord>> {
        self.apps_where(None).await
    }

    async fn update_app_settings(
        &self,
        id: AppId,
        expected: &AppSettings,
        new: &AppSettings,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let update = sqlx::query("UPDATE apps SET allow_raw_signing = $1 WHERE id = $2 AND allow_raw_signing = $3")
            .bind(i64::from(new.allow_raw_signing))
            .bind(id.to_string())
            .bind(i64::from(expected.allow_raw_signing));
        update_one_audited(&self.pool, update, audit).await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_api_key(&mut *tx, key).await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_keys(&self, app: AppId) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE app_id = $1 ORDER BY created_at, rowid"
        ))
        .bind(app.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, app: AppId, key_id: &str, at: i64, audit: &AuditRecord) -> StoreResult<bool> {
        let update =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE app_id = $2 AND key_id = $3 AND revoked_at IS NULL")
                .bind(at)
                .bind(app.to_string())
                .bind(key_id);
        update_one_audited(&self.pool, update, audit).await
    }

    async fn data_key(&self, id: i64) -> StoreResult<Option<StoredDataKey>> {
        let row = sqlx::query("SELECT wrapped, wrapped_with FROM data_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(StoredDataKey {
                wrapped: r.try_get("wrapped")?,
                wrapped_with: r.try_get("wrapped_with")?,
            })
        })
        .transpose()
    }

    async fn put_data_key(&self, id: i64, key: &StoredDataKey) -> StoreResult<StoredDataKey> {
        sqlx::query(
            "INSERT INTO data_keys (id, wrapped, wrapped_with, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&key.wrapped)
        .bind(&key.wrapped_with)
        .bind(crate::clock::now())
        .execute(&self.pool)
        .await?;
        self.data_key(id)
            .await?
            .ok_or(StoreError::Conflict("the data key vanished after it was stored"))
    }

    async fn create_pending_wallet(
        &self,
        w: &PendingWallet,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        abandoned: Abandoned,
        begins: Begins,
        key_setup: Option<KeySetupId>,
    ) -> StoreResult<CreateOutcome> {
        let begun_at = begins.consumed_at();
        // Relaxed (SQLite) only on a lane and without a key setup (`relaxed::may_relax`): such a
        // pending wallet is void until its key generation's synced commit activates it.
        let mut conn = self.relaxed_if(relaxed::may_relax(begins, key_setup.as_ref())).await?;
        let mut tx = conn.begin().await?;
        sqlx::query(
            "DELETE FROM wallets WHERE app_id = $1 AND environment = $2 AND wallet_type = $3 \
             AND pregen_kind = $4 AND pregen_value = $5 AND status = 'pending' \
             AND (created_at < $6 OR (started_at IS NULL AND created_at < $7))",
        )
        .bind(w.scope.app_id.to_string())
        .bind(w.scope.environment.as_str())
        .bind(w.wallet_type.as_str())
        .bind(w.pregen_id.kind())
        .bind(w.pregen_id.value())
        .bind(abandoned.before)
        .bind(abandoned.unstarted_before)
        .execute(&mut *tx)
        .await?;
        // ON CONFLICT instead of catching the unique violation: PostgreSQL aborts a transaction
        // at its first error, and the existing wallet is read in this one. (Under PostgreSQL's
        // READ COMMITTED, a conflicting insert still in flight is waited for, and then seen.)
        let inserted = sqlx::query(
            "INSERT INTO wallets (id, app_id, environment, wallet_type, scheme, public_key, address, pregen_kind, \
             pregen_value, status, key_version, created_at, updated_at, started_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, 'pending', $8, $9, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(w.id.to_string())
        .bind(w.scope.app_id.to_string())
        .bind(w.scope.environment.as_str())
        .bind(w.wallet_type.as_str())
        .bind(scheme_str(w.scheme()))
        .bind(w.pregen_id.kind())
        .bind(w.pregen_id.value())
        .bind(i64::from(PendingWallet::FIRST_KEY_VERSION))
        .bind(w.created_at)
        .bind(begun_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            let row = sqlx::query(
                "SELECT id, status FROM wallets WHERE app_id = $1 AND environment = $2 AND wallet_type = $3 \
                 AND pregen_kind = $4 AND pregen_value = $5",
            )
            .bind(w.scope.app_id.to_string())
            .bind(w.scope.environment.as_str())
            .bind(w.wallet_type.as_str())
            .bind(w.pregen_id.kind())
            .bind(w.pregen_id.value())
            .fetch_optional(&mut *tx)
            .await?;
            // The only other unique key is the random wallet id.
            let row = row.ok_or(StoreError::Conflict("a new wallet id collided with another"))?;
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            return Ok(CreateOutcome::Exists(
                id.parse().map_err(|_| corrupt("wallet id"))?,
                WalletStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            ));
        }
        if let Some(setup) = key_setup {
            let reserved = sqlx::query(
                "UPDATE key_setups SET taken_by = $1 WHERE id = $2 AND app_id = $3 AND environment = $4 \
                 AND taken_by IS NULL AND created_at >= $5",
            )
            .bind(w.id.to_string())
            .bind(setup.to_string())
            .bind(w.scope.app_id.to_string())
            .bind(w.scope.environment.as_str())
            .bind(abandoned.key_setups_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if reserved == 0 {
                // Dropping the transaction rolls the wallet back: nothing was written.
                return Ok(CreateOutcome::NoKeySetup);
            }
        }
        insert_ceremony_row(&mut *tx, ceremony, begun_at).await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(CreateOutcome::Created)
    }

    async fn put_key_setup(&self, setup: &StoredKeySetup) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO key_setups (id, app_id, environment, data_key_id, sealed, created_at, taken_by) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(setup.id.to_string())
        .bind(setup.scope.app_id.to_string())
        .bind(setup.scope.environment.as_str())
        .bind(setup.sealed.data_key_id)
        .bind(&setup.sealed.sealed)
        .bind(setup.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn take_key_setup(&self, wallet: WalletId) -> StoreResult<Option<StoredKeySetup>> {
        let row = sqlx::query(
            "DELETE FROM key_setups WHERE taken_by = $1 \
             RETURNING id, app_id, environment, data_key_id, sealed, created_at",
        )
        .bind(wallet.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| key_setup(&r)).transpose()
    }

    async fn key_setups_available(&self, scope: Scope) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM key_setups WHERE app_id = $1 AND environment = $2 AND taken_by IS NULL",
        )
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn activate_wallet(
        &self,
        id: WalletId,
        public_key: &PublicKey,
        address: &str,
        share: &SealedShare,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE wallets SET public_key = $1, address = $2, status = 'pregen', updated_at = $3 \
             WHERE id = $4 AND status = 'pending' RETURNING key_version",
        )
        .bind(public_key.as_bytes())
        .bind(address)
        .bind(audit.at)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(version) = version else {
            return Err(StoreError::Conflict(
                "the pending wallet expired before key generation finished",
            ));
        };
        sqlx::query(
            "INSERT INTO cloud_shares (wallet_id, key_version, data_key_id, sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(version)
        .bind(share.data_key_id)
        .bind(&share.sealed)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn discard_pending_wallet(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM wallets WHERE id = $1 AND status = 'pending'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn wallets(&self, scope: Scope, pregen_id: Option<&PregenId>) -> StoreResult<Vec<Wallet>> {
        let (kind, value) = pregen_id.map(|p| (p.kind(), p.value())).unzip();
        let rows = sqlx::query(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE app_id = $1 AND environment = $2 AND status <> 'pending' \
             AND ($3 IS NULL OR (pregen_kind = $3 AND pregen_value = $4)) ORDER BY created_at, rowid"
        ))
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .bind(kind)
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::live_wallet_from_row).collect()
    }

    async fn wallets_page(
        &self,
        scope: Scope,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Wallet)>> {
        let (at, seq) = after.unzip();
        let rows = sqlx::query(&format!(
            "SELECT rowid AS seq, {WALLET_COLUMNS} FROM wallets WHERE app_id = $1 AND environment = $2 \
             AND status <> 'pending' AND ($3 IS NULL OR (created_at, rowid) > ($3, $4)) \
             ORDER BY created_at, rowid LIMIT $5"
        ))
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .bind(at)
        .bind(seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("seq")?, Self::live_wallet_from_row(r)?)))
            .collect()
    }

    async fn pending_wallet(&self, id: WalletId) -> StoreResult<Option<PendingWallet>> {
        let row = sqlx::query(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE id = $1 AND status = 'pending'"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::pending_wallet_from_row).transpose()
    }

    async fn wallet(&self, scope: Scope, id: WalletId) -> StoreResult<Option<Wallet>> {
        let row = sqlx::query(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE app_id = $1 AND environment = $2 AND id = $3 AND status <> 'pending'"
        ))
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::live_wallet_from_row).transpose()
    }

    async fn update_pregen_id(
        &self,
        scope: Scope,
        id: WalletId,
        p: &PregenId,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE wallets SET pregen_kind = $1, pregen_value = $2, updated_at = $3 \
             WHERE id = $4 AND app_id = $5 AND environment = $6 AND status = 'pregen'",
        )
        .bind(p.kind())
        .bind(p.value())
        .bind(audit.at)
        .bind(id.to_string())
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from);
        let updated = match updated {
            Ok(r) => r.rows_affected() == 1,
            Err(e) if is_unique_violation(&e) => {
                // PostgreSQL has aborted the transaction: look the other wallet up outside it.
                tx.rollback().await?;
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT w2.id FROM wallets w1 JOIN wallets w2 ON w2.app_id = w1.app_id \
                     AND w2.environment = w1.environment AND w2.wallet_type = w1.wallet_type \
                     WHERE w1.id = $1 AND w2.pregen_kind = $2 AND w2.pregen_value = $3",
                )
                .bind(id.to_string())
                .bind(p.kind())
                .bind(p.value())
                .fetch_optional(&self.pool)
                .await?;
                let other = other.and_then(|o| o.parse().ok()).unwrap_or(id);
                return Err(StoreError::IdentifierTaken(other));
            }
            Err(e) => return Err(e),
        };
        if updated {
            insert_audit(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    async fn lock_wallet(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE wallets SET locked_at = $1, updated_at = $1 WHERE id = $2 AND locked_at IS NULL")
            .bind(audit.at)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn acquire_lease(&self, id: WalletId, lease: &LeaseRequest) -> StoreResult<LeaseAttempt> {
        // Relaxed (SQLite): a lease lost with the machine was held by a process gone with it.
        // Elsewhere the one statement commits on its own.
        let mut conn = self.relaxed().await?;
        let taken = if conn.is_relaxed() {
            let mut tx = conn.begin().await?;
            let taken = take_lease(&mut *tx, id, lease).await?;
            tx.commit().await?;
            taken
        } else {
            take_lease(conn.conn(), id, lease).await?
        };
        if taken {
            return Ok(LeaseAttempt::Acquired);
        }
        let row = sqlx::query("SELECT locked_at FROM wallets WHERE id = $1 AND status <> 'pending'")
            .bind(id.to_string())
            .fetch_optional(&mut *conn.conn())
            .await?;
        Ok(match row {
            None => LeaseAttempt::Gone,
            Some(r) if r.try_get::<Option<i64>, _>("locked_at")?.is_some() => LeaseAttempt::Locked,
            Some(_) => LeaseAttempt::Busy,
        })
    }

    async fn extend_lease(&self, id: WalletId, token: &[u8; 16], until: i64) -> StoreResult<bool> {
        let n = sqlx::query("UPDATE wallets SET lease_until = $1 WHERE id = $2 AND lease_token = $3")
            .bind(until)
            .bind(id.to_string())
            .bind(&token[..])
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn release_lease(&self, id: WalletId, token: &[u8; 16]) -> StoreResult<()> {
        give_lease_back(&self.pool, id, token).await
    }

    async fn release_lease_recorded(&self, id: WalletId, token: &[u8; 16], audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut *tx, audit).await?;
        give_lease_back(&mut *tx, id, token).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_ceremony_leased(
        &self,
        ceremony: &CeremonyRecord,
        audit: &AuditRecord,
        begins: Begins,
        lease: &LeaseRequest,
    ) -> StoreResult<bool> {
        // Relaxed (SQLite) on a lane (`relaxed::may_relax`): the ceremony, its request's entry
        // and the lease are void unless the outcome's synced commit follows.
        let mut conn = self.relaxed_if(relaxed::may_relax(begins, None)).await?;
        let mut tx = conn.begin().await?;
        insert_ceremony_row(&mut *tx, ceremony, begins.consumed_at()).await?;
        insert_audit(&mut *tx, audit).await?;
        let taken = take_lease(&mut *tx, ceremony.wallet_id, lease).await?;
        tx.commit().await?;
        Ok(taken)
    }

    async fn insert_ceremony(&self, ceremony: &CeremonyRecord, audit: &AuditRecord, begins: Begins) -> StoreResult<()> {
        // Relaxed (SQLite) only on a lane (`relaxed::may_relax`), whose run is recorded by a
        // later synced commit (its outcome) before the client can finish it. A ticket answered
        // `201 Created` is synced: the client may present it after a power loss.
        let mut conn = self.relaxed_if(relaxed::may_relax(begins, None)).await?;
        let mut tx = conn.begin().await?;
        insert_ceremony_row(&mut *tx, ceremony, begins.consumed_at()).await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn consume_ceremony(&self, id_hash: &CeremonyHash, now: i64) -> StoreResult<Option<CeremonyRecord>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE ceremonies SET consumed_at = $1 WHERE id_hash = $2 AND consumed_at IS NULL AND expires_at >= $1 \
             RETURNING app_id, environment, wallet_id, kind, payload, expires_at, user_id",
        )
        .bind(now)
        .bind(&id_hash.0[..])
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let app: String = row.try_get("app_id")?;
        let env: String = row.try_get("environment")?;
        let wallet: String = row.try_get("wallet_id")?;
        let kind: String = row.try_get("kind")?;
        let payload: Vec<u8> = row.try_get("payload")?;
        let kind = match kind.as_str() {
            "dkg" => CeremonyKind::Dkg,
            "sign" => CeremonyKind::Sign(
                postcard::from_bytes::<AuthorisedSign>(&payload).map_err(|_| corrupt("sign request"))?,
            ),
            "claim" => CeremonyKind::Claim,
            _ => return Err(corrupt("ceremony kind")),
        };
        let actor = match row.try_get::<Option<String>, _>("user_id")? {
            None => Actor::App,
            Some(u) => Actor::User(u.parse().map_err(|_| corrupt("ceremony user"))?),
        };
        if kind == CeremonyKind::Claim && actor == Actor::App {
            return Err(corrupt("claim without its person"));
        }
        if kind == CeremonyKind::Dkg {
            sqlx::query("UPDATE wallets SET started_at = $1 WHERE id = $2 AND status = 'pending'")
                .bind(now)
                .bind(&wallet)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(CeremonyRecord {
            id_hash: *id_hash,
            scope: Scope {
                app_id: app.parse().map_err(|_| corrupt("app id"))?,
                environment: env.parse().map_err(|_| corrupt("environment"))?,
            },
            actor,
            wallet_id: wallet.parse().map_err(|_| corrupt("wallet id"))?,
            kind,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    async fn cloud_share(&self, id: WalletId, key_version: u32) -> StoreResult<Option<SealedShare>> {
        let row = sqlx::query("SELECT data_key_id, sealed FROM cloud_shares WHERE wallet_id = $1 AND key_version = $2")
            .bind(id.to_string())
            .bind(i64::from(key_version))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(SealedShare {
                data_key_id: r.try_get("data_key_id")?,
                sealed: r.try_get("sealed")?,
            })
        })
        .transpose()
    }

    async fn login(
        &self,
        login: &Login,
        audit: &(dyn Fn(UserId, LoginOutcome) -> Vec<AuditRecord> + Send + Sync),
    ) -> StoreResult<LoginOutcome> {
        self.login_tx(login, audit).await
    }

    async fn session(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRecord>> {
        self.session_row(token_hash).await
    }

    async fn user_identifiers(&self, environment: Environment, user: UserId) -> StoreResult<Vec<VerifiedId>> {
        self.identifiers_of(environment, user).await
    }

    async fn extend_session(
        &self,
        token_hash: &[u8; 32],
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        self.extend_session_tx(token_hash, now, until, audit).await
    }

    async fn revoke_session(&self, token_hash: &[u8; 32], at: i64, audit: &AuditRecord) -> StoreResult<bool> {
        self.revoke_session_tx(token_hash, at, audit).await
    }

    async fn start_code(
        &self,
        code: &CodeChallenge,
        limits: &CodeLimits,
        audit: &AuditRecord,
    ) -> StoreResult<CodeStart> {
        self.start_code_tx(code, limits, audit).await
    }

    async fn open_code(&self, scope: Scope, identifier: &PregenId) -> StoreResult<Option<CodeChallenge>> {
        self.open_code_row(scope, identifier).await
    }

    async fn spend_code_try(&self, id: &str, max: u32) -> StoreResult<Option<u32>> {
        self.spend_code_try_row(id, max).await
    }

    async fn consume_code(&self, id: &str, now: i64) -> StoreResult<bool> {
        self.consume_code_row(id, now).await
    }

    async fn write_outbox(&self, message: &OutboxMessage) -> StoreResult<()> {
        self.write_outbox_row(message).await
    }

    async fn outbox(&self) -> StoreResult<Vec<OutboxMessage>> {
        self.outbox_rows().await
    }

    async fn insert_oauth_state(&self, state: &OAuthStateRecord) -> StoreResult<()> {
        self.insert_oauth_state_row(state).await
    }

    async fn consume_oauth_state(
        &self,
        state_hash: &[u8; 32],
        scope: Scope,
        provider: OAuthProvider,
        now: i64,
    ) -> StoreResult<Option<OAuthStateRecord>> {
        self.consume_oauth_state_row(state_hash, scope, provider, now).await
    }

    async fn insert_nonce(&self, nonce: &NonceRecord) -> StoreResult<()> {
        self.insert_nonce_row(nonce).await
    }

    async fn consume_nonce(&self, scope: Scope, nonce: &str, now: i64) -> StoreResult<bool> {
        self.consume_nonce_row(scope, nonce, now).await
    }

    async fn wallet_by_id(&self, id: WalletId) -> StoreResult<Option<Wallet>> {
        let row = sqlx::query(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE id = $1 AND status <> 'pending'"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::live_wallet_from_row).transpose()
    }

    async fn owned_wallets(&self, user: UserId) -> StoreResult<Vec<Wallet>> {
        let rows = sqlx::query(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets WHERE owner_user_id = $1 AND status = 'claimed' ORDER BY created_at, rowid"
        ))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::live_wallet_from_row).collect()
    }

    async fn start_claim(
        &self,
        ceremony: &CeremonyRecord,
        key_version: u32,
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<ClaimStart> {
        self.start_claim_tx(ceremony, key_version, now, until, audit).await
    }

    async fn commit_claim(&self, claim: &ClaimCommit, audit: &AuditRecord) -> StoreResult<()> {
        self.commit_claim_tx(claim, audit).await
    }

    async fn abandon_claim(&self, id: WalletId, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE wallets SET claiming_until = NULL WHERE id = $1 AND status = 'pregen'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_grant(&self, grant: &Grant, audit: &AuditRecord) -> StoreResult<()> {
        self.create_grant_tx(grant, audit).await
    }

    async fn grants(&self, user: UserId, scope: Scope) -> StoreResult<Vec<Grant>> {
        self.grant_rows(user, scope).await
    }

    async fn revoke_grant(
        &self,
        user: UserId,
        scope: Scope,
        id: uuid::Uuid,
        at: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        self.revoke_grant_tx(user, scope, id, at, audit).await
    }

    async fn audit(&self, record: &AuditRecord) -> StoreResult<()> {
        insert_audit(&self.pool, record).await
    }

    async fn audit_log(&self, scope: Scope) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT at, app_id, environment, wallet_id, action, detail FROM audit_log \
             WHERE app_id = $1 AND environment = $2 ORDER BY id",
        )
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::audit_from_row).collect()
    }

    async fn reap(&self, now: i64, abandoned: Abandoned) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let a = sqlx::query("DELETE FROM ceremonies WHERE expires_at < $1 OR consumed_at IS NOT NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let b = sqlx::query(
            "DELETE FROM wallets WHERE status = 'pending' \
             AND (created_at < $1 OR (started_at IS NULL AND created_at < $2))",
        )
        .bind(abandoned.before)
        .bind(abandoned.unstarted_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let c = Self::reap_proofs(&mut tx, now).await?;
        // Reserved setups go with their pending wallet (ON DELETE CASCADE).
        let d = sqlx::query("DELETE FROM key_setups WHERE taken_by IS NULL AND created_at < $1")
            .bind(abandoned.key_setups_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(a + b + c + d)
    }
}

/// The transactions that read rows and then write depending on what they read, where a
/// concurrent one must wait instead of reading the same rows (each has its own lock, so they do
/// not wait for each other on PostgreSQL).
#[derive(Clone, Copy, Debug)]
pub(super) enum Serial {
    /// Finding or making the account of an identifier.
    Login,
    /// Counting the codes sent before sending one more.
    Codes,
}

impl SqlStore {
    /// Begin a transaction that no other [`Serial`] transaction of the same kind runs beside,
    /// across every process sharing the database. SQLite: take the write lock at `BEGIN` (else a
    /// concurrent writer makes the later upgrade fail at once with SQLITE_BUSY instead of waiting
    /// its turn). PostgreSQL: a transaction-scoped advisory lock, released at commit or rollback.
    pub(super) async fn begin_serialized(&self, what: Serial) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // Keys in Dyad's own range ("dyad" in ASCII, then the kind).
                let key: i64 = 0x6479_6164_0000_0000
                    + match what {
                        Serial::Login => 1,
                        Serial::Codes => 2,
                    };
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    async fn apps_where(&self, id: Option<AppId>) -> StoreResult<Vec<AppRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, environment, created_at, allow_raw_signing FROM apps WHERE ($1 IS NULL OR id = $1) \
             ORDER BY created_at, rowid",
        )
        .bind(id.map(|i| i.to_string()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let env: String = r.try_get("environment")?;
                Ok(AppRecord {
                    id: id.parse().map_err(|_| corrupt("app id"))?,
                    name: r.try_get("name")?,
                    environment: Environment::from_str(&env).map_err(|_| corrupt("environment"))?,
                    created_at: r.try_get("created_at")?,
                    settings: AppSettings {
                        allow_raw_signing: r.try_get::<i64, _>("allow_raw_signing")? != 0,
                    },
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn synchronous(store: &SqlStore) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn commits_are_synced_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open(&dir.path().join("dyad.db")).await.unwrap();
        // 2 = FULL: the WAL is synced at every commit.
        assert_eq!(synchronous(&store).await, 2);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let bench = SqlStore::open_with(&dir.path().join("bench.db"), Durability::Normal)
            .await
            .unwrap();
        assert_eq!(synchronous(&bench).await, 1);
    }

    #[tokio::test]
    async fn a_relaxed_transaction_leaves_the_connection_synced_however_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open(&dir.path().join("dyad.db")).await.unwrap();
        {
            let mut conn = store.relaxed().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            let inside: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            assert_eq!(inside, 1, "a relaxed commit does not wait for the disk");
            tx.commit().await.unwrap();
        }
        assert_eq!(synchronous(&store).await, 2, "after a commit");
        {
            let mut conn = store.relaxed().await.unwrap();
            let _dropped = conn.begin().await.unwrap();
        }
        assert_eq!(synchronous(&store).await, 2, "after a transaction dropped unfinished");
        {
            let mut conn = store.relaxed_if(false).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            let inside: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            assert_eq!(inside, 2, "relaxed_if(false) begins a synced transaction");
        }
        assert_eq!(store.relaxed_holds(), 2, "only the two relaxed holds count");
        // A benchmark's store goes back to its own setting.
        let bench = SqlStore::open_with(&dir.path().join("bench.db"), Durability::Normal)
            .await
            .unwrap();
        drop(bench.relaxed().await.unwrap());
        assert_eq!(synchronous(&bench).await, 1);
    }
}
