//! Apps (tenants) and their API keys.

use dyad_proto::{AppId, Environment};

use super::Scope;

/// An app (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRecord {
    /// Id.
    pub id: AppId,
    /// Human name.
    pub name: String,
    /// BETA or PROD.
    pub environment: Environment,
    /// Unix seconds.
    pub created_at: i64,
    /// What an operator has switched on or off for it.
    pub settings: AppSettings,
}

impl AppRecord {
    /// The tenant scope its API keys grant.
    pub fn scope(&self) -> Scope {
        Scope {
            app_id: self.id,
            environment: self.environment,
        }
    }
}

/// An app's operator settings. `Default` is what a new app gets: everything risky off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppSettings {
    /// `sign-raw` (a bare 32-byte digest, which can be the hash of anything) is allowed.
    pub allow_raw_signing: bool,
}

/// A stored API key: only a hash of its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part that finds the row.
    pub key_id: String,
    /// The app it authenticates.
    pub app_id: AppId,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    /// Unix seconds.
    pub created_at: i64,
    /// When it was revoked (Unix seconds); a revoked key authenticates nothing.
    pub revoked_at: Option<i64>,
}
