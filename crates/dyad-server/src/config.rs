//! Tunables of a server.

use std::time::Duration;

use dyad_chains::ChainConfig;

use crate::setup::SetupError;
use crate::store::Abandoned;

/// Server settings. `Default` is what the embedded server uses.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Chain options (the Cosmos bech32 prefix).
    pub chain: ChainConfig,
    /// How long a ceremony id stays valid before its WebSocket connects.
    pub ceremony_ttl: Duration,
    /// The longest a ceremony may run once connected (and once it has its wallet's turn).
    pub ceremony_deadline: Duration,
    /// The longest a sign ceremony waits for its wallet's previous ceremony to end. Shorter
    /// than the peer timeout, so a queued client hears `WALLET_BUSY` before it gives up.
    pub turn_wait: Duration,
    /// A pending wallet older than this is abandoned and reaped.
    pub pending_ttl: Duration,
    /// How often the reaper runs.
    pub reap_interval: Duration,
    /// The largest message `sign-message` accepts.
    pub max_message_bytes: usize,
    /// How long a session lives unless refreshed.
    pub session_ttl: Duration,
    /// How long a one-time code works.
    pub code_ttl: Duration,
    /// The window the code limits count in.
    pub code_window: Duration,
    /// Codes one identifier may be sent within the window.
    pub codes_per_identifier: u32,
    /// Codes one client address may ask for within the window.
    pub codes_per_address: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            chain: ChainConfig::default(),
            ceremony_ttl: Duration::from_secs(60),
            ceremony_deadline: Duration::from_secs(120),
            turn_wait: Duration::from_secs(45),
            // Longer than a ceremony can live (ttl + deadline), so a running one is never reaped.
            pending_ttl: Duration::from_secs(300),
            reap_interval: Duration::from_secs(30),
            max_message_bytes: 1024 * 1024,
            session_ttl: Duration::from_secs(90 * 60),
            code_ttl: Duration::from_secs(10 * 60),
            code_window: Duration::from_secs(60 * 60),
            codes_per_identifier: 5,
            codes_per_address: 30,
        }
    }
}

impl ServerConfig {
    /// Refuse settings under which a running ceremony could be reaped.
    pub fn check(&self) -> Result<(), SetupError> {
        if self.pending_ttl <= self.ceremony_ttl + self.ceremony_deadline {
            return Err(SetupError::Config(
                "pending_ttl must be longer than ceremony_ttl + ceremony_deadline",
            ));
        }
        if self.turn_wait >= dyad_proto::PEER_TIMEOUT {
            return Err(SetupError::Config("turn_wait must be shorter than the peer timeout"));
        }
        Ok(())
    }

    /// Which pending wallets are abandoned at `now`: never connected once the ticket expired,
    /// or older than any ceremony can run.
    pub fn abandoned(&self, now: i64) -> Abandoned {
        Abandoned {
            unstarted_before: now - self.ceremony_ttl.as_secs() as i64,
            before: now - self.pending_ttl.as_secs() as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_ceremony_can_never_count_as_abandoned() {
        let ok = ServerConfig::default();
        assert!(ok.check().is_ok());
        let bad = ServerConfig {
            pending_ttl: ok.ceremony_ttl + ok.ceremony_deadline,
            ..ok.clone()
        };
        assert!(matches!(bad.check(), Err(SetupError::Config(_))));
        let rule = ok.abandoned(1_000);
        assert_eq!(rule.unstarted_before, 1_000 - 60);
        assert_eq!(rule.before, 1_000 - 300);
    }
}
