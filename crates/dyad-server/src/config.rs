//! Tunables of a server, and the login proofs it accepts (Telegram, OAuth providers,
//! Farcaster): each is off until configured. Secrets here (a bot token, client secrets) are
//! [`Secret`]s, redacted in `Debug`, so printing a config never leaks one.

use std::fmt;
use std::time::Duration;

use dyad_chains::ChainConfig;
use dyad_proto::auth::OAuthProvider;
pub use url::Url;
use zeroize::Zeroizing;

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
    /// How long a key setup made ahead of time (the warm setup pool) stays usable unreserved.
    pub key_setup_ttl: Duration,
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
    /// The Telegram bot whose Login Widget logins are accepted (its token from @BotFather).
    /// `None`: Telegram logins are refused as unavailable.
    pub telegram_bot_token: Option<Secret>,
    /// The oldest Telegram login (`auth_date`) accepted.
    pub telegram_max_age: Duration,
    /// Discord as an OAuth 2.0 provider (`None`: off).
    pub oauth_discord: Option<OAuthClient>,
    /// X (Twitter) as an OAuth 2.0 provider (`None`: off).
    pub oauth_x: Option<OAuthClient>,
    /// Sign In With Farcaster (`None`: off).
    pub farcaster: Option<FarcasterConfig>,
    /// How long an OAuth state and a Farcaster nonce stay usable.
    pub login_proof_ttl: Duration,
    /// The longest a call to a provider (token, user info, Farcaster lookup) may take.
    pub provider_timeout: Duration,
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
            key_setup_ttl: Duration::from_secs(24 * 60 * 60),
            reap_interval: Duration::from_secs(30),
            max_message_bytes: 1024 * 1024,
            session_ttl: Duration::from_secs(90 * 60),
            code_ttl: Duration::from_secs(10 * 60),
            code_window: Duration::from_secs(60 * 60),
            codes_per_identifier: 5,
            codes_per_address: 30,
            telegram_bot_token: None,
            telegram_max_age: Duration::from_secs(24 * 3600),
            oauth_discord: None,
            oauth_x: None,
            farcaster: None,
            login_proof_ttl: Duration::from_secs(10 * 60),
            provider_timeout: Duration::from_secs(10),
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
        if self
            .telegram_bot_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            return Err(SetupError::Config("the Telegram bot token is empty"));
        }
        if self.telegram_max_age.is_zero() || self.login_proof_ttl.is_zero() || self.provider_timeout.is_zero() {
            return Err(SetupError::Config(
                "telegram_max_age, login_proof_ttl and provider_timeout must be longer than zero",
            ));
        }
        for client in [&self.oauth_discord, &self.oauth_x].into_iter().flatten() {
            if client.client_id.trim().is_empty() || client.client_secret.expose().is_empty() {
                return Err(SetupError::Config(
                    "an OAuth provider needs a client id and a client secret",
                ));
            }
        }
        if self.farcaster.as_ref().is_some_and(|f| f.domain.trim().is_empty()) {
            return Err(SetupError::Config(
                "Sign In With Farcaster needs the domain its messages name",
            ));
        }
        Ok(())
    }

    /// The configured client of `provider`, if that provider is on.
    pub fn oauth(&self, provider: OAuthProvider) -> Option<&OAuthClient> {
        match provider {
            OAuthProvider::Discord => self.oauth_discord.as_ref(),
            OAuthProvider::X => self.oauth_x.as_ref(),
        }
    }

    /// Which pending wallets are abandoned at `now`: never connected once the ticket expired,
    /// or older than any ceremony can run.
    pub fn abandoned(&self, now: i64) -> Abandoned {
        Abandoned {
            unstarted_before: now - self.ceremony_ttl.as_secs() as i64,
            before: now - self.pending_ttl.as_secs() as i64,
            key_setups_before: now - self.key_setup_ttl.as_secs() as i64,
        }
    }
}

/// A secret setting (a bot token, a client secret): wiped on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a secret's text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The secret, to use (never to log).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// This server as a client of one OAuth 2.0 provider (authorization code with PKCE S256). The
/// client authenticates at the token endpoint with HTTP Basic (RFC 6749 §2.3.1), which Discord
/// and X both take.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// Where the person approves the login.
    pub authorize_url: Url,
    /// Where the code is exchanged for an access token (form POST).
    pub token_url: Url,
    /// Where the access token reads who the person is (GET, bearer token).
    pub userinfo_url: Url,
    /// The client id the provider gave.
    pub client_id: String,
    /// The client secret the provider gave.
    pub client_secret: Secret,
    /// The scopes asked for (space-separated in the authorization URL).
    pub scopes: Vec<String>,
    /// Where the username is in the user info answer.
    pub username_field: JsonField,
}

impl OAuthClient {
    /// Discord's endpoints: scope `identify`, the username in `username`.
    pub fn discord(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            authorize_url: known_url("https://discord.com/oauth2/authorize"),
            token_url: known_url("https://discord.com/api/oauth2/token"),
            userinfo_url: known_url("https://discord.com/api/users/@me"),
            client_id: client_id.into(),
            client_secret,
            scopes: vec!["identify".into()],
            username_field: JsonField::parse("username").unwrap_or_else(|| unreachable!("a valid field")),
        }
    }

    /// X's endpoints: scopes `users.read tweet.read` (X's `/2/users/me` needs both), the
    /// username in `data.username`.
    pub fn x(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            authorize_url: known_url("https://x.com/i/oauth2/authorize"),
            token_url: known_url("https://api.x.com/2/oauth2/token"),
            userinfo_url: known_url("https://api.x.com/2/users/me"),
            client_id: client_id.into(),
            client_secret,
            scopes: vec!["users.read".into(), "tweet.read".into()],
            username_field: JsonField::parse("data.username").unwrap_or_else(|| unreachable!("a valid field")),
        }
    }
}

/// A URL written in this file, which parses.
fn known_url(text: &str) -> Url {
    Url::parse(text).unwrap_or_else(|_| unreachable!("a valid constant URL"))
}

/// A field of a JSON answer, by its dotted path (`data.username`: the `username` of the object
/// under `data`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonField(Vec<String>);

impl JsonField {
    /// Parse a dotted path; `None` if a segment is empty.
    pub fn parse(path: &str) -> Option<Self> {
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        (!parts.iter().any(String::is_empty)).then_some(Self(parts))
    }

    /// The field's value in `value`, if it is there and is a string.
    pub fn find<'a>(&self, value: &'a serde_json::Value) -> Option<&'a str> {
        self.0
            .iter()
            .try_fold(value, |v, key| v.get(key.as_str()))
            .and_then(serde_json::Value::as_str)
    }
}

impl fmt::Display for JsonField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// Sign In With Farcaster: which messages are for this deployment, and where fids are looked
/// up.
#[derive(Clone, Debug)]
pub struct FarcasterConfig {
    /// The domain a message must name (its first line: `<domain> wants you to sign in …`), the
    /// app's own web domain as the Farcaster client showed it to the person.
    pub domain: String,
    /// The fid lookup service: `GET {lookup_url}/fid/{fid}` answers
    /// `{"username": "…", "custodyAddress": "0x…"}` (an adapter over a Farcaster hub, or a
    /// hosted API such as Neynar's user lookup, run by the operator).
    pub lookup_url: Url,
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

    #[test]
    fn secrets_never_print_and_everything_is_off_by_default() {
        let on = ServerConfig {
            telegram_bot_token: Some(Secret::new("123:bot-token-text")),
            oauth_discord: Some(OAuthClient::discord("id", Secret::new("client-secret-text"))),
            ..ServerConfig::default()
        };
        let printed = format!("{on:?}");
        assert!(
            !printed.contains("bot-token-text") && !printed.contains("client-secret-text"),
            "{printed}"
        );
        assert!(printed.contains("Secret(..)"));
        assert!(on.check().is_ok());
        let off = ServerConfig::default();
        assert!(off.telegram_bot_token.is_none() && off.farcaster.is_none());
        assert!(OAuthProvider::ALL.iter().all(|p| off.oauth(*p).is_none()));
        let empty = ServerConfig {
            oauth_x: Some(OAuthClient::x("", Secret::new("s"))),
            ..ServerConfig::default()
        };
        assert!(matches!(empty.check(), Err(SetupError::Config(_))));
    }

    #[test]
    fn json_fields_follow_their_dotted_path() {
        let answer = serde_json::json!({ "data": { "username": "Ada" }, "username": 7 });
        assert_eq!(
            JsonField::parse("data.username").and_then(|f| f.find(&answer).map(str::to_string)),
            Some("Ada".into())
        );
        // A number is not a username.
        assert_eq!(
            JsonField::parse("username").and_then(|f| f.find(&answer).map(str::to_string)),
            None
        );
        assert!(JsonField::parse("data..username").is_none());
        assert!(JsonField::parse("").is_none());
    }
}
