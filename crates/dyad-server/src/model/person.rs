//! People: who a request acts for ([`Caller`]), a logged-in person ([`Person`]) and the
//! identifiers they verified, and what each may see and sign.

use dyad_proto::{AppId, PregenId, UserId};

use dyad_proto::grant::Operation;

use super::{Grant, LiveStatus, Scope, Wallet};
use crate::error::ServerError;

/// An identifier a person proved they own. Custom ids belong to the app that vouched for them
/// (`app` set): another app's `customId` of the same spelling is someone else.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerifiedId {
    /// The identifier.
    pub id: PregenId,
    /// For custom ids: the app that vouched. `None` for every other kind.
    pub app: Option<AppId>,
}

impl VerifiedId {
    /// `id` as verified in `scope`'s app: custom ids are the app's own, other kinds global.
    pub fn new(id: PregenId, scope: Scope) -> Self {
        let app = matches!(id, PregenId::CustomId(_)).then_some(scope.app_id);
        Self { id, app }
    }

    /// Whether this is `wallet`'s identifier (custom ids only in the app that vouched).
    pub fn names(&self, wallet: &Wallet) -> bool {
        self.id == wallet.pregen_id && self.app.is_none_or(|a| a == wallet.scope.app_id)
    }
}

/// A logged-in person, as a valid session shows them: in one app and environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The account.
    pub user_id: UserId,
    /// The app (and environment) the session is for.
    pub scope: Scope,
    /// Everything the person has verified.
    pub identifiers: Vec<VerifiedId>,
    /// The person's live grants to the session's app.
    pub grants: Vec<Grant>,
    /// When the session ends unless refreshed (Unix seconds).
    pub session_expires_at: i64,
}

impl Person {
    /// Whether the person verified `wallet`'s identifier (what a claim requires).
    pub fn verified_for(&self, wallet: &Wallet) -> bool {
        self.identifiers.iter().any(|v| v.names(wallet))
    }

    /// Whether the person owns `wallet` (they claimed it).
    pub fn owns(&self, wallet: &Wallet) -> bool {
        wallet.owner == Some(self.user_id)
    }

    /// The identifiers as the session shows them, custom ids only as this app vouched.
    pub fn shown_identifiers(&self) -> Vec<PregenId> {
        self.identifiers
            .iter()
            .filter(|v| v.app.is_none_or(|a| a == self.scope.app_id))
            .map(|v| v.id.clone())
            .collect()
    }
}

/// Who a request acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// An app's backend, by its API key.
    App(Scope),
    /// A person, by a session of theirs in one app.
    Person(Person),
}

impl Caller {
    /// The app and environment the request comes through: where its audit entries go.
    pub fn scope(&self) -> Scope {
        match self {
            Caller::App(scope) => *scope,
            Caller::Person(p) => p.scope,
        }
    }

    /// Who it is, as a ceremony records it.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::App(_) => Actor::App,
            Caller::Person(p) => Actor::User(p.user_id),
        }
    }

    /// Whether the caller may see `wallet` at all; everything else is `WALLET_NOT_FOUND`.
    /// An app sees its own wallets. A person sees, in the session's app, the wallets they own
    /// and the pregenerated wallets whose identifier they verified (theirs to claim), and in
    /// any other app the wallets of theirs a grant to that app names.
    pub fn sees(&self, wallet: &Wallet) -> bool {
        match self {
            Caller::App(scope) => wallet.scope == *scope,
            Caller::Person(p) if wallet.scope == p.scope => {
                p.owns(wallet) || (wallet.status == LiveStatus::Pregen && p.verified_for(wallet))
            }
            Caller::Person(p) => p.grants.iter().any(|g| g.covers(wallet)),
        }
    }

    /// The grants the caller holds (none for an app).
    pub fn grants(&self) -> &[Grant] {
        match self {
            Caller::App(_) => &[],
            Caller::Person(p) => &p.grants,
        }
    }
}

/// Who a ceremony acts for, fixed when it is authorised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The app, by its API key.
    App,
    /// A person.
    User(UserId),
}

impl Actor {
    /// Why this actor may not sign with `wallet` through `scope`'s app, if it may not. An app
    /// signs only its own wallets and only while it holds them; a person only the wallets they
    /// own, in the app that made them or in an app a grant of theirs names. A locked share pair
    /// signs for no one. (Which operation a grant allows is [`Actor::operation_refusal`].)
    pub fn signing_refusal(self, scope: Scope, wallet: &Wallet, grants: &[Grant]) -> Option<ServerError> {
        let held = match self {
            Actor::App if wallet.scope != scope => Some(ServerError::WalletNotFound),
            Actor::App => (wallet.status == LiveStatus::Claimed).then_some(ServerError::WalletClaimed),
            Actor::User(user) if wallet.scope != scope => (!(wallet.owner == Some(user)
                && grants
                    .iter()
                    .any(|g| g.user_id == user && g.scope == scope && g.covers(wallet))))
            .then_some(ServerError::WalletNotFound),
            Actor::User(user) if wallet.owner != Some(user) => Some(ServerError::Forbidden(
                "the app holds this wallet until you claim it".into(),
            )),
            Actor::User(_) => None,
        };
        held.or_else(|| wallet.locked.then_some(ServerError::WalletLocked))
    }

    /// Why this actor may not sign `operation` (a sign request's operation name) with
    /// `wallet` through `scope`'s app, if it may not: through a grant, only what the grant
    /// allows (never a raw digest).
    pub fn operation_refusal(
        self,
        scope: Scope,
        wallet: &Wallet,
        grants: &[Grant],
        operation: &str,
    ) -> Option<ServerError> {
        if wallet.scope == scope || self == Actor::App {
            return None;
        }
        let allowed = Operation::from_name(operation)
            .is_some_and(|op| grants.iter().any(|g| g.scope == scope && g.allows(wallet, op)));
        (!allowed)
            .then(|| ServerError::Forbidden(format!("your grant to this app does not allow {operation} signatures")))
    }
}

/// A stored session: only the hash of its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the bearer token.
    pub token_hash: [u8; 32],
    /// Whose.
    pub user_id: UserId,
    /// In which app and environment.
    pub scope: Scope,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
    /// Set once logged out.
    pub revoked_at: Option<i64>,
}
