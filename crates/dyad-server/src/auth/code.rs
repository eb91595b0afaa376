//! One-time codes by email and SMS: [`start`] sends six digits (valid 10 minutes, within the
//! per-identifier and per-address limits), [`verify`] checks one (at most five tries, compared
//! in constant time) and opens a session.

use dyad_proto::auth::{CodeSent, LoginResponse};
use dyad_proto::PregenId;
use rand::Rng;
use serde_json::json;
use zeroize::Zeroizing;

use super::Method;
use crate::audit::{self, AuditAction};
use crate::clock;
use crate::error::ServerError;
use crate::model::{CodeChallenge, CodeLimits, CodeStart, Person, Scope, VerifiedId};
use crate::notify::{Channel, Message};
use crate::state::AppState;

/// Wrong tries a code survives; the next try after them kills it.
pub const MAX_TRIES: u32 = 5;

/// Where codes go: an email address or a phone number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeChannel {
    /// By email.
    Email,
    /// By SMS.
    Phone,
}

impl CodeChannel {
    /// The identifier `raw` names on this channel, normalised.
    pub fn identifier(self, raw: &str) -> Result<PregenId, ServerError> {
        Ok(match self {
            CodeChannel::Email => PregenId::parse("email", raw)?,
            CodeChannel::Phone => PregenId::parse("phone", raw)?,
        })
    }

    fn method(self) -> Method {
        match self {
            CodeChannel::Email => Method::EmailCode,
            CodeChannel::Phone => Method::PhoneCode,
        }
    }

    fn notify_channel(self) -> Channel {
        match self {
            CodeChannel::Email => Channel::Email,
            CodeChannel::Phone => Channel::Sms,
        }
    }
}

/// Six random digits. Secret until sent.
fn new_code() -> Zeroizing<String> {
    Zeroizing::new(format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32)))
}

/// Send a code to `raw` (an address or number) for a login through `scope`'s app.
pub async fn start(
    state: &AppState,
    scope: Scope,
    channel: CodeChannel,
    raw: &str,
    client_ip: &str,
) -> Result<CodeSent, ServerError> {
    let identifier = channel.identifier(raw)?;
    let code = new_code();
    let now = clock::now();
    let id = uuid::Uuid::new_v4().to_string();
    let challenge = CodeChallenge {
        code_mac: state.code_key.mac(&id, &code),
        id,
        scope,
        identifier: identifier.clone(),
        attempts: 0,
        client_ip: client_ip.to_string(),
        created_at: now,
        expires_at: now + state.config.code_ttl.as_secs() as i64,
    };
    let window = state.config.code_window.as_secs() as i64;
    let limits = CodeLimits {
        identifier_since: now - window,
        identifier_max: state.config.codes_per_identifier,
        ip_since: now - window,
        ip_max: state.config.codes_per_address,
    };
    let entry = audit::entry(
        scope,
        None,
        AuditAction::LoginCodeSent,
        json!({ "identifier": identifier, "expiresAt": challenge.expires_at }),
    );
    match state.store.start_code(&challenge, &limits, &entry).await? {
        CodeStart::Started => {}
        CodeStart::TooManyForIdentifier => {
            return Err(ServerError::RateLimited(
                "too many codes were sent to this identifier lately; wait before asking again".into(),
            ))
        }
        CodeStart::TooManyFromAddress => {
            return Err(ServerError::RateLimited(
                "too many codes were asked for from this address lately; wait before asking again".into(),
            ))
        }
    }
    let minutes = state.config.code_ttl.as_secs() / 60;
    let message = Message {
        channel: channel.notify_channel(),
        recipient: identifier.value().to_string(),
        subject: "Your login code".into(),
        body: format!("Your login code is {}. It expires in {minutes} minutes.", code.as_str()),
    };
    if let Err(e) = state.notifier.send(&message).await {
        // A code nobody received must not stay usable.
        let _ = state.store.consume_code(&challenge.id, clock::now()).await;
        tracing::warn!(error = %e, "a login code was not delivered");
        return Err(ServerError::DeliveryFailed);
    }
    Ok(CodeSent {
        identifier,
        expires_at: challenge.expires_at,
    })
}

/// Check `code` for `raw` and, if it is the one sent, open a session. Wrong codes count
/// against the code's tries; expired and used codes are refused.
pub async fn verify(
    state: &AppState,
    scope: Scope,
    channel: CodeChannel,
    raw: &str,
    code: &str,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    let identifier = channel.identifier(raw)?;
    let deny = |e: ServerError| async {
        let entry = audit::entry(
            scope,
            None,
            AuditAction::LoginDenied,
            json!({ "identifier": identifier, "reason": e.body().code }),
        );
        audit::record_or_log(state.store.as_ref(), &entry).await;
        e
    };
    let Some(challenge) = state.store.open_code(scope, &identifier).await? else {
        return Err(deny(ServerError::CodeInvalid).await);
    };
    if challenge.expires_at < clock::now() {
        return Err(deny(ServerError::CodeExpired).await);
    }
    let Some(_tries) = state.store.spend_code_try(&challenge.id, MAX_TRIES).await? else {
        // Five wrong tries already: the code is dead.
        state.store.consume_code(&challenge.id, clock::now()).await?;
        return Err(deny(ServerError::CodeAttemptsExceeded).await);
    };
    let code = code.trim();
    let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
    if !well_formed || !state.code_key.matches(&challenge.id, code, &challenge.code_mac) {
        return Err(deny(ServerError::CodeInvalid).await);
    }
    // Exactly one verification of a code wins.
    if !state.store.consume_code(&challenge.id, clock::now()).await? {
        return Err(deny(ServerError::CodeInvalid).await);
    }
    super::verified(
        state,
        scope,
        VerifiedId::new(identifier, scope),
        channel.method(),
        linking,
    )
    .await
}
