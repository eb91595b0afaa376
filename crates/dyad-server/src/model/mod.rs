//! The server's domain model: tenants, apps, wallets (pending and live as distinct types),
//! people (callers, persons, sessions, login proofs waiting for their second half) and ceremonies, as the flows (`keygen`, `signing`, `pregen`) use them and the store persists
//! them. Nothing here knows HTTP or SQL.

mod app;
mod ceremony;
mod code;
mod grant;
mod person;
mod proof;
mod wallet;

pub use app::{ApiKeyRecord, AppRecord, AppSettings};
pub use ceremony::{AuthorisedSign, CeremonyHash, CeremonyKind, CeremonyRecord};
pub use code::{CodeChallenge, CodeLimits, CodeStart, OutboxMessage};
pub use grant::Grant;
pub use person::{Actor, Caller, Person, SessionRecord, VerifiedId};
pub use proof::{NonceRecord, OAuthStateRecord};
pub use wallet::{Begins, CreateOutcome, LiveStatus, PendingWallet, Wallet};

use dyad_proto::{AppId, Environment};

/// The tenant boundary every query runs inside: one app in one environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The app.
    pub app_id: AppId,
    /// Its environment.
    pub environment: Environment,
}
