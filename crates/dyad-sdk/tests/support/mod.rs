//! A real Dyad server on port 0 over a temporary SQLite data folder, and apps on it: what the
//! signer tests need to sign through the SDK.
//!
//! A small copy of the start-up half of `dyad-server/tests/support` (that harness also drives
//! ceremonies by hand and reads the database, which these tests do not need). The shared part
//! that needs no server, `private_tempdir`, is in `dyad-test-support`; the rest cannot be, since
//! `dyad-test-support` must not depend on `dyad-server`.

#![allow(dead_code)]

use dyad_proto::Environment;
use dyad_server::{AppState, DataDir, RunningServer, ServerConfig, Store};
use dyad_test_support::private_tempdir;

pub struct TestServer {
    pub server: RunningServer,
    pub store: std::sync::Arc<dyn Store>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// A server with the default settings on a new private data folder.
    pub async fn start() -> Self {
        let dir = private_tempdir();
        let data = DataDir::new(dir.path()).unwrap();
        let store = data.open_store().await.unwrap();
        let master = data.master_key_from_env_or_file().unwrap();
        let state = AppState::new(store.clone(), &master, ServerConfig::default())
            .await
            .unwrap();
        let server = dyad_server::spawn(state, "127.0.0.1:0").await.unwrap();
        Self { server, store, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
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
