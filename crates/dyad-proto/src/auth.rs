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
    /// The session.
    #[serde(flatten)]
    pub view: SessionView,
}
