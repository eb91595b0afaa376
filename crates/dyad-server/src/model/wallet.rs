//! Wallets: a pending one (key generation started, no key yet) and a live one (key committed)
//! are different types, so nothing can ask a pending wallet for its address or sign with it.

use dyad_chains::Account;
use dyad_mpc::{PublicKey, Scheme};
use dyad_proto::{PregenId, UserId, WalletId, WalletStatus, WalletType, WalletView};
use dyad_types::hex0x;

use super::Scope;

/// A wallet whose key generation has started but not committed: invisible to every read a
/// client can make, reaped if abandoned. Its first key version is 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWallet {
    /// Id.
    pub id: WalletId,
    /// Its tenant.
    pub scope: Scope,
    /// Chain family (which fixes the scheme).
    pub wallet_type: WalletType,
    /// Who it is for.
    pub pregen_id: PregenId,
    /// Unix seconds.
    pub created_at: i64,
}

impl PendingWallet {
    /// The key version key generation creates.
    pub const FIRST_KEY_VERSION: u32 = 1;

    /// The MPC scheme its key generation runs.
    pub fn scheme(&self) -> Scheme {
        self.wallet_type.scheme()
    }

    /// The live wallet this becomes once its key is committed.
    pub fn activated(self, public_key: PublicKey, address: String) -> Wallet {
        Wallet {
            id: self.id,
            scope: self.scope,
            wallet_type: self.wallet_type,
            public_key,
            address,
            pregen_id: self.pregen_id,
            status: LiveStatus::Pregen,
            key_version: Self::FIRST_KEY_VERSION,
            locked: false,
            owner: None,
            created_at: self.created_at,
        }
    }
}

/// Who holds a live wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiveStatus {
    /// Created and held by the app; not yet claimed by its person.
    Pregen,
    /// Claimed: shares rotated, owned by a user.
    Claimed,
}

impl From<LiveStatus> for WalletStatus {
    fn from(s: LiveStatus) -> Self {
        match s {
            LiveStatus::Pregen => WalletStatus::Pregen,
            LiveStatus::Claimed => WalletStatus::Claimed,
        }
    }
}

/// A wallet whose key is committed: it has a public key, an address and a sealed cloud share
/// at `key_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wallet {
    /// Id.
    pub id: WalletId,
    /// Its tenant.
    pub scope: Scope,
    /// Chain family.
    pub wallet_type: WalletType,
    /// Group public key.
    pub public_key: PublicKey,
    /// Chain address of the key.
    pub address: String,
    /// Who it is for.
    pub pregen_id: PregenId,
    /// Who holds it.
    pub status: LiveStatus,
    /// Current share generation.
    pub key_version: u32,
    /// Set when this share pair must never sign again (the peer cheated in a signature).
    pub locked: bool,
    /// The person who claimed it (set exactly when it is claimed).
    pub owner: Option<UserId>,
    /// Unix seconds.
    pub created_at: i64,
}

impl Wallet {
    /// The MPC scheme of its key.
    pub fn scheme(&self) -> Scheme {
        self.wallet_type.scheme()
    }

    /// The wallet as the chain code sees it: type, key and address.
    pub fn account(&self) -> Account<'_> {
        Account {
            wallet_type: self.wallet_type,
            public_key: &self.public_key,
            address: &self.address,
        }
    }

    /// The public view.
    pub fn view(&self) -> WalletView {
        WalletView {
            id: self.id,
            wallet_type: self.wallet_type,
            scheme: self.scheme(),
            address: self.address.clone(),
            public_key: hex0x::encode(self.public_key.as_bytes()),
            pregen_id: self.pregen_id.clone(),
            status: self.status.into(),
            key_version: self.key_version,
        }
    }
}

/// When a new ceremony (a key generation, a signature) begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begins {
    /// When the client presents the ticket at the ceremony route (`Store::consume_ceremony`).
    OnPresentation,
    /// At once, at this time, in the transaction that stores the ceremony: a batch lane, whose
    /// connection is open already. The ticket is stored used up, so no route ever accepts it
    /// (and a new wallet is stored started).
    Now(i64),
}

impl Begins {
    /// The ceremony row's `consumed_at`.
    pub fn consumed_at(self) -> Option<i64> {
        match self {
            Begins::OnPresentation => None,
            Begins::Now(at) => Some(at),
        }
    }
}

/// What creating a pending wallet did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The pending wallet and its ceremony were stored.
    Created,
    /// A wallet for this (type, identifier) exists already, in this status.
    Exists(WalletId, WalletStatus),
    /// The key setup named is not one the scope may use now (unknown, another app's, reserved
    /// or used already, or expired): nothing was written.
    NoKeySetup,
}
