//! A fresh, empty PostgreSQL schema for one test, on the server `DATABASE_URL` names.
//!
//! Without `DATABASE_URL` a test on PostgreSQL is skipped (it says so on stderr), except when
//! `CI` is set: there it fails, so that CI never passes by skipping (`.ci/run` starts a server
//! and sets `DATABASE_URL` itself).

use sqlx::Connection;

/// One test's schema; dropped (with everything in it) when this is.
pub struct TestDatabase {
    /// The URL to give the code under test: `DATABASE_URL` with this schema as `search_path`.
    pub url: String,
    admin: String,
    schema: String,
}

impl TestDatabase {
    /// A new schema, or `None` outside CI when `DATABASE_URL` is unset.
    pub async fn create() -> Option<Self> {
        let admin = match std::env::var("DATABASE_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but DATABASE_URL is not: the PostgreSQL tests cannot run"
                );
                eprintln!("DATABASE_URL is not set: skipping a PostgreSQL test");
                return None;
            }
        };
        let schema = format!("dyad_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connecting to DATABASE_URL: {e}"));
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let sep = if admin.contains('?') { '&' } else { '?' };
        // application_name marks this test's connections, so the drop can end them.
        let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}&application_name={schema}");
        Some(Self { url, admin, schema })
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let schema = self.schema.clone();
        // Drop may run inside a test's runtime, which cannot be blocked on: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                // The test's pools may still hold connections (a transaction whose rollback
                // waits for the test's runtime, blocked in this drop): end them first, and
                // never wait long for a lock.
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(&schema)
                    .execute(&mut conn)
                    .await
                    .ok()?;
                sqlx::query("SET lock_timeout = '10s'").execute(&mut conn).await.ok()?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test schema {}", self.schema);
        }
    }
}
