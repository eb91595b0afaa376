//! What every handler shares.

use std::sync::Arc;

use dyad_proto::ServerStaticKey;

use crate::clock;
use crate::config::ServerConfig;
use crate::lease::Leases;
use crate::notify::{Notifier, Outbox};
use crate::seal::{CodeKey, DataKey, MasterKey, PkceKey, WRAPPING};
use crate::setup::SetupError;
use crate::store::{Store, StoredDataKey};

/// The id of the data key this version seals with.
const DATA_KEY_ID: i64 = 1;

/// Shared server state: cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Seals and opens cloud shares.
    pub data_key: DataKey,
    /// The server's Noise static key.
    pub ceremony_key: ServerStaticKey,
    /// Settings.
    pub config: ServerConfig,
    /// Who may run a ceremony on which share pair now.
    pub leases: Leases,
    /// Delivers one-time codes.
    pub notifier: Arc<dyn Notifier>,
    /// MACs one-time codes.
    pub code_key: CodeKey,
    /// Derives OAuth PKCE verifiers.
    pub pkce_key: PkceKey,
    /// Calls login providers (OAuth token and user info, the Farcaster lookup): bounded by
    /// `provider_timeout`, never following a redirect.
    pub http: reqwest::Client,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Unwrap (or create, on first run) the data key and derive the ceremony key. A database
    /// whose data key an earlier version wrapped with the master key itself is refused, with a
    /// message saying so.
    pub async fn new(store: Arc<dyn Store>, master: &MasterKey, config: ServerConfig) -> Result<Self, SetupError> {
        let outbox = Arc::new(Outbox::new(store.clone()));
        Self::with_notifier(store, master, config, outbox).await
    }

    /// Like [`AppState::new`], delivering one-time codes through `notifier` instead of the
    /// outbox.
    pub async fn with_notifier(
        store: Arc<dyn Store>,
        master: &MasterKey,
        config: ServerConfig,
        notifier: Arc<dyn Notifier>,
    ) -> Result<Self, SetupError> {
        config.check()?;
        let stored = match store.data_key(DATA_KEY_ID).await? {
            Some(k) => k,
            None => {
                let (_, wrapped) = master.new_data_key(DATA_KEY_ID)?;
                let key = StoredDataKey {
                    wrapped,
                    wrapped_with: WRAPPING.to_string(),
                };
                store.put_data_key(DATA_KEY_ID, &key).await?
            }
        };
        if stored.wrapped_with != WRAPPING {
            return Err(SetupError::Database(format!(
                "this database was made by an earlier Dyad version, whose data key is wrapped {}; this version \
                 wraps data keys with a subkey derived from the master key and cannot open it: start on a new \
                 data folder",
                match stored.wrapped_with.as_str() {
                    "master-key" => "by the master key itself".to_string(),
                    other => format!("with {other:?}"),
                }
            )));
        }
        let data_key = master.unwrap_data_key(DATA_KEY_ID, &stored.wrapped)?;
        // A provider answering with a redirect is refused rather than followed: the token and
        // user info requests carry credentials that must go to the configured URL only.
        let http = reqwest::Client::builder()
            .timeout(config.provider_timeout)
            .connect_timeout(config.provider_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| SetupError::Config("the HTTP client for login providers could not be made"))?;
        let ceremony_key = ServerStaticKey::from_secret(master.ceremony_key_secret())
            .map_err(|e| SetupError::MasterKey(format!("deriving the ceremony key: {e}")))?;
        Ok(Self(Arc::new(Inner {
            store,
            data_key,
            ceremony_key,
            config,
            leases: Leases::default(),
            notifier,
            code_key: master.code_key(),
            pkce_key: master.pkce_key(),
            http,
        })))
    }

    /// Delete expired ceremonies and abandoned pending wallets, every `reap_interval`.
    pub async fn reap_forever(self) {
        let mut tick = tokio::time::interval(self.config.reap_interval);
        loop {
            tick.tick().await;
            let now = clock::now();
            if let Err(e) = self.store.reap(now, self.config.abandoned(now)).await {
                tracing::warn!(error = %e, "reaping failed");
            }
        }
    }
}
