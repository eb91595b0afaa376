//! Tunables of a server.

use std::time::Duration;

use dyad_chains::ChainConfig;

/// Server settings. `Default` is what the embedded server uses.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Chain options (the Cosmos bech32 prefix).
    pub chain: ChainConfig,
    /// How long a ceremony id stays valid before its WebSocket connects.
    pub ceremony_ttl: Duration,
    /// The longest a ceremony may run once connected.
    pub ceremony_deadline: Duration,
    /// A pending wallet older than this is abandoned and reaped.
    pub pending_ttl: Duration,
    /// How often the reaper runs.
    pub reap_interval: Duration,
    /// The largest message `sign-message` accepts.
    pub max_message_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            chain: ChainConfig::default(),
            ceremony_ttl: Duration::from_secs(60),
            ceremony_deadline: Duration::from_secs(120),
            // Longer than a ceremony can live (ttl + deadline), so a running one is never reaped.
            pending_ttl: Duration::from_secs(300),
            reap_interval: Duration::from_secs(30),
            max_message_bytes: 1024 * 1024,
        }
    }
}
