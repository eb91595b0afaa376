//! Request and response bodies of the REST API under `/v1`.

use serde::{Deserialize, Serialize};

use crate::ids::{CeremonyId, WalletId};
use crate::pregen::PregenId;
use crate::wallet::WalletView;
use dyad_chains::WalletType;

/// `GET /v1/info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoResponse {
    /// Server version.
    pub version: String,
    /// The server's static Noise (X25519) public key, `0x` hex: ceremonies are encrypted to it.
    pub ceremony_public_key: String,
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
}

/// `GET /v1/wallets?email=…` (one identifier) or without a filter: the app's wallets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletList {
    /// Matching wallets, oldest first.
    pub wallets: Vec<WalletView>,
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
