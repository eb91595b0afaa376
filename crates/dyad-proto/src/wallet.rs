//! How a wallet looks from outside the server.

use serde::{Deserialize, Serialize};

use crate::ids::WalletId;
use crate::pregen::PregenId;
use dyad_types::{Scheme, WalletType};

/// Lifecycle of a wallet. Only `Pregen` and `Claimed` wallets are ever shown to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WalletStatus {
    /// Key generation started but the SDK has not confirmed it holds its share: invisible, reaped.
    Pending,
    /// Created and held by the app; not yet claimed by its person.
    Pregen,
    /// Claimed: shares rotated, owned by a user.
    Claimed,
}

impl WalletStatus {
    /// The storage and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WalletStatus::Pending => "pending",
            WalletStatus::Pregen => "pregen",
            WalletStatus::Claimed => "claimed",
        }
    }

    /// Parse the storage spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(WalletStatus::Pending),
            "pregen" => Some(WalletStatus::Pregen),
            "claimed" => Some(WalletStatus::Claimed),
            _ => None,
        }
    }
}

/// A wallet as the REST API and the CLI show it. Encodings: `publicKey` is `0x` hex (secp256k1
/// compressed, 33 bytes; Ed25519, 32 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletView {
    /// The wallet.
    pub id: WalletId,
    /// EVM, SOLANA, COSMOS or STELLAR.
    #[serde(rename = "type")]
    pub wallet_type: WalletType,
    /// DKLS or ED25519.
    pub scheme: Scheme,
    /// The chain address.
    pub address: String,
    /// `0x`-prefixed hex public key.
    pub public_key: String,
    /// Who it is for.
    pub pregen_id: PregenId,
    /// pregen or claimed.
    pub status: WalletStatus,
    /// Which generation of shares is current; bumps on every refresh.
    pub key_version: u32,
}
