//! The Telegram Login Widget: the widget hands the page the person's Telegram account, signed
//! with the bot's token, and the app passes it on as received. Checked as Telegram specifies
//! (<https://core.telegram.org/widgets/login#checking-authorization>): the data-check-string is
//! every received field but `hash` as `key=value`, sorted by key, joined with `\n`; the secret
//! key is SHA-256 of the bot token; the hash must be hex of HMAC-SHA256(secret key,
//! data-check-string), compared in constant time. A login older than `telegram_max_age` (or
//! dated in the future) is refused. The account proved is `telegramUserId` = `id`.
//!
//! It must never put the bot token in a log or an error. Telegram's data is replayable until it
//! is too old (the widget has no server nonce), which is why the age bound is kept short.

use std::collections::BTreeMap;

use dyad_proto::auth::LoginResponse;
use dyad_proto::PregenId;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Method;
use crate::clock;
use crate::error::ServerError;
use crate::model::{Person, Scope, VerifiedId};
use crate::state::AppState;

/// How far in the future an `auth_date` may be (clocks differ a little).
pub const CLOCK_SKEW_SECS: i64 = 5 * 60;
/// The most fields the widget data may have (Telegram sends seven).
const MAX_FIELDS: usize = 32;
/// The longest field value accepted (a `photo_url` is the longest Telegram sends).
const MAX_VALUE_LEN: usize = 2048;

/// The widget's data, parsed at the edge: every field but `hash` as the text the
/// data-check-string uses, the hash as sent, and the account and date it claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidgetData {
    /// Every received field but `hash`, sorted by key.
    fields: BTreeMap<String, String>,
    /// `hash` as sent (hex, checked later: a malformed hash is a refused proof).
    hash: String,
    /// `id` as an identifier.
    pub user: PregenId,
    /// `auth_date`, Unix seconds.
    pub auth_date: i64,
}

impl WidgetData {
    /// Parse what the widget handed over. Keys must be Telegram's kind (lower-case letters,
    /// digits, `_`) and values single-line strings, integers or booleans, so that no two sets of
    /// fields share a data-check-string.
    pub fn parse(raw: &Map<String, Value>) -> Result<Self, ServerError> {
        let bad = |why: String| ServerError::InvalidRequest(format!("widgetData: {why}"));
        if raw.len() > MAX_FIELDS {
            return Err(bad(format!("more than {MAX_FIELDS} fields")));
        }
        let mut fields = BTreeMap::new();
        let mut hash = None;
        for (key, value) in raw {
            let key_ok = !key.is_empty()
                && key.len() <= 64
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return Err(bad("field names are lower-case letters, digits and _".into()));
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad(format!("{key} must be a string, an integer or a boolean"))),
            };
            if text.len() > MAX_VALUE_LEN || text.contains('\n') {
                return Err(bad(format!("{key} must be one line of at most {MAX_VALUE_LEN} bytes")));
            }
            if key == "hash" {
                hash = Some(text);
            } else {
                fields.insert(key.clone(), text);
            }
        }
        let hash = hash.ok_or_else(|| bad("hash is missing".into()))?;
        let id = fields.get("id").ok_or_else(|| bad("id is missing".into()))?;
        let user = PregenId::parse("telegramUserId", id)?;
        let auth_date = fields
            .get("auth_date")
            .ok_or_else(|| bad("auth_date is missing".into()))?
            .parse::<i64>()
            .map_err(|_| bad("auth_date must be Unix seconds".into()))?;
        Ok(Self {
            fields,
            hash,
            user,
            auth_date,
        })
    }

    /// Telegram's data-check-string: `key=value` for every field but `hash`, sorted by key,
    /// joined with `\n`.
    pub fn data_check_string(&self) -> String {
        self.fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// HMAC-SHA256(SHA-256(bot token), data-check-string): what the widget's `hash` must be.
pub fn expected_hash(bot_token: &str, data_check_string: &str) -> [u8; 32] {
    let secret = Sha256::digest(bot_token.as_bytes());
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).unwrap_or_else(|_| unreachable!("any key length"));
    mac.update(data_check_string.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Check `data` against the bot token at `now`: the account it proves, or why it is refused.
pub fn check(bot_token: &str, data: &WidgetData, now: i64, max_age_secs: i64) -> Result<PregenId, ServerError> {
    let sent = hex::decode(data.hash.trim())
        .ok()
        .filter(|h| h.len() == 32)
        .ok_or_else(|| ServerError::LoginRejected("the Telegram hash is not 64 hex digits".into()))?;
    let expected = expected_hash(bot_token, &data.data_check_string());
    if !bool::from(expected.ct_eq(&sent[..])) {
        return Err(ServerError::LoginRejected(
            "the Telegram data is not signed by this server's bot".into(),
        ));
    }
    if data.auth_date < now.saturating_sub(max_age_secs) {
        return Err(ServerError::LoginRejected(
            "the Telegram login is too old: log in with Telegram again".into(),
        ));
    }
    if data.auth_date > now.saturating_add(CLOCK_SKEW_SECS) {
        return Err(ServerError::LoginRejected(
            "the Telegram login is dated in the future".into(),
        ));
    }
    Ok(data.user.clone())
}

/// Log in with the widget's data and open a session (or link the Telegram account to
/// `linking`).
pub async fn login(
    state: &AppState,
    scope: Scope,
    widget_data: &Map<String, Value>,
    linking: Option<&Person>,
) -> Result<LoginResponse, ServerError> {
    let Some(token) = state.config.telegram_bot_token.as_ref() else {
        return Err(ServerError::LoginMethodUnavailable(
            "Telegram logins are off on this server: an operator turns them on with the bot's token \
             (dyad serve --telegram-bot-token-file, or DYAD_TELEGRAM_BOT_TOKEN)"
                .into(),
        ));
    };
    let data = WidgetData::parse(widget_data)?;
    let max_age = i64::try_from(state.config.telegram_max_age.as_secs()).unwrap_or(i64::MAX);
    let user = match check(token.expose(), &data, clock::now(), max_age) {
        Ok(user) => user,
        Err(e) => return Err(super::denied(state, scope, Method::TelegramWidget, e).await),
    };
    super::verified(
        state,
        scope,
        VerifiedId::new(user, scope),
        Method::TelegramWidget,
        linking,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(fields: Value) -> WidgetData {
        WidgetData::parse(fields.as_object().unwrap()).unwrap()
    }

    #[test]
    fn the_data_check_string_is_every_field_but_the_hash_sorted() {
        let data = widget(serde_json::json!({
            "username": "ada", "id": 42, "hash": "00", "auth_date": 1700000000, "first_name": "Ada",
        }));
        assert_eq!(
            data.data_check_string(),
            "auth_date=1700000000\nfirst_name=Ada\nid=42\nusername=ada"
        );
        assert_eq!(data.user, PregenId::TelegramUserId("42".into()));
    }

    #[test]
    fn a_signed_payload_passes_and_a_forged_or_stale_one_does_not() {
        let token = "123456:test-bot-token";
        let mut fields = serde_json::json!({ "id": "42", "auth_date": "1000", "first_name": "Ada" });
        let unsigned = widget({
            let mut f = fields.clone();
            f["hash"] = "00".into();
            f
        });
        let hash = hex::encode(expected_hash(token, &unsigned.data_check_string()));
        fields["hash"] = hash.clone().into();
        let data = widget(fields.clone());
        assert_eq!(check(token, &data, 1000, 86400).unwrap().value(), "42");
        // Uppercase hex is the same hash.
        fields["hash"] = hash.to_uppercase().into();
        assert!(check(token, &widget(fields.clone()), 1000, 86400).is_ok());
        // Another bot's token, another field value, stale, future, malformed.
        assert!(matches!(
            check("other", &data, 1000, 86400),
            Err(ServerError::LoginRejected(_))
        ));
        let mut changed = fields.clone();
        changed["first_name"] = "Eve".into();
        assert!(check(token, &widget(changed), 1000, 86400).is_err());
        assert!(check(token, &data, 1000 + 86401, 86400).is_err());
        assert!(check(token, &data, 1000 - CLOCK_SKEW_SECS - 1, 86400).is_err());
        fields["hash"] = "zz".into();
        assert!(matches!(
            check(token, &widget(fields), 1000, 86400),
            Err(ServerError::LoginRejected(_))
        ));
    }

    #[test]
    fn ambiguous_or_malformed_fields_are_refused() {
        for bad in [
            serde_json::json!({ "id": 1, "auth_date": 1 }),
            serde_json::json!({ "id": 1, "hash": "00" }),
            serde_json::json!({ "auth_date": 1, "hash": "00" }),
            serde_json::json!({ "id": "alice", "auth_date": 1, "hash": "00" }),
            serde_json::json!({ "id": 1, "auth_date": 1, "hash": "00", "first_name": "a\nid=2" }),
            serde_json::json!({ "id": 1, "auth_date": 1, "hash": "00", "Id=2": "x" }),
            serde_json::json!({ "id": 1, "auth_date": 1, "hash": "00", "photo": { "url": "x" } }),
            serde_json::json!({ "id": 1.5, "auth_date": 1, "hash": "00" }),
        ] {
            assert!(WidgetData::parse(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }
}
