//! What logging in sends and answers (`/v1/auth/…`), and the session token a login yields.
//!
//! A login always goes through an app: its API key names the app and environment, and the
//! session is for one person in that app. The token is opaque and secret; the server keeps only
//! its hash.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::ids::{AppId, Environment, UserId};
use crate::pregen::PregenId;

/// A session's bearer token (`Authorization: Bearer …`). Secret: whoever holds it acts as the
/// person in the app until it expires or is revoked. Wiped on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionToken(Zeroizing<String>);

impl SessionToken {
    /// The prefix every token starts with, so a leaked one is recognisable (and scannable).
    pub const PREFIX: &'static str = "dyad_session_";

    /// Wrap a token's text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(Zeroizing::new(text.into()))
    }

    /// The token, to send or store (0600).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// `POST /v1/auth/email/start`: send a one-time code to an email address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailStartRequest {
    /// The address (normalised as a pregeneration identifier is).
    pub email: String,
}

/// `POST /v1/auth/email/verify`: the code that was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailVerifyRequest {
    /// The address the code went to.
    pub email: String,
    /// Six digits.
    pub code: String,
}

/// `POST /v1/auth/phone/start`: send a one-time code by SMS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneStartRequest {
    /// The number (E.164 after normalisation).
    pub phone: String,
}

/// `POST /v1/auth/phone/verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhoneVerifyRequest {
    /// The number the code went to.
    pub phone: String,
    /// Six digits.
    pub code: String,
}

/// What starting a one-time-code login answers. The code itself goes only to the recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    /// The identifier the code went to, normalised.
    pub identifier: PregenId,
    /// Unix seconds after which the code is refused.
    pub expires_at: i64,
}

/// `POST /v1/auth/custom`: the app (by its API key) vouches that this person is its user with
/// this custom id, as in Para: the app maps custom ids to people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomLoginRequest {
    /// The app's id for the person.
    pub custom_id: String,
}

/// A person as a session sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The person.
    pub user_id: UserId,
    /// The app the session is for.
    pub app_id: AppId,
    /// Its environment.
    pub environment: Environment,
    /// Every identifier the person has verified (custom ids only as this app vouched for them).
    pub identifiers: Vec<PregenId>,
    /// Unix seconds after which the session is refused unless refreshed.
    pub expires_at: i64,
}

/// What a successful login answers: the token (shown once) and the session it opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// The bearer token. Secret.
    pub session: SessionToken,
    /// Whether the login made a new account.
    pub new_user: bool,
    /// The identifier this login proved (normalised), e.g. the `discordUsername` an OAuth login
    /// verified, which the client could not know beforehand.
    pub identifier: PregenId,
    /// The session.
    #[serde(flatten)]
    pub view: SessionView,
}

/// `POST /v1/auth/telegram`: what the Telegram Login Widget handed the page, as it handed it
/// (`id`, `first_name`, `last_name`, `username`, `photo_url`, `auth_date`, `hash`). Kept as
/// received: the server checks the hash over every field but `hash`, so a field dropped or
/// renamed on the way would fail the check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TelegramLoginRequest {
    /// The widget's data object.
    pub widget_data: serde_json::Map<String, serde_json::Value>,
}

/// An OAuth 2.0 provider a person can log in with; its path segment is `discord` or `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    /// Discord: proves a `discordUsername`.
    Discord,
    /// X (Twitter): proves an `xUsername`.
    X,
}

impl OAuthProvider {
    /// Every provider.
    pub const ALL: [OAuthProvider; 2] = [OAuthProvider::Discord, OAuthProvider::X];

    /// The path segment and stored name (`discord`, `x`).
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthProvider::Discord => "discord",
            OAuthProvider::X => "x",
        }
    }

    /// The provider a path segment names, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /v1/auth/oauth/{provider}/start`: where the provider sends the person back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthStartRequest {
    /// The redirect URI registered with the provider (absolute, `https`, or `http` for local
    /// development). The provider redirects there with `code` and `state`.
    pub redirect_uri: String,
}

/// What starting an OAuth login answers: send the person to `authorization_url`; when the
/// provider redirects back, check its `state` is this one and finish with the `code`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStarted {
    /// The provider's authorization URL, with the state and the PKCE challenge in its query.
    pub authorization_url: String,
    /// The state the provider will send back; single use, valid 10 minutes.
    pub state: String,
}

/// `POST /v1/auth/oauth/{provider}/finish`: what the provider's redirect carried.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthFinishRequest {
    /// The `state` of the redirect (the one `start` answered).
    pub state: String,
    /// The `code` of the redirect. Secret: redacted in `Debug`.
    pub code: String,
}

impl fmt::Debug for OAuthFinishRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthFinishRequest")
            .field("state", &self.state)
            .field("code", &"..")
            .finish()
    }
}

/// What `POST /v1/auth/farcaster/nonce` answers: the nonce the Sign In With Farcaster message
/// must carry (single use, valid 10 minutes, only through the app that asked for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FarcasterNonce {
    /// Alphanumeric.
    pub nonce: String,
}

/// `POST /v1/auth/farcaster/verify`: a signed Sign In With Farcaster (EIP-4361) message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FarcasterVerifyRequest {
    /// The message text exactly as signed.
    pub message: String,
    /// The custody address's EIP-191 signature of it: `0x` and 130 hex digits (`r ‖ s ‖ v`).
    pub signature: String,
}
