//! Request and response bodies of the REST API under `/v1`.

use serde::{Deserialize, Serialize};

use crate::ceremony_key::CeremonyKey;
use crate::ids::{CeremonyId, KeySetupId, WalletId};
use crate::pregen::PregenId;
use crate::wallet::WalletView;
use dyad_chains::{CosmosSignMode, TxSummary};
use dyad_types::WalletType;

/// `GET /v1/info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoResponse {
    /// Server version.
    pub version: String,
    /// The server's static Noise (X25519) public key, `0x` hex: ceremonies are encrypted to it.
    pub ceremony_public_key: CeremonyKey,
    /// Wallet types this server creates.
    pub wallet_types: Vec<WalletType>,
}

/// `POST /v1/wallets`: pregenerate a wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWalletRequest {
    /// Which chain family.
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    /// Who it is for.
    pub pregen_id: PregenId,
    /// A key setup made ahead of time with this app (EVM and Cosmos only), to use up for this
    /// key: most of a DKLs key generation's work is then already done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_setup_id: Option<KeySetupId>,
}

/// `PATCH /v1/wallets/{id}`: change who a pregenerated wallet is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWalletRequest {
    /// The new identifier.
    pub pregen_id: PregenId,
}

/// `POST /v1/wallets/{id}/sign-message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignMessageRequest {
    /// The message, base64 (standard alphabet, padding optional).
    pub message_base64: String,
}

/// `POST /v1/wallets/{id}/sign-transaction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignTransactionRequest {
    /// The unsigned transaction: `0x`-prefixed hex, or base64.
    pub transaction: String,
    /// EVM: the chain to sign for (required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// STELLAR: the network passphrase (required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_passphrase: Option<String>,
    /// COSMOS: `direct` (a protobuf SignDoc, default) or `amino` (the amino JSON sign doc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_mode: Option<CosmosSignMode>,
}

/// `POST /v1/wallets/{id}/sign-typed-data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignTypedDataRequest {
    /// EIP-712 typed data as `eth_signTypedData_v4` takes it: a JSON object (or a string of it).
    pub typed_data: serde_json::Value,
}

/// `POST /v1/wallets/{id}/sign-raw`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignRawRequest {
    /// The 32-byte digest, `0x` hex.
    pub digest: String,
}

/// What starting a ceremony returns: connect a WebSocket to `/v1/ceremonies/{ceremonyId}` before
/// `expiresAt` (unix seconds) and run it there; the id works once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyTicket {
    /// The single-use capability.
    pub ceremony_id: CeremonyId,
    /// The wallet the ceremony is for.
    pub wallet_id: WalletId,
    /// Unix seconds after which the id is refused.
    pub expires_at: i64,
    /// For sign ceremonies: what is being signed, as decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<TxSummary>,
}

/// `GET /v1/wallets?email=…` (one identifier) or without a filter: the app's wallets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletList {
    /// Matching wallets, oldest first.
    pub wallets: Vec<WalletView>,
    /// Unfiltered listings come in pages: pass this as `cursor` for the next one (absent on the
    /// last page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Where a page of an app's wallets starts: after the wallet created at `created_at` that was
/// stored `seq`-th (wallets are listed by creation time, then the order they were stored in).
/// Opaque on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalletCursor {
    /// The last listed wallet's creation time (Unix seconds).
    pub created_at: i64,
    /// Its place in the store's order.
    pub seq: i64,
}

impl WalletCursor {
    /// The wire form: base64url of `created_at.seq`.
    pub fn encode(&self) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.created_at, self.seq))
    }

    /// Parse the wire form; `None` for anything this server did not hand out.
    pub fn parse(text: &str) -> Option<Self> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text.trim()).ok()?).ok()?;
        let (at, seq) = raw.split_once('.')?;
        Some(Self {
            created_at: at.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

/// The path a ceremony's WebSocket connects to.
pub fn ceremony_path(id: &CeremonyId) -> String {
    format!("/v1/ceremonies/{id}")
}

/// Decode base64 in the standard alphabet, with or without padding (what `messageBase64` takes).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use base64::Engine;
    let s = s.trim();
    STANDARD.decode(s).or_else(|_| STANDARD_NO_PAD.decode(s)).ok()
}

/// Decode `0x`-prefixed hex, or else base64 (standard, padding optional): how transactions
/// travel in JSON and on the command line.
pub fn decode_hex_or_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => hex::decode(h).ok(),
        None => decode_base64(s),
    }
}

/// A 32-byte digest given as `0x` hex (or base64).
pub fn decode_digest(s: &str) -> Option<dyad_types::Digest> {
    decode_hex_or_base64(s)
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .map(dyad_types::Digest::new)
}

/// The canonical text of typed data: a JSON string is taken as the document it contains.
pub fn typed_data_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
