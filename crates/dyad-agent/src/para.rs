//! Para's REST API v1 shapes (`../shared/reference/para-rest.md`), parsed at the edge into
//! Dyad's types: an app written against Para's REST docs works by changing the base URL. Where
//! Para has something Dyad does not (`GUEST_ID`, the `CGGMP` scheme, a per-wallet Cosmos
//! prefix), the request is refused with `UNSUPPORTED` and a message saying what to do instead.

use base64::Engine;
use dyad_proto::{PregenId, WalletId, WalletStatus, WalletType, WalletView};
use dyad_sdk::TransactionRequest;
use serde::{Deserialize, Serialize};

use crate::error::AgentError;

/// `POST /v1/wallets`, as sent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CreateWalletBody {
    #[serde(rename = "type")]
    wallet_type: String,
    user_identifier: String,
    user_identifier_type: String,
    scheme: Option<String>,
    cosmos_prefix: Option<String>,
}

/// `POST /v1/wallets`, parsed: which wallet to make, for whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateWallet {
    /// EVM, SOLANA, COSMOS or STELLAR.
    pub wallet_type: WalletType,
    /// Who it is for, normalised.
    pub pregen_id: PregenId,
}

/// Para's identifier types and Dyad's: `GUEST_ID` has none.
const IDENTIFIER_TYPES: [(&str, &str); 7] = [
    ("EMAIL", "email"),
    ("PHONE", "phone"),
    ("CUSTOM_ID", "customId"),
    ("DISCORD", "discordUsername"),
    ("TWITTER", "xUsername"),
    ("TELEGRAM", "telegramUserId"),
    ("FARCASTER", "farcasterUsername"),
];

/// The Cosmos prefix the agent's Dyad server derives addresses with by default.
const COSMOS_PREFIX: &str = "cosmos";

impl CreateWallet {
    /// Parse a create body. Every refusal says which field and why.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        let raw: CreateWalletBody = serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a create-wallet request: {e}")))?;
        let wallet_type: WalletType = raw.wallet_type.parse().map_err(|_| {
            AgentError::InvalidRequest(format!(
                "type {:?} is not one of EVM, SOLANA, COSMOS, STELLAR",
                raw.wallet_type
            ))
        })?;
        if let Some(scheme) = &raw.scheme {
            let ours = wallet_type.scheme().as_str();
            if scheme == "CGGMP" {
                return Err(AgentError::Unsupported(format!(
                    "scheme CGGMP is not offered: {wallet_type} wallets use {ours} (omit scheme)"
                )));
            }
            if scheme != ours {
                return Err(AgentError::InvalidRequest(format!(
                    "scheme {scheme:?} does not hold {wallet_type} keys: {wallet_type} wallets use {ours}"
                )));
            }
        }
        match (&raw.cosmos_prefix, wallet_type) {
            (None, _) => {}
            (Some(p), WalletType::Cosmos) if p == COSMOS_PREFIX => {}
            (Some(p), WalletType::Cosmos) => {
                return Err(AgentError::Unsupported(format!(
                    "cosmosPrefix {p:?}: the Dyad server derives Cosmos addresses with the prefix it is configured \
                     with (default \"cosmos\"), not one per wallet"
                )))
            }
            (Some(_), _) => {
                return Err(AgentError::InvalidRequest(
                    "cosmosPrefix is for COSMOS wallets only".into(),
                ))
            }
        }
        let pregen_id = pregen_id(&raw.user_identifier_type, &raw.user_identifier)?;
        Ok(Self { wallet_type, pregen_id })
    }
}

/// `GET /v1/wallets?userIdentifier=…&userIdentifierType=…` (both, or neither for all).
#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WalletQuery {
    user_identifier: Option<String>,
    user_identifier_type: Option<String>,
}

impl WalletQuery {
    /// Whose wallets: `None` for all of them.
    pub fn identifier(&self) -> Result<Option<PregenId>, AgentError> {
        match (&self.user_identifier, &self.user_identifier_type) {
            (None, None) => Ok(None),
            (Some(value), Some(kind)) => Ok(Some(pregen_id(kind, value)?)),
            _ => Err(AgentError::InvalidRequest(
                "give userIdentifier and userIdentifierType together, or neither".into(),
            )),
        }
    }
}

/// A Para identifier as Dyad's, normalised.
fn pregen_id(kind: &str, value: &str) -> Result<PregenId, AgentError> {
    if kind == "GUEST_ID" {
        return Err(AgentError::Unsupported(
            "userIdentifierType GUEST_ID: Dyad has no guest wallets; use CUSTOM_ID with your own guest id".into(),
        ));
    }
    let dyad = IDENTIFIER_TYPES
        .iter()
        .find(|(para, _)| *para == kind)
        .map(|(_, dyad)| *dyad)
        .ok_or_else(|| {
            AgentError::InvalidRequest(format!(
                "userIdentifierType {kind:?} is not one of EMAIL, PHONE, CUSTOM_ID, DISCORD, TWITTER, TELEGRAM, FARCASTER"
            ))
        })?;
    PregenId::parse(dyad, value).map_err(|e| AgentError::InvalidRequest(format!("userIdentifier: {e}")))
}

/// `POST /v1/wallets/bulk` (beyond Para): a wallet of each of `types` for each person.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BulkBody {
    types: Vec<String>,
    people: Vec<BulkPersonBody>,
    concurrency: Option<usize>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct BulkPersonBody {
    user_identifier: String,
    user_identifier_type: String,
}

/// The most people one bulk call takes (about 150 KB of JSON: well inside the body limit).
pub const BULK_PEOPLE_MAX: usize = 2_000;

/// The most wallets a bulk call makes at once.
pub const BULK_CONCURRENCY_MAX: usize = 256;

/// A bulk call, parsed: the people whose identifiers parse (with their index in `people`),
/// and a failure for each that does not (reported, not fatal, as in `dyad pregen bulk`).
#[derive(Debug)]
pub struct Bulk {
    /// The wallet types to make.
    pub types: Vec<WalletType>,
    /// People whose identifiers parsed, `at` their index.
    pub people: Vec<dyad_vault::bulk::Person>,
    /// People whose identifiers did not.
    pub refused: Vec<BulkFailure>,
    /// Wallets made at once.
    pub concurrency: usize,
}

impl Bulk {
    /// Parse a bulk body.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        let raw: BulkBody = serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a bulk request: {e}")))?;
        if raw.types.is_empty() {
            return Err(AgentError::InvalidRequest(
                "types names at least one wallet type".into(),
            ));
        }
        let mut types = Vec::new();
        for t in &raw.types {
            let t: WalletType = t.parse().map_err(|_| {
                AgentError::InvalidRequest(format!("type {t:?} is not one of EVM, SOLANA, COSMOS, STELLAR"))
            })?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        if raw.people.len() > BULK_PEOPLE_MAX {
            return Err(AgentError::InvalidRequest(format!(
                "at most {BULK_PEOPLE_MAX} people per call (split the list: a repeat skips who has a wallet)"
            )));
        }
        let concurrency = raw.concurrency.unwrap_or(8);
        if !(1..=BULK_CONCURRENCY_MAX).contains(&concurrency) {
            return Err(AgentError::InvalidRequest(format!(
                "concurrency is 1 to {BULK_CONCURRENCY_MAX}"
            )));
        }
        let mut people = Vec::new();
        let mut refused = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (i, p) in raw.people.iter().enumerate() {
            let at = i as u64;
            match pregen_id(&p.user_identifier_type, &p.user_identifier) {
                Ok(id) => match seen.get(&id) {
                    Some(first) => refused.push(BulkFailure {
                        index: at,
                        wallet_type: None,
                        error: format!("the same person as index {first}"),
                    }),
                    None => {
                        seen.insert(id.clone(), at);
                        people.push(dyad_vault::bulk::Person { at, id });
                    }
                },
                Err(e) => refused.push(BulkFailure {
                    index: at,
                    wallet_type: None,
                    error: e.to_string(),
                }),
            }
        }
        Ok(Self {
            types,
            people,
            refused,
            concurrency,
        })
    }
}

/// A person or wallet a bulk call did not make.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkFailure {
    /// The person's index in `people`.
    pub index: u64,
    /// The wallet type, or none when the person's identifier was refused.
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>, example = "SOLANA")]
    pub wallet_type: Option<WalletType>,
    /// Why (never a secret).
    pub error: String,
}

/// What a bulk call did, as `dyad pregen bulk --json` says it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkSummary {
    /// Wallets made by this call.
    pub created: u64,
    /// Wallets that existed already, with their share in this agent's vault.
    pub skipped: u64,
    /// What was not made, by index.
    pub failed: Vec<BulkFailure>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// A list of wallets.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct WalletList {
    /// Oldest first.
    pub wallets: Vec<ParaWallet>,
}

/// The Para identifier type of a Dyad identifier.
fn identifier_type(p: &PregenId) -> &'static str {
    IDENTIFIER_TYPES
        .iter()
        .find(|(_, dyad)| *dyad == p.kind())
        .map(|(para, _)| *para)
        .unwrap_or("CUSTOM_ID")
}

/// A wallet as Para answers it. Dyad makes a wallet within the request, so `status` is
/// `"ready"` (never `"creating"`), or `"claimed"` once its person has claimed it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParaWallet {
    /// The wallet.
    #[schema(value_type = String, format = "uuid")]
    pub id: WalletId,
    /// EVM, SOLANA, COSMOS or STELLAR.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "EVM")]
    pub wallet_type: WalletType,
    /// DKLS or ED25519.
    pub scheme: String,
    /// `ready`, or `claimed`.
    pub status: String,
    /// When its share entered this agent's vault (RFC 3339, UTC).
    pub created_at: String,
    /// The chain address.
    pub address: String,
    /// `0x`-prefixed hex public key.
    pub public_key: String,
    /// The identifier, normalised.
    pub user_identifier: String,
    /// EMAIL, PHONE, CUSTOM_ID, DISCORD, TWITTER, TELEGRAM or FARCASTER.
    pub user_identifier_type: String,
}

impl ParaWallet {
    /// Para's shape of `view`, kept by the agent since `created_at` (unix seconds).
    pub fn of(view: &WalletView, created_at: i64) -> Self {
        Self {
            id: view.id,
            wallet_type: view.wallet_type,
            scheme: view.scheme.as_str().to_string(),
            status: match view.status {
                WalletStatus::Claimed => "claimed",
                _ => "ready",
            }
            .to_string(),
            created_at: rfc3339(created_at),
            address: view.address.clone(),
            public_key: view.public_key.clone(),
            user_identifier: view.pregen_id.value().to_string(),
            user_identifier_type: identifier_type(&view.pregen_id).to_string(),
        }
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// `POST /v1/wallets/{id}/sign-message`, as sent: the bytes as base64, or a UTF-8 text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SignMessageBody {
    message_base64: Option<String>,
    message: Option<String>,
}

/// The message to sign, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignMessage(pub Vec<u8>);

impl SignMessage {
    /// Parse a sign-message body: exactly one of `messageBase64` and `message`.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        let raw: SignMessageBody = serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a sign-message request: {e}")))?;
        match (raw.message_base64, raw.message) {
            (Some(b64), None) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map(Self)
                .map_err(|e| AgentError::InvalidRequest(format!("messageBase64 is not base64: {e}"))),
            (None, Some(text)) => Ok(Self(text.into_bytes())),
            _ => Err(AgentError::InvalidRequest(
                "give exactly one of messageBase64 (bytes) and message (UTF-8 text)".into(),
            )),
        }
    }
}

/// A signature as Para answers it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct Signature {
    /// EVM: `0x` and 65 bytes `r‖s‖v` in hex (v 27/28); others: 64 bytes in hex.
    pub signature: String,
}

impl Signature {
    /// The answer for `bytes`, signed by a wallet of `wallet_type`.
    pub fn of(wallet_type: WalletType, bytes: &[u8]) -> Self {
        let hex = hex::encode(bytes);
        Self {
            signature: match wallet_type {
                WalletType::Evm => format!("0x{hex}"),
                _ => hex,
            },
        }
    }
}

/// `POST /v1/wallets/{id}/sign-transaction`, as sent; what it means depends on the wallet's
/// type ([`SignTransaction::request`]).
#[derive(Deserialize, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignTransaction {
    /// EVM: Para's JSON object, or unsigned 0x hex with `chainId`; others: base64.
    #[schema(value_type = Object)]
    transaction: serde_json::Value,
    network_passphrase: Option<String>,
    chain_id: Option<u64>,
}

impl SignTransaction {
    /// Parse a sign-transaction body.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a sign-transaction request: {e}")))
    }

    /// The transaction for a wallet of `wallet_type`. EVM: Para's JSON object, or the unsigned
    /// transaction as `0x` hex with `chainId`; SOLANA: a base64 message or wire transaction;
    /// STELLAR: a base64 envelope XDR with `networkPassphrase`; COSMOS: a base64 `SignDoc`.
    pub fn request(&self, wallet_type: WalletType) -> Result<TransactionRequest, AgentError> {
        let bad = |why: &str| AgentError::InvalidRequest(why.to_string());
        let text = self.transaction.as_str();
        let mut request = match (wallet_type, &self.transaction) {
            (WalletType::Evm, serde_json::Value::Object(_)) => {
                if self.chain_id.is_some() {
                    return Err(bad("chainId goes inside the transaction object"));
                }
                let (bytes, chain_id) = dyad_chains::evm::unsigned_from_json(&self.transaction)
                    .map_err(|e| AgentError::InvalidRequest(format!("transaction: {e}")))?;
                transaction(bytes, Some(chain_id))
            }
            (WalletType::Evm, _) => {
                let hex = text
                    .and_then(|t| t.strip_prefix("0x"))
                    .ok_or_else(|| bad("an EVM transaction is a JSON object, or unsigned 0x-hex with chainId"))?;
                let bytes = hex::decode(hex).map_err(|_| bad("the transaction is not valid hex"))?;
                let chain_id = self
                    .chain_id
                    .ok_or_else(|| bad("an EVM transaction given as hex needs chainId"))?;
                transaction(bytes, Some(chain_id))
            }
            (_, _) => {
                let b64 = text.ok_or_else(|| bad("the transaction is a base64 string"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| bad("the transaction is not valid base64"))?;
                if self.chain_id.is_some() {
                    return Err(bad("chainId is for EVM transactions"));
                }
                transaction(bytes, None)
            }
        };
        match (wallet_type, &self.network_passphrase) {
            (WalletType::Stellar, Some(p)) => request.network_passphrase = Some(p.clone()),
            (WalletType::Stellar, None) => return Err(bad("a Stellar transaction needs networkPassphrase")),
            (_, Some(_)) => return Err(bad("networkPassphrase is for Stellar transactions")),
            (_, None) => {}
        }
        Ok(request)
    }
}

fn transaction(bytes: Vec<u8>, chain_id: Option<u64>) -> TransactionRequest {
    TransactionRequest {
        bytes,
        chain_id,
        network_passphrase: None,
        cosmos_sign_mode: None,
    }
}

/// A signed transaction as Para answers it, with the signature beside it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedTransaction {
    /// EVM: `0x` hex of the raw transaction; others: base64. Absent for Cosmos amino.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_transaction: Option<String>,
    /// As [`Signature`] gives it.
    pub signature: String,
}

impl SignedTransaction {
    /// The answer for a wallet of `wallet_type`.
    pub fn of(wallet_type: WalletType, signature: &[u8], signed: Option<&[u8]>) -> Self {
        Self {
            signed_transaction: signed.map(|bytes| match wallet_type {
                WalletType::Evm => format!("0x{}", hex::encode(bytes)),
                _ => base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
            signature: Signature::of(wallet_type, signature).signature,
        }
    }
}

/// `POST /v1/wallets/{id}/sign-typed-data`: EIP-712 typed data (domain, types, primaryType,
/// message).
#[derive(Deserialize, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignTypedData {
    /// The typed data object, as `eth_signTypedData_v4` takes it.
    #[schema(value_type = Object)]
    pub typed_data: serde_json::Value,
}

impl SignTypedData {
    /// Parse a sign-typed-data body.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        let parsed: Self = serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a sign-typed-data request: {e}")))?;
        if !parsed.typed_data.is_object() {
            return Err(AgentError::InvalidRequest("typedData is an EIP-712 object".into()));
        }
        Ok(parsed)
    }
}

/// `POST /v1/wallets/{id}/sign-raw`: a 32-byte digest as `0x` hex. The Dyad server refuses it
/// unless the app has raw signing switched on (`RAW_SIGNING_DISABLED`).
#[derive(Debug)]
pub struct SignRaw(pub [u8; 32]);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignRawBody {
    data: String,
}

impl SignRaw {
    /// Parse a sign-raw body.
    pub fn parse(body: &[u8]) -> Result<Self, AgentError> {
        let raw: SignRawBody = serde_json::from_slice(body)
            .map_err(|e| AgentError::InvalidJson(format!("the body is not a sign-raw request: {e}")))?;
        raw.data
            .strip_prefix("0x")
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or_else(|| AgentError::InvalidRequest("data is a 32-byte digest as 0x and 64 hex digits".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: serde_json::Value) -> Result<CreateWallet, AgentError> {
        CreateWallet::parse(json.to_string().as_bytes())
    }

    #[test]
    fn para_create_bodies_parse_into_dyad_identifiers() {
        let c = create(
            serde_json::json!({"type": "EVM", "userIdentifier": " Ann@Example.com ", "userIdentifierType": "EMAIL"}),
        )
        .unwrap();
        assert_eq!(c.wallet_type, WalletType::Evm);
        assert_eq!(c.pregen_id, PregenId::Email("ann@example.com".into()));
        let c = create(serde_json::json!({"type": "SOLANA", "userIdentifier": "@Bob", "userIdentifierType": "TWITTER", "scheme": "ED25519"})).unwrap();
        assert_eq!(c.pregen_id, PregenId::XUsername("bob".into()));
        let c = create(serde_json::json!({"type": "COSMOS", "userIdentifier": "u-1", "userIdentifierType": "CUSTOM_ID", "cosmosPrefix": "cosmos"})).unwrap();
        assert_eq!(c.pregen_id, PregenId::CustomId("u-1".into()));
    }

    #[test]
    fn what_dyad_lacks_or_does_not_know_is_refused_with_a_reason() {
        let cases = [
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "g1", "userIdentifierType": "GUEST_ID"}),
                "UNSUPPORTED",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL", "scheme": "CGGMP"}),
                "UNSUPPORTED",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL", "scheme": "ED25519"}),
                "INVALID_REQUEST",
            ),
            (
                serde_json::json!({"type": "COSMOS", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL", "cosmosPrefix": "osmo"}),
                "UNSUPPORTED",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL", "cosmosPrefix": "cosmos"}),
                "INVALID_REQUEST",
            ),
            (
                serde_json::json!({"type": "BITCOIN", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL"}),
                "INVALID_REQUEST",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "PIGEON"}),
                "INVALID_REQUEST",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "not an email", "userIdentifierType": "EMAIL"}),
                "INVALID_REQUEST",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co"}),
                "INVALID_JSON",
            ),
            (
                serde_json::json!({"type": "EVM", "userIdentifier": "a@b.co", "userIdentifierType": "EMAIL", "extra": 1}),
                "INVALID_JSON",
            ),
        ];
        for (body, code) in cases {
            let e = create(body.clone()).unwrap_err();
            assert_eq!(e.status_and_code().1, code, "{body}: {e}");
        }
        assert_eq!(
            CreateWallet::parse(b"{not json").unwrap_err().status_and_code().1,
            "INVALID_JSON"
        );
    }

    #[test]
    fn sign_message_takes_base64_or_text_but_not_both() {
        assert_eq!(SignMessage::parse(br#"{"messageBase64":"aGk="}"#).unwrap().0, b"hi");
        assert_eq!(SignMessage::parse(br#"{"message":"hi"}"#).unwrap().0, b"hi");
        for bad in [
            r#"{}"#,
            r#"{"message":"a","messageBase64":"YQ=="}"#,
            r#"{"messageBase64":"%%"}"#,
        ] {
            assert!(SignMessage::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_transaction_is_read_as_its_wallet_type_says() {
        let tx = |body: serde_json::Value, t: WalletType| {
            SignTransaction::parse(body.to_string().as_bytes()).unwrap().request(t)
        };
        let stellar = tx(
            serde_json::json!({"transaction": "AAAA", "networkPassphrase": "Test SDF Network ; September 2015"}),
            WalletType::Stellar,
        )
        .unwrap();
        assert_eq!(stellar.bytes, vec![0, 0, 0]);
        assert_eq!(
            stellar.network_passphrase.as_deref(),
            Some("Test SDF Network ; September 2015")
        );
        assert_eq!(
            tx(serde_json::json!({"transaction": "AQID"}), WalletType::Solana)
                .unwrap()
                .bytes,
            vec![1, 2, 3]
        );
        let evm = tx(
            serde_json::json!({"transaction": "0x0102", "chainId": 10}),
            WalletType::Evm,
        )
        .unwrap();
        assert_eq!((evm.bytes, evm.chain_id), (vec![1, 2], Some(10)));
        for (body, t) in [
            (serde_json::json!({"transaction": "AAAA"}), WalletType::Stellar),
            (
                serde_json::json!({"transaction": "AAAA", "networkPassphrase": "x"}),
                WalletType::Solana,
            ),
            (
                serde_json::json!({"transaction": "AAAA", "chainId": 1}),
                WalletType::Solana,
            ),
            (serde_json::json!({"transaction": "not base64!"}), WalletType::Solana),
            (serde_json::json!({"transaction": {"nonce": 1}}), WalletType::Solana),
            (serde_json::json!({"transaction": "0x0102"}), WalletType::Evm),
            (
                serde_json::json!({"transaction": "AQID", "chainId": 1}),
                WalletType::Evm,
            ),
            (
                serde_json::json!({"transaction": {"chainId": 1, "nonce": 0}, "chainId": 1}),
                WalletType::Evm,
            ),
        ] {
            assert!(tx(body.clone(), t).is_err(), "{body} as {t}");
        }
        assert!(SignTransaction::parse(br#"{"transaction":"AA","extra":1}"#).is_err());
        assert!(SignRaw::parse(br#"{"data":"0x1234"}"#).is_err());
        assert_eq!(
            SignRaw::parse(format!(r#"{{"data":"0x{}"}}"#, "ab".repeat(32)).as_bytes())
                .unwrap()
                .0,
            [0xab; 32]
        );
        assert!(SignTypedData::parse(br#"{"typedData":"text"}"#).is_err());
    }

    #[test]
    fn evm_signatures_are_0x_hex_others_plain_hex() {
        assert_eq!(Signature::of(WalletType::Evm, &[0xab]).signature, "0xab");
        assert_eq!(Signature::of(WalletType::Solana, &[0xab]).signature, "ab");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
