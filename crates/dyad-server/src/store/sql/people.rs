//! People's rows: accounts, verified identifiers, sessions, one-time codes, the outbox, and the
//! claim that hands a wallet to its person.

use dyad_proto::{Environment, PregenId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rows::{corrupt, insert_audit, insert_ceremony_row, update_one_audited};
use super::{Serial, SqlStore};
use crate::audit::AuditRecord;
use crate::model::{
    CeremonyRecord, CodeChallenge, CodeLimits, CodeStart, OutboxMessage, Scope, SessionRecord, VerifiedId,
};
use crate::store::{ClaimCommit, ClaimStart, Login, LoginOutcome, StoreError, StoreResult};

/// The stored `app_id` of an identifier: the vouching app for custom ids, '' otherwise.
fn identifier_app(v: &VerifiedId) -> String {
    v.app.map(|a| a.to_string()).unwrap_or_default()
}

fn session_from_row(row: &AnyRow) -> StoreResult<SessionRecord> {
    let hash: Vec<u8> = row.try_get("token_hash")?;
    let user: String = row.try_get("user_id")?;
    let app: String = row.try_get("app_id")?;
    let env: String = row.try_get("environment")?;
    Ok(SessionRecord {
        token_hash: hash.try_into().map_err(|_| corrupt("session hash"))?,
        user_id: user.parse().map_err(|_| corrupt("user id"))?,
        scope: Scope {
            app_id: app.parse().map_err(|_| corrupt("app id"))?,
            environment: env.parse().map_err(|_| corrupt("environment"))?,
        },
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn code_from_row(row: &AnyRow) -> StoreResult<CodeChallenge> {
    let app: String = row.try_get("app_id")?;
    let env: String = row.try_get("environment")?;
    let kind: String = row.try_get("kind")?;
    let value: String = row.try_get("value")?;
    let mac: Vec<u8> = row.try_get("code_mac")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(CodeChallenge {
        id: row.try_get("id")?,
        scope: Scope {
            app_id: app.parse().map_err(|_| corrupt("app id"))?,
            environment: env.parse().map_err(|_| corrupt("environment"))?,
        },
        identifier: PregenId::parse(&kind, &value).map_err(|_| corrupt("code identifier"))?,
        code_mac: mac.try_into().map_err(|_| corrupt("code mac"))?,
        attempts: u32::try_from(attempts).map_err(|_| corrupt("code attempts"))?,
        client_ip: row.try_get("client_ip")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

const SESSION_COLUMNS: &str = "token_hash, user_id, app_id, environment, created_at, expires_at, revoked_at";
const CODE_COLUMNS: &str =
    "id, app_id, environment, kind, value, code_mac, attempts, client_ip, created_at, expires_at";

impl SqlStore {
    pub(super) async fn login_tx(
        &self,
        login: &Login,
        audit: &(dyn Fn(UserId, LoginOutcome) -> Vec<AuditRecord> + Send + Sync),
    ) -> StoreResult<LoginOutcome> {
        let v = &login.identifier;
        let env = login.scope.environment.as_str();
        // Reads first, then writes: two logins of one identifier must not both find it free.
        let mut tx = self.begin_serialized(Serial::Login).await?;
        let found: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM user_identifiers WHERE environment = $1 AND kind = $2 AND value = $3 AND app_id = $4",
        )
        .bind(env)
        .bind(v.id.kind())
        .bind(v.id.value())
        .bind(identifier_app(v))
        .fetch_optional(&mut *tx)
        .await?;
        let found: Option<UserId> = found.map(|u| u.parse()).transpose().map_err(|_| corrupt("user id"))?;
        let outcome = match (found, login.link_to) {
            (Some(owner), Some(me)) if owner != me => return Ok(LoginOutcome::OwnedByAnother),
            (Some(owner), _) => LoginOutcome::Existing(owner),
            (None, link) => {
                let (user, outcome) = match link {
                    Some(me) => (me, LoginOutcome::Linked(me)),
                    None => {
                        sqlx::query("INSERT INTO users (id, environment, created_at) VALUES ($1, $2, $3)")
                            .bind(login.new_user.to_string())
                            .bind(env)
                            .bind(login.at)
                            .execute(&mut *tx)
                            .await?;
                        (login.new_user, LoginOutcome::Created(login.new_user))
                    }
                };
                sqlx::query(
                    "INSERT INTO user_identifiers (environment, kind, value, app_id, user_id, verified_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(env)
                .bind(v.id.kind())
                .bind(v.id.value())
                .bind(identifier_app(v))
                .bind(user.to_string())
                .bind(login.at)
                .execute(&mut *tx)
                .await?;
                outcome
            }
        };
        let Some(user) = outcome.user() else {
            return Ok(outcome);
        };
        sqlx::query(
            "INSERT INTO auth_sessions (token_hash, user_id, app_id, environment, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&login.token_hash[..])
        .bind(user.to_string())
        .bind(login.scope.app_id.to_string())
        .bind(env)
        .bind(login.at)
        .bind(login.expires_at)
        .execute(&mut *tx)
        .await?;
        for entry in audit(user, outcome) {
            insert_audit(&mut *tx, &entry).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn session_row(&self, token_hash: &[u8; 32]) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM auth_sessions WHERE token_hash = $1"
        ))
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub(super) async fn identifiers_of(&self, environment: Environment, user: UserId) -> StoreResult<Vec<VerifiedId>> {
        let rows = sqlx::query(
            "SELECT kind, value, app_id FROM user_identifiers WHERE environment = $1 AND user_id = $2 \
             ORDER BY verified_at, rowid",
        )
        .bind(environment.as_str())
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let value: String = r.try_get("value")?;
                let app: String = r.try_get("app_id")?;
                Ok(VerifiedId {
                    id: PregenId::parse(&kind, &value).map_err(|_| corrupt("identifier"))?,
                    app: if app.is_empty() {
                        None
                    } else {
                        Some(app.parse().map_err(|_| corrupt("app id"))?)
                    },
                })
            })
            .collect()
    }

    pub(super) async fn extend_session_tx(
        &self,
        token_hash: &[u8; 32],
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE auth_sessions SET expires_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL AND expires_at >= $3",
        )
        .bind(until)
        .bind(&token_hash[..])
        .bind(now);
        update_one_audited(&self.pool, update, audit).await
    }

    pub(super) async fn revoke_session_tx(
        &self,
        token_hash: &[u8; 32],
        at: i64,
        audit: &AuditRecord,
    ) -> StoreResult<bool> {
        let update = sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL AND expires_at >= $1",
        )
        .bind(at)
        .bind(&token_hash[..]);
        update_one_audited(&self.pool, update, audit).await
    }

    pub(super) async fn start_code_tx(
        &self,
        c: &CodeChallenge,
        limits: &CodeLimits,
        audit: &AuditRecord,
    ) -> StoreResult<CodeStart> {
        // The limits are counted and the code stored under one lock: concurrent requests cannot
        // all count the same free slots.
        let mut tx = self.begin_serialized(Serial::Codes).await?;
        let for_identifier: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM otp_challenges WHERE environment = $1 AND kind = $2 AND value = $3 AND created_at > $4",
        )
        .bind(c.scope.environment.as_str())
        .bind(c.identifier.kind())
        .bind(c.identifier.value())
        .bind(limits.identifier_since)
        .fetch_one(&mut *tx)
        .await?;
        if for_identifier >= i64::from(limits.identifier_max) {
            return Ok(CodeStart::TooManyForIdentifier);
        }
        let from_ip: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM otp_challenges WHERE client_ip = $1 AND created_at > $2")
                .bind(&c.client_ip)
                .bind(limits.ip_since)
                .fetch_one(&mut *tx)
                .await?;
        if from_ip >= i64::from(limits.ip_max) {
            return Ok(CodeStart::TooManyFromAddress);
        }
        sqlx::query(
            "UPDATE otp_challenges SET consumed_at = $1 WHERE app_id = $2 AND environment = $3 AND kind = $4 \
             AND value = $5 AND consumed_at IS NULL",
        )
        .bind(c.created_at)
        .bind(c.scope.app_id.to_string())
        .bind(c.scope.environment.as_str())
        .bind(c.identifier.kind())
        .bind(c.identifier.value())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO otp_challenges (id, app_id, environment, kind, value, code_mac, attempts, client_ip, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.id)
        .bind(c.scope.app_id.to_string())
        .bind(c.scope.environment.as_str())
        .bind(c.identifier.kind())
        .bind(c.identifier.value())
        .bind(&c.code_mac[..])
        .bind(i64::from(c.attempts))
        .bind(&c.client_ip)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(CodeStart::Started)
    }

    pub(super) async fn open_code_row(
        &self,
        scope: Scope,
        identifier: &PregenId,
    ) -> StoreResult<Option<CodeChallenge>> {
        let row = sqlx::query(&format!(
            "SELECT {CODE_COLUMNS} FROM otp_challenges WHERE app_id = $1 AND environment = $2 AND kind = $3 \
             AND value = $4 AND consumed_at IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ))
        .bind(scope.app_id.to_string())
        .bind(scope.environment.as_str())
        .bind(identifier.kind())
        .bind(identifier.value())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(code_from_row).transpose()
    }

    pub(super) async fn spend_code_try_row(&self, id: &str, max: u32) -> StoreResult<Option<u32>> {
        // One statement: two concurrent tries cannot both see the last one free.
        let tries: Option<i64> = sqlx::query_scalar(
            "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = $1 AND consumed_at IS NULL \
             AND attempts < $2 RETURNING attempts",
        )
        .bind(id)
        .bind(i64::from(max))
        .fetch_optional(&self.pool)
        .await?;
        tries
            .map(|t| u32::try_from(t).map_err(|_| corrupt("code attempts")))
            .transpose()
    }

    pub(super) async fn consume_code_row(&self, id: &str, now: i64) -> StoreResult<bool> {
        let n = sqlx::query("UPDATE otp_challenges SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub(super) async fn write_outbox_row(&self, m: &OutboxMessage) -> StoreResult<()> {
        sqlx::query("INSERT INTO outbox (at, channel, recipient, body) VALUES ($1, $2, $3, $4)")
            .bind(m.at)
            .bind(&m.channel)
            .bind(&m.recipient)
            .bind(&m.body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn outbox_rows(&self) -> StoreResult<Vec<OutboxMessage>> {
        let rows = sqlx::query("SELECT at, channel, recipient, body FROM outbox ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxMessage {
                    at: r.try_get("at")?,
                    channel: r.try_get("channel")?,
                    recipient: r.try_get("recipient")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    pub(super) async fn start_claim_tx(
        &self,
        ceremony: &CeremonyRecord,
        key_version: u32,
        now: i64,
        until: i64,
        audit: &AuditRecord,
    ) -> StoreResult<ClaimStart> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(
            "UPDATE wallets SET claiming_until = $1 WHERE id = $2 AND status = 'pregen' AND key_version = $3 \
             AND (claiming_until IS NULL OR claiming_until < $4)",
        )
        .bind(until)
        .bind(ceremony.wallet_id.to_string())
        .bind(i64::from(key_version))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if held != 1 {
            let pregen: Option<i64> =
                sqlx::query_scalar("SELECT key_version FROM wallets WHERE id = $1 AND status = 'pregen'")
                    .bind(ceremony.wallet_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match pregen {
                Some(v) if v == i64::from(key_version) => ClaimStart::InProgress,
                _ => ClaimStart::NotPregen,
            });
        }
        insert_ceremony_row(&mut *tx, ceremony, None).await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(ClaimStart::Started)
    }

    pub(super) async fn commit_claim_tx(&self, c: &ClaimCommit, audit: &AuditRecord) -> StoreResult<()> {
        let to = i64::from(c.from_version) + 1;
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE wallets SET status = 'claimed', owner_user_id = $1, key_version = $2, recovery_hash = $3, \
             claiming_until = NULL, updated_at = $4 WHERE id = $5 AND status = 'pregen' AND key_version = $6",
        )
        .bind(c.owner.to_string())
        .bind(to)
        .bind(&c.recovery_hash)
        .bind(audit.at)
        .bind(c.wallet_id.to_string())
        .bind(i64::from(c.from_version))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(StoreError::Conflict("the wallet changed while it was being claimed"));
        }
        sqlx::query(
            "INSERT INTO cloud_shares (wallet_id, key_version, data_key_id, sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.wallet_id.to_string())
        .bind(to)
        .bind(c.share.data_key_id)
        .bind(&c.share.sealed)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        // The app's copy of the old user share is dead once its cloud half is gone.
        sqlx::query("DELETE FROM cloud_shares WHERE wallet_id = $1 AND key_version < $2")
            .bind(c.wallet_id.to_string())
            .bind(to)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut *tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
