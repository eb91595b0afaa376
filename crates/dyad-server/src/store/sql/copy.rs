//! Moving a deployment from one database to another (`dyad migrate`): every row of every
//! table, parents before children, in one transaction on the target, which must be empty.
//! Cloud shares move sealed, as they are: the target needs the same master key, and nothing
//! here ever opens one.

use futures_util::TryStreamExt;
use sqlx::Row;

use super::{Backend, SqlStore};
use crate::store::{StoreError, StoreResult};

/// How a column is read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Column {
    Text,
    Int,
    Bytes,
}

use Column::{Bytes, Int, Text};

/// Every table and column Dyad stores, in an order where each table comes after the tables it
/// references. Identity columns (`rowid`, the ids of the log tables) are left out: the target
/// numbers rows anew, in the order they are copied, which is the source's order.
/// `tests::the_copy_covers_every_column` fails when a migration adds a column not named here.
pub(super) const TABLES: &[(&str, &[(&str, Column)])] = &[
    (
        "apps",
        &[
            ("id", Text),
            ("name", Text),
            ("environment", Text),
            ("created_at", Int),
            ("allow_raw_signing", Int),
        ],
    ),
    (
        "api_keys",
        &[
            ("key_id", Text),
            ("app_id", Text),
            ("secret_hash", Bytes),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "data_keys",
        &[
            ("id", Int),
            ("wrapped", Bytes),
            ("created_at", Int),
            ("wrapped_with", Text),
        ],
    ),
    ("users", &[("id", Text), ("environment", Text), ("created_at", Int)]),
    (
        "user_identifiers",
        &[
            ("environment", Text),
            ("kind", Text),
            ("value", Text),
            ("app_id", Text),
            ("user_id", Text),
            ("verified_at", Int),
        ],
    ),
    (
        "wallets",
        &[
            ("id", Text),
            ("app_id", Text),
            ("environment", Text),
            ("wallet_type", Text),
            ("scheme", Text),
            ("public_key", Bytes),
            ("address", Text),
            ("pregen_kind", Text),
            ("pregen_value", Text),
            ("status", Text),
            ("key_version", Int),
            ("locked_at", Int),
            ("started_at", Int),
            ("created_at", Int),
            ("updated_at", Int),
            ("lease_token", Bytes),
            ("lease_until", Int),
            ("claiming_until", Int),
            ("owner_user_id", Text),
            ("recovery_hash", Text),
        ],
    ),
    (
        "cloud_shares",
        &[
            ("wallet_id", Text),
            ("key_version", Int),
            ("data_key_id", Int),
            ("sealed", Bytes),
            ("created_at", Int),
        ],
    ),
    (
        "key_setups",
        &[
            ("id", Text),
            ("app_id", Text),
            ("environment", Text),
            ("data_key_id", Int),
            ("sealed", Bytes),
            ("created_at", Int),
            ("taken_by", Text),
        ],
    ),
    (
        "ceremonies",
        &[
            ("id_hash", Bytes),
            ("app_id", Text),
            ("environment", Text),
            ("wallet_id", Text),
            ("kind", Text),
            ("payload", Bytes),
            ("expires_at", Int),
            ("consumed_at", Int),
            ("user_id", Text),
        ],
    ),
    (
        "audit_log",
        &[
            ("at", Int),
            ("app_id", Text),
            ("environment", Text),
            ("wallet_id", Text),
            ("action", Text),
            ("detail", Text),
        ],
    ),
    (
        "auth_sessions",
        &[
            ("token_hash", Bytes),
            ("user_id", Text),
            ("app_id", Text),
            ("environment", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "otp_challenges",
        &[
            ("id", Text),
            ("app_id", Text),
            ("environment", Text),
            ("kind", Text),
            ("value", Text),
            ("code_mac", Bytes),
            ("attempts", Int),
            ("client_ip", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("consumed_at", Int),
        ],
    ),
    (
        "outbox",
        &[("at", Int), ("channel", Text), ("recipient", Text), ("body", Text)],
    ),
    (
        "grants",
        &[
            ("id", Text),
            ("user_id", Text),
            ("app_id", Text),
            ("environment", Text),
            ("wallets", Text),
            ("wallet_types", Text),
            ("operations", Text),
            ("created_at", Int),
            ("revoked_at", Int),
        ],
    ),
    (
        "oauth_states",
        &[
            ("state_hash", Bytes),
            ("app_id", Text),
            ("environment", Text),
            ("provider", Text),
            ("redirect_uri", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("consumed_at", Int),
        ],
    ),
    (
        "login_nonces",
        &[
            ("nonce", Text),
            ("app_id", Text),
            ("environment", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("consumed_at", Int),
        ],
    ),
];

/// Tables whose `id` is an identity column (the copy leaves it, and `rowid`, to the target).
pub(super) const NUMBERED_TABLES: &[&str] = &["audit_log", "outbox"];

/// What a copy moved: rows per table, in copy order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// (table, rows copied).
    pub tables: Vec<(&'static str, u64)>,
}

impl CopyReport {
    /// Rows copied in `table`.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n)
    }
}

impl SqlStore {
    /// Copy everything in this store into `target`, which must hold no app, wallet or data key,
    /// in one transaction on the target: it ends with all of it or none. The source is only
    /// read; run it with the servers stopped, or writes made meanwhile are not copied.
    pub async fn copy_into(&self, target: &SqlStore) -> StoreResult<CopyReport> {
        let mut tx = target.pool.begin().await?;
        for table in ["apps", "wallets", "data_keys"] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *tx)
                .await?;
            if n != 0 {
                return Err(StoreError::Conflict(
                    "the target database already holds data: migrate into an empty one",
                ));
            }
        }
        let mut report = CopyReport::default();
        for (table, columns) in TABLES {
            let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
            let list = names.join(", ");
            let order = match (self.backend, NUMBERED_TABLES.contains(table)) {
                (_, true) => "id",
                (Backend::Sqlite, false) => "rowid",
                // Not reached by `dyad migrate` (its source is SQLite); any stable order will do.
                (Backend::Postgres, false) => "1",
            };
            let select = format!("SELECT {list} FROM {table} ORDER BY {order}");
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", placeholders.join(", "));
            let mut rows = sqlx::query(&select).fetch(&self.pool);
            let mut n = 0u64;
            while let Some(row) = rows.try_next().await? {
                let mut q = sqlx::query(&insert);
                for (name, kind) in columns.iter() {
                    q = match kind {
                        Text => q.bind(row.try_get::<Option<String>, _>(*name)?),
                        Int => q.bind(row.try_get::<Option<i64>, _>(*name)?),
                        Bytes => q.bind(row.try_get::<Option<Vec<u8>>, _>(*name)?),
                    };
                }
                q.execute(&mut *tx).await?;
                n += 1;
            }
            report.tables.push((table, n));
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Every (table, column) the database has, sorted: what the tests compare between the two
    /// engines' schemas and against what the copy moves.
    pub async fn schema_columns(&self) -> StoreResult<Vec<(String, String)>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' ORDER BY t, c"
            }
            Backend::Postgres => {
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx_%' ORDER BY t, c"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("t")?, r.try_get("c")?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_copy_covers_every_column() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open(&dir.path().join("dyad.db")).await.unwrap();
        let mut missing = Vec::new();
        for (table, column) in store.schema_columns().await.unwrap() {
            let known = TABLES
                .iter()
                .find(|(t, _)| *t == table)
                .is_some_and(|(_, cols)| cols.iter().any(|(c, _)| *c == column));
            let identity = column == "rowid" || (column == "id" && NUMBERED_TABLES.contains(&table.as_str()));
            if !known && !identity {
                missing.push(format!("{table}.{column}"));
            }
        }
        assert!(missing.is_empty(), "columns `dyad migrate` would not copy: {missing:?}");
        // And nothing named in TABLES is missing from the schema.
        let columns = store.schema_columns().await.unwrap();
        for (table, cols) in TABLES {
            for (c, _) in cols.iter() {
                assert!(
                    columns.iter().any(|(t, col)| t == table && col == c),
                    "{table}.{c} is not in the schema"
                );
            }
        }
    }
}
