//! Grants: what a person lets an app other than the one that made their wallet do with it.

use dyad_proto::grant::{GrantView, Operation};
use dyad_proto::{UserId, WalletId, WalletType};

use super::{Scope, Wallet};

/// A live grant of `user` to the app of `scope`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Id.
    pub id: uuid::Uuid,
    /// Whose wallets.
    pub user_id: UserId,
    /// The app granted (and the environment).
    pub scope: Scope,
    /// Wallets by id.
    pub wallets: Vec<WalletId>,
    /// Wallet types.
    pub wallet_types: Vec<WalletType>,
    /// Operations allowed.
    pub operations: Vec<Operation>,
    /// Unix seconds.
    pub created_at: i64,
}

impl Grant {
    /// Whether the grant names `wallet` (by id or type) for its app, and the wallet is its
    /// person's.
    pub fn covers(&self, wallet: &Wallet) -> bool {
        wallet.owner == Some(self.user_id)
            && wallet.scope.environment == self.scope.environment
            && (self.wallets.contains(&wallet.id) || self.wallet_types.contains(&wallet.wallet_type))
    }

    /// Whether it allows `operation` on `wallet`.
    pub fn allows(&self, wallet: &Wallet, operation: Operation) -> bool {
        self.covers(wallet) && self.operations.contains(&operation)
    }

    /// The public view.
    pub fn view(&self) -> GrantView {
        GrantView {
            id: self.id,
            app_id: self.scope.app_id,
            wallets: self.wallets.clone(),
            wallet_types: self.wallet_types.clone(),
            operations: self.operations.clone(),
            created_at: self.created_at,
        }
    }
}
