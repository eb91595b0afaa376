//! People logging in, as flows: a verified proof of an identifier ([`code`] for email and phone
//! one-time codes, [`custom`] for an id the app vouches for, [`telegram`] for the Telegram Login
//! Widget, [`oauth`] for Discord and X, [`farcaster`] for Sign In With Farcaster) opens a
//! [`session`] for the person in the app the login went through. A person is made at their
//! first verified login; a logged-in person who verifies another identifier links it to their
//! account.
//!
//! Nothing here ever stores a code or a token in clear: codes are kept as an HMAC under a key
//! derived from the master key, tokens and OAuth states as their SHA-256. No proof's secret (a
//! bot token, a client secret, a PKCE verifier, an authorization code, an access token) is ever
//! put in a log line, an audit entry or an error message. A refused proof is audited
//! `login.denied`, with the method and the refusal's code.

pub mod code;
pub mod custom;
pub mod farcaster;
pub mod oauth;
pub mod session;
pub mod telegram;

use dyad_proto::auth::LoginResponse;
use dyad_proto::UserId;
use serde_json::json;

use crate::audit::{self, AuditAction, AuditRecord};
use crate::clock;
use crate::error::ServerError;
use crate::model::{Person, Scope, VerifiedId};
use crate::state::AppState;
use crate::store::{Login, LoginOutcome};

/// How an identifier was proved, as the audit log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// An emailed one-time code.
    EmailCode,
    /// A texted one-time code.
    PhoneCode,
    /// The app vouched (custom id).
    AppVouched,
    /// The Telegram Login Widget's signed data.
    TelegramWidget,
    /// Discord, by OAuth 2.0 (authorization code with PKCE).
    DiscordOAuth,
    /// X (Twitter), by OAuth 2.0 (authorization code with PKCE).
    XOAuth,
    /// Sign In With Farcaster: a message signed by the fid's custody address.
    Farcaster,
}

impl Method {
    /// The name the audit log records.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::EmailCode => "email_code",
            Method::PhoneCode => "phone_code",
            Method::AppVouched => "app_vouched",
            Method::TelegramWidget => "telegram_widget",
            Method::DiscordOAuth => "discord_oauth",
            Method::XOAuth => "x_oauth",
            Method::Farcaster => "farcaster",
        }
    }
}

/// Audit a refused login proof (`login.denied`, with the method and the error's code) and hand
/// back its error. The entry holds nothing the caller sent: a refused proof is not evidence of
/// whom it names.
pub(crate) async fn denied(state: &AppState, scope: Scope, method: Method, error: ServerError) -> ServerError {
    let entry = audit::entry(
        scope,
        None,
        AuditAction::LoginDenied,
        json!({ "method": method.as_str(), "reason": error.body().code }),
    );
    audit::record_or_log(state.store.as_ref(), &entry).await;
    error
}

/// Record a proved identifier: find or make the person (or link it to `linking`, the person
/// already logged in), open a session, audit it; the token is in the answer, shown once.
pub async fn verified(
    state: &AppState,
    scope: Scope,
    identifier: VerifiedId,
    method: Method,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    if let Some(p) = linking {
        if p.scope != scope {
            return Err(ServerError::Forbidden(
                "the session is for another app: log in through this one".into(),
            ));
        }
    }
    let (token, token_hash) = session::new_token();
    let now = clock::now();
    let expires_at = now + state.config.session_ttl.as_secs() as i64;
    let login = Login {
        scope,
        identifier: identifier.clone(),
        link_to: linking.map(|p| p.user_id),
        new_user: UserId::random(),
        token_hash,
        at: now,
        expires_at,
    };
    let kind = identifier.id.kind();
    let proved = identifier.id.clone();
    let entries = move |user: UserId, outcome: LoginOutcome| -> Vec<AuditRecord> {
        let mut out = Vec::new();
        match outcome {
            LoginOutcome::Created(_) => out.push(audit::entry(
                scope,
                None,
                AuditAction::UserCreated,
                json!({ "userId": user, "identifier": kind }),
            )),
            LoginOutcome::Linked(_) => out.push(audit::entry(
                scope,
                None,
                AuditAction::IdentifierLinked,
                json!({ "userId": user, "identifier": kind }),
            )),
            _ => {}
        }
        out.push(audit::entry(
            scope,
            None,
            AuditAction::SessionCreated,
            json!({ "userId": user, "method": method.as_str(), "identifier": kind }),
        ));
        out
    };
    let outcome = state.store.login(&login, &entries).await?;
    let Some(user_id) = outcome.user() else {
        return Err(ServerError::IdentifierInUse);
    };
    let identifiers = state.store.user_identifiers(scope.environment, user_id).await?;
    let person = Person {
        user_id,
        scope,
        identifiers,
        grants: Vec::new(),
        session_expires_at: expires_at,
    };
    Ok(LoginResponse {
        session: token,
        new_user: matches!(outcome, LoginOutcome::Created(_)),
        identifier: proved,
        view: session::view(&person),
    })
}
