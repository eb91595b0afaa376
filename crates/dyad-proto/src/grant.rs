//! What a person lets another app do with their wallets (`/v1/grants`): which wallets (by id or
//! by type) and which operations. Without a grant an app sees none of a person's wallets but
//! those it pregenerated.

use serde::{Deserialize, Serialize};

use crate::ids::{AppId, WalletId};
use dyad_types::WalletType;

/// An operation a grant can allow; the names are those of the sign routes' operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// `sign-message`.
    #[serde(rename = "message")]
    Message,
    /// `sign-typed-data`.
    #[serde(rename = "typed-data")]
    TypedData,
    /// `sign-transaction`.
    #[serde(rename = "transaction")]
    Transaction,
}

impl Operation {
    /// The operation of a sign request by its name (`SignRequest::operation`); raw digests
    /// are never grantable.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "message" => Some(Operation::Message),
            "typed-data" => Some(Operation::TypedData),
            "transaction" => Some(Operation::Transaction),
            _ => None,
        }
    }
}

/// `POST /v1/grants` (a person's session in the app to be granted): at least one wallet or
/// wallet type, and at least one operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantRequest {
    /// Wallets of the person's, by id.
    #[serde(default)]
    pub wallets: Vec<WalletId>,
    /// Every wallet of the person's of these types.
    #[serde(default)]
    pub wallet_types: Vec<WalletType>,
    /// What the app may sign with them.
    pub operations: Vec<Operation>,
}

/// A grant as `/v1/grants` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    /// Its id (to revoke it).
    pub id: uuid::Uuid,
    /// The app granted.
    pub app_id: AppId,
    /// Wallets by id.
    pub wallets: Vec<WalletId>,
    /// Wallet types.
    pub wallet_types: Vec<WalletType>,
    /// Operations allowed.
    pub operations: Vec<Operation>,
    /// Unix seconds.
    pub created_at: i64,
}

/// `GET /v1/grants`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantList {
    /// The person's live grants to this app, oldest first.
    pub grants: Vec<GrantView>,
}
