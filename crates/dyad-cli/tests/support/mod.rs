//! A real server on port 0 over a temporary SQLite data folder, and apps on it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dyad_proto::Environment;
use dyad_server::{AppState, DataDir, RunningServer, ServerConfig, Store};

pub struct TestServer {
    pub server: RunningServer,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
}

/// A temporary folder only its owner can use (the server refuses a data folder others can read;
/// `tempfile` creates them 0755 here).
pub fn private_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    dir
}

/// Start a server on `dir` (its SQLite file and master key are created on first use).
pub async fn serve(dir: &Path) -> (RunningServer, Arc<dyn Store>) {
    serve_with(dir, ServerConfig::default()).await
}

/// The same with other settings.
pub async fn serve_with(dir: &Path, config: ServerConfig) -> (RunningServer, Arc<dyn Store>) {
    let data = DataDir::new(dir).unwrap();
    let store = data.open_store().await.unwrap();
    let master = data.master_key_from_env_or_file().unwrap();
    let state = AppState::new(store.clone(), &master, config).await.unwrap();
    (dyad_server::spawn(state, "127.0.0.1:0").await.unwrap(), store)
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> Self {
        let dir = private_tempdir();
        let (server, store) = serve_with(dir.path(), config).await;
        Self { server, store, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The scope of the first app created on this server.
    pub async fn first_scope(&self) -> dyad_server::store::Scope {
        let app = self.store.apps().await.unwrap()[0].clone();
        dyad_server::store::Scope {
            app_id: app.id,
            environment: app.environment,
        }
    }

    /// The audit log of the first app.
    pub async fn audit_log(&self) -> Vec<dyad_server::store::AuditRecord> {
        self.store.audit_log(self.first_scope().await).await.unwrap()
    }

    /// A `SELECT COUNT(*) …` straight against the SQLite file, as an outside reader sees it.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.data_dir().join("dyad.db").display()))
            .await
            .unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&db).await.unwrap();
        db.close().await;
        n
    }

    /// A new BETA app; its API key.
    pub async fn app(&self, name: &str) -> String {
        let (_, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        key.expose().to_string()
    }

    /// A new BETA app on which an operator enabled `sign-raw` (off by default); its API key.
    pub async fn app_allowing_raw_signing(&self, name: &str) -> String {
        let (app, key) = dyad_server::api_key::create_app(self.store.as_ref(), name, Environment::Beta)
            .await
            .unwrap();
        dyad_server::api_key::set_allow_raw_signing(self.store.as_ref(), app.id, true)
            .await
            .unwrap();
        key.expose().to_string()
    }
}
