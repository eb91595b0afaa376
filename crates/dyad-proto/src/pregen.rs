//! Pregeneration identifiers (Para's `PregenAuth`): who a pregenerated wallet is for.
//!
//! Parsed and normalised at the edge, so that two spellings of one person (`User@Example.com `
//! and `user@example.com`, `@Alice` and `alice`) name one wallet.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ProtoError;

/// Who a pregenerated wallet is for. JSON: exactly one key, as in Para: `{"email": "…"}`,
/// `{"phone": "+1…"}`, `{"telegramUserId": "…"}`, `{"farcasterUsername": "…"}`,
/// `{"xUsername": "…"}`, `{"discordUsername": "…"}`, `{"customId": "…"}`.
///
/// Values are normalised on construction: email trimmed and lower-cased; phone to E.164
/// (`+` and 8–15 digits, separators removed); handles without a leading `@` and lower-cased;
/// Telegram user ids are numeric; custom ids trimmed, case kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawPregenId")]
pub enum PregenId {
    /// An email address.
    Email(String),
    /// A phone number in E.164.
    Phone(String),
    /// A numeric Telegram user id.
    TelegramUserId(String),
    /// A Farcaster username.
    FarcasterUsername(String),
    /// An X (Twitter) username.
    XUsername(String),
    /// A Discord username.
    DiscordUsername(String),
    /// An id of the app's own choosing.
    CustomId(String),
}

/// The shape accepted on the wire before normalisation.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum RawPregenId {
    Email(String),
    Phone(String),
    TelegramUserId(String),
    FarcasterUsername(String),
    XUsername(String),
    DiscordUsername(String),
    CustomId(String),
}

impl TryFrom<RawPregenId> for PregenId {
    type Error = ProtoError;
    fn try_from(raw: RawPregenId) -> Result<Self, Self::Error> {
        let (kind, value) = match raw {
            RawPregenId::Email(v) => ("email", v),
            RawPregenId::Phone(v) => ("phone", v),
            RawPregenId::TelegramUserId(v) => ("telegramUserId", v),
            RawPregenId::FarcasterUsername(v) => ("farcasterUsername", v),
            RawPregenId::XUsername(v) => ("xUsername", v),
            RawPregenId::DiscordUsername(v) => ("discordUsername", v),
            RawPregenId::CustomId(v) => ("customId", v),
        };
        PregenId::parse(kind, &value)
    }
}

/// The identifier kinds, in their wire spelling.
pub const KINDS: [&str; 7] = [
    "email",
    "phone",
    "telegramUserId",
    "farcasterUsername",
    "xUsername",
    "discordUsername",
    "customId",
];

const MAX_LEN: usize = 255;

impl PregenId {
    /// Parse and normalise `value` as an identifier of `kind` (wire spelling, e.g. `"email"`).
    pub fn parse(kind: &str, value: &str) -> Result<Self, ProtoError> {
        let bad = |why: &str| ProtoError::InvalidIdentifier(format!("{kind}: {why}"));
        let v = value.trim();
        if v.is_empty() {
            return Err(bad("must not be empty"));
        }
        if v.len() > MAX_LEN {
            return Err(bad("too long"));
        }
        if v.chars().any(char::is_control) {
            return Err(bad("contains control characters"));
        }
        let handle = |v: &str| -> Result<String, ProtoError> {
            let h = v.strip_prefix('@').unwrap_or(v).to_lowercase();
            if h.is_empty() || h.chars().any(char::is_whitespace) {
                return Err(bad("must be a single handle"));
            }
            Ok(h)
        };
        Ok(match kind {
            "email" => {
                let e = v.to_lowercase();
                let (local, domain) = e.split_once('@').ok_or_else(|| bad("missing @"))?;
                if local.is_empty()
                    || domain.is_empty()
                    || domain.contains('@')
                    || !domain.contains('.')
                    || e.chars().any(char::is_whitespace)
                {
                    return Err(bad("not an email address"));
                }
                PregenId::Email(e)
            }
            "phone" => {
                let digits: String = v
                    .chars()
                    .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
                    .collect();
                let rest = digits
                    .strip_prefix('+')
                    .ok_or_else(|| bad("must be in international format, starting with +"))?;
                if !(8..=15).contains(&rest.len()) || !rest.chars().all(|c| c.is_ascii_digit()) || rest.starts_with('0')
                {
                    return Err(bad("not an E.164 phone number"));
                }
                PregenId::Phone(format!("+{rest}"))
            }
            "telegramUserId" => {
                if !v.chars().all(|c| c.is_ascii_digit()) || v.len() > 20 {
                    return Err(bad("must be a numeric Telegram user id"));
                }
                PregenId::TelegramUserId(v.to_string())
            }
            "farcasterUsername" => PregenId::FarcasterUsername(handle(v)?),
            "xUsername" => PregenId::XUsername(handle(v)?),
            "discordUsername" => PregenId::DiscordUsername(handle(v)?),
            "customId" => PregenId::CustomId(v.to_string()),
            other => {
                return Err(ProtoError::InvalidIdentifier(format!(
                    "unknown identifier kind {other:?}"
                )))
            }
        })
    }

    /// The kind in wire spelling (`"email"`, `"customId"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            PregenId::Email(_) => "email",
            PregenId::Phone(_) => "phone",
            PregenId::TelegramUserId(_) => "telegramUserId",
            PregenId::FarcasterUsername(_) => "farcasterUsername",
            PregenId::XUsername(_) => "xUsername",
            PregenId::DiscordUsername(_) => "discordUsername",
            PregenId::CustomId(_) => "customId",
        }
    }

    /// The normalised value.
    pub fn value(&self) -> &str {
        match self {
            PregenId::Email(v)
            | PregenId::Phone(v)
            | PregenId::TelegramUserId(v)
            | PregenId::FarcasterUsername(v)
            | PregenId::XUsername(v)
            | PregenId::DiscordUsername(v)
            | PregenId::CustomId(v) => v,
        }
    }

    /// As a URL query pair (`email=…`), the way `GET /v1/wallets` takes it.
    pub fn query_pair(&self) -> (&'static str, &str) {
        (self.kind(), self.value())
    }
}

impl fmt::Display for PregenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_matches_para() {
        let id: PregenId = serde_json::from_str(r#"{"email":" User1@Example.COM "}"#).unwrap();
        assert_eq!(id, PregenId::Email("user1@example.com".into()));
        assert_eq!(serde_json::to_string(&id).unwrap(), r#"{"email":"user1@example.com"}"#);
        let id: PregenId = serde_json::from_str(r#"{"customId":"User-42"}"#).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#"{"customId":"User-42"}"#);
    }

    #[test]
    fn normalises() {
        assert_eq!(
            PregenId::parse("phone", "+1 (415) 555-0100").unwrap().value(),
            "+14155550100"
        );
        assert_eq!(PregenId::parse("xUsername", "@Alice").unwrap().value(), "alice");
        assert_eq!(PregenId::parse("discordUsername", "Bob").unwrap().value(), "bob");
        assert_eq!(PregenId::parse("telegramUserId", " 12345 ").unwrap().value(), "12345");
    }

    #[test]
    fn rejects_bad_input() {
        for (k, v) in [
            ("email", "nope"),
            ("email", "a@b"),
            ("email", ""),
            ("phone", "4155550100"),
            ("phone", "+12"),
            ("phone", "+1415abc0100"),
            ("telegramUserId", "alice"),
            ("xUsername", "@"),
            ("customId", "   "),
            ("customId", "a\u{0}b"),
            ("nickname", "x"),
        ] {
            assert!(
                matches!(PregenId::parse(k, v), Err(ProtoError::InvalidIdentifier(_))),
                "{k}={v:?} should be rejected"
            );
        }
        assert!(serde_json::from_str::<PregenId>(r#"{"email":"a@b.c","phone":"+14155550100"}"#).is_err());
        assert!(serde_json::from_str::<PregenId>(r#"{"nickname":"x"}"#).is_err());
        assert!(serde_json::from_str::<PregenId>(r#"{}"#).is_err());
    }
}
