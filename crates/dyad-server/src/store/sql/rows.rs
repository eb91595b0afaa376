//! Between SQL rows and the model: decoding rows (a value that does not parse is
//! [`StoreError::Corrupt`]) and the inserts several transactions share.

use std::str::FromStr;

use dyad_mpc::{PublicKey, Scheme};
use dyad_proto::{PregenId, WalletStatus, WalletType};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::audit::{AuditAction, AuditRecord};
use crate::model::{Actor, ApiKeyRecord, CeremonyKind, CeremonyRecord, LiveStatus, PendingWallet, Scope, Wallet};
use crate::store::{SealedShare, StoreError, StoreResult, StoredKeySetup};

pub(super) fn corrupt(what: &'static str) -> StoreError {
    StoreError::Corrupt(what)
}

/// A `key_setups` row (id, app_id, environment, data_key_id, sealed, created_at).
pub(super) fn key_setup(row: &AnyRow) -> StoreResult<StoredKeySetup> {
    let id: String = row.try_get("id")?;
    let app: String = row.try_get("app_id")?;
    let env: String = row.try_get("environment")?;
    Ok(StoredKeySetup {
        id: id.parse().map_err(|_| corrupt("key setup id"))?,
        scope: Scope {
            app_id: app.parse().map_err(|_| corrupt("app id"))?,
            environment: env.parse().map_err(|_| corrupt("environment"))?,
        },
        sealed: SealedShare {
            data_key_id: row.try_get("data_key_id")?,
            sealed: row.try_get("sealed")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

/// The columns every wallet query selects.
pub(super) const WALLET_COLUMNS: &str = "id, app_id, environment, wallet_type, scheme, public_key, address, \
     pregen_kind, pregen_value, status, key_version, locked_at, owner_user_id, created_at";

/// The columns every API key query selects.
pub(super) const API_KEY_COLUMNS: &str = "key_id, app_id, secret_hash, created_at, revoked_at";

/// What every wallet row holds, whatever its status.
struct WalletRow {
    id: dyad_proto::WalletId,
    scope: Scope,
    wallet_type: WalletType,
    public_key: Option<PublicKey>,
    address: Option<String>,
    pregen_id: PregenId,
    status: WalletStatus,
    key_version: u32,
    locked: bool,
    owner: Option<dyad_proto::UserId>,
    created_at: i64,
}

impl SqlStore {
    fn wallet_row(row: &AnyRow) -> StoreResult<WalletRow> {
        let id: String = row.try_get("id")?;
        let app: String = row.try_get("app_id")?;
        let env: String = row.try_get("environment")?;
        let wt: String = row.try_get("wallet_type")?;
        let scheme: String = row.try_get("scheme")?;
        let pk: Option<Vec<u8>> = row.try_get("public_key")?;
        let kind: String = row.try_get("pregen_kind")?;
        let value: String = row.try_get("pregen_value")?;
        let status: String = row.try_get("status")?;
        let version: i64 = row.try_get("key_version")?;
        let wallet_type = WalletType::from_str(&wt).map_err(|_| corrupt("wallet type"))?;
        let scheme = match scheme.as_str() {
            "DKLS" => Scheme::Dkls,
            "ED25519" => Scheme::Frost,
            _ => return Err(corrupt("scheme")),
        };
        // The scheme column is the type's scheme, written for readers of the database.
        if scheme != wallet_type.scheme() {
            return Err(corrupt("scheme"));
        }
        let public_key = match pk {
            Some(b) => Some(PublicKey::from_bytes(scheme, &b).map_err(|_| corrupt("public key"))?),
            None => None,
        };
        Ok(WalletRow {
            id: id.parse().map_err(|_| corrupt("wallet id"))?,
            scope: Scope {
                app_id: app.parse().map_err(|_| corrupt("app id"))?,
                environment: env.parse().map_err(|_| corrupt("environment"))?,
            },
            wallet_type,
            public_key,
            address: row.try_get("address")?,
            pregen_id: PregenId::parse(&kind, &value).map_err(|_| corrupt("identifier"))?,
            status: WalletStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            key_version: u32::try_from(version).map_err(|_| corrupt("key version"))?,
            locked: row.try_get::<Option<i64>, _>("locked_at")?.is_some(),
            owner: row
                .try_get::<Option<String>, _>("owner_user_id")?
                .map(|u| u.parse())
                .transpose()
                .map_err(|_| corrupt("owner"))?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// A row the query selected as live (`status <> 'pending'`): it must have its key.
    pub(super) fn live_wallet_from_row(row: &AnyRow) -> StoreResult<Wallet> {
        let w = Self::wallet_row(row)?;
        let status = match w.status {
            WalletStatus::Pregen => LiveStatus::Pregen,
            WalletStatus::Claimed => LiveStatus::Claimed,
            WalletStatus::Pending => return Err(corrupt("status of a live wallet")),
        };
        let (Some(public_key), Some(address)) = (w.public_key, w.address) else {
            return Err(corrupt("key of a live wallet"));
        };
        // Owned exactly when claimed: anything else is not a state a flow writes.
        if (status == LiveStatus::Claimed) != w.owner.is_some() {
            return Err(corrupt("owner of a wallet"));
        }
        Ok(Wallet {
            id: w.id,
            scope: w.scope,
            wallet_type: w.wallet_type,
            public_key,
            address,
            pregen_id: w.pregen_id,
            status,
            key_version: w.key_version,
            locked: w.locked,
            owner: w.owner,
            created_at: w.created_at,
        })
    }

    /// A row the query selected as pending: it has no key yet.
    pub(super) fn pending_wallet_from_row(row: &AnyRow) -> StoreResult<PendingWallet> {
        let w = Self::wallet_row(row)?;
        if w.status != WalletStatus::Pending || w.key_version != PendingWallet::FIRST_KEY_VERSION {
            return Err(corrupt("status of a pending wallet"));
        }
        Ok(PendingWallet {
            id: w.id,
            scope: w.scope,
            wallet_type: w.wallet_type,
            pregen_id: w.pregen_id,
            created_at: w.created_at,
        })
    }

    pub(super) fn audit_from_row(row: &AnyRow) -> StoreResult<AuditRecord> {
        let app: String = row.try_get("app_id")?;
        let env: String = row.try_get("environment")?;
        let wallet: Option<String> = row.try_get("wallet_id")?;
        let action: String = row.try_get("action")?;
        let detail: String = row.try_get("detail")?;
        Ok(AuditRecord {
            at: row.try_get("at")?,
            scope: Scope {
                app_id: app.parse().map_err(|_| corrupt("app id"))?,
                environment: env.parse().map_err(|_| corrupt("environment"))?,
            },
            wallet_id: wallet
                .map(|w| w.parse())
                .transpose()
                .map_err(|_| corrupt("wallet id"))?,
            action: AuditAction::from_str(&action).map_err(|_| corrupt("audit action"))?,
            detail: serde_json::from_str(&detail).map_err(|_| corrupt("audit detail"))?,
        })
    }
}

pub(super) fn scheme_str(s: Scheme) -> &'static str {
    match s {
        Scheme::Dkls => "DKLS",
        Scheme::Frost => "ED25519",
    }
}

fn ceremony_kind(kind: &CeremonyKind) -> StoreResult<(&'static str, Vec<u8>)> {
    Ok(match kind {
        CeremonyKind::Dkg => ("dkg", Vec::new()),
        CeremonyKind::Sign(authorised) => (
            "sign",
            postcard::to_allocvec(authorised).map_err(|_| StoreError::Conflict("a sign request did not encode"))?,
        ),
        CeremonyKind::Claim => ("claim", Vec::new()),
    })
}

pub(super) async fn insert_audit<'e, E>(exec: E, r: &AuditRecord) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, app_id, environment, wallet_id, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.at)
    .bind(r.scope.app_id.to_string())
    .bind(r.scope.environment.as_str())
    .bind(r.wallet_id.map(|w| w.to_string()))
    .bind(r.action.as_str())
    .bind(r.detail.to_string())
    .execute(exec)
    .await?;
    Ok(())
}

/// Run `update` and, only if it changed exactly one row, append `audit`, in one transaction:
/// whether it changed one. The shape of every audited change that may find nothing to change
/// (a revoked key, an ended session, a settings race).
pub(super) async fn update_one_audited<'q>(
    pool: &sqlx::AnyPool,
    update: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    audit: &AuditRecord,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let changed = update.execute(&mut *tx).await?.rows_affected() == 1;
    if changed {
        insert_audit(&mut *tx, audit).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Store ceremony `c`, used up at `consumed_at` if that is given (it then never starts again).
pub(super) async fn insert_ceremony_row<'e, E>(exec: E, c: &CeremonyRecord, consumed_at: Option<i64>) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (kind, payload) = ceremony_kind(&c.kind)?;
    sqlx::query(
        "INSERT INTO ceremonies (id_hash, app_id, environment, wallet_id, kind, payload, expires_at, user_id, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id_hash.0[..])
    .bind(c.scope.app_id.to_string())
    .bind(c.scope.environment.as_str())
    .bind(c.wallet_id.to_string())
    .bind(kind)
    .bind(payload)
    .bind(c.expires_at)
    .bind(match c.actor {
        Actor::App => None,
        Actor::User(u) => Some(u.to_string()),
    })
    .bind(consumed_at)
    .execute(exec)
    .await?;
    Ok(())
}

pub(super) fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(sqlx::Error::Database(d)) if d.is_unique_violation())
}

pub(super) fn api_key_from_row(row: &AnyRow) -> StoreResult<ApiKeyRecord> {
    let app: String = row.try_get("app_id")?;
    let hash: Vec<u8> = row.try_get("secret_hash")?;
    Ok(ApiKeyRecord {
        key_id: row.try_get("key_id")?,
        app_id: app.parse().map_err(|_| corrupt("app id"))?,
        secret_hash: hash.try_into().map_err(|_| corrupt("key hash"))?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(super) async fn insert_api_key<'e, E>(exec: E, key: &ApiKeyRecord) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO api_keys (key_id, app_id, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.key_id)
    .bind(key.app_id.to_string())
    .bind(&key.secret_hash[..])
    .bind(key.created_at)
    .bind(key.revoked_at)
    .execute(exec)
    .await?;
    Ok(())
}
