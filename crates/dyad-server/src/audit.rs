//! The audit log's vocabulary: what can happen ([`AuditAction`]), an entry ([`AuditRecord`]),
//! and building entries. What was signed is recorded as its digest and size, never the share or
//! any secret.

use std::fmt;
use std::str::FromStr;

use dyad_proto::WalletId;
use serde_json::Value;

use crate::clock;
use crate::error::ServerError;
use crate::model::Scope;
use crate::store::Store;

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Everything the audit log records. Stored and shown as its dotted name
        /// (`sign.completed`), which is stable: the log outlives any one version.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The stored name, e.g. `sign.completed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    /// An operator created an app.
    AppCreated => "app.created",
    /// An operator changed an app's settings (old and new value).
    AppUpdated => "app.updated",
    /// An API key was created (its id, never its secret).
    ApiKeyCreated => "api_key.created",
    /// An API key was revoked.
    ApiKeyRevoked => "api_key.revoked",
    /// An app asked for a wallet: a pending wallet and its key generation were started.
    WalletCreateRequested => "wallet.create_requested",
    /// Key generation committed: the wallet is live.
    WalletCreated => "wallet.created",
    /// Key generation failed before its commit; the pending wallet is gone.
    WalletCreateFailed => "wallet.create_failed",
    /// The commit of a confirmed key generation failed (the client keeps its share).
    WalletCommitFailed => "wallet.commit_failed",
    /// The wallet was committed but the client was not told.
    WalletCreatedUnacknowledged => "wallet.created_unacknowledged",
    /// The wallet's identifier changed.
    WalletIdentifierChanged => "wallet.identifier_changed",
    /// An identifier change was refused.
    WalletIdentifierChangeDenied => "wallet.identifier_change_denied",
    /// The share pair was locked for good (the peer cheated).
    WalletLocked => "wallet.locked",
    /// A sign request was authorised: what it decoded to and what will be signed.
    SignRequested => "sign.requested",
    /// A sign request was refused before any ceremony.
    SignDenied => "sign.denied",
    /// A signature was made and verified.
    SignCompleted => "sign.completed",
    /// A sign ceremony failed; nothing the client can assemble was signed.
    SignFailed => "sign.failed",
    /// A person's first verified login made their account.
    UserCreated => "user.created",
    /// A logged-in person verified another identifier, now theirs too.
    IdentifierLinked => "user.identifier_linked",
    /// A login opened a session (how, for whom; never the token).
    SessionCreated => "session.created",
    /// A session was kept alive.
    SessionRefreshed => "session.refreshed",
    /// A session was ended (logout).
    SessionEnded => "session.ended",
    /// A one-time code was sent (to whom, never the code).
    LoginCodeSent => "login.code_sent",
    /// A login proof was refused (wrong, expired or dead code; bad proof).
    LoginDenied => "login.denied",
    /// A person asked to claim a wallet: its claim ceremony was started.
    ClaimRequested => "claim.requested",
    /// A claim was refused before any ceremony.
    ClaimDenied => "claim.denied",
    /// A claim committed: new shares, the old cloud share deleted, the wallet the person's.
    WalletClaimed => "wallet.claimed",
    /// A claim ceremony ended without committing; the old shares still sign.
    ClaimFailed => "claim.failed",
    /// A person let this app use wallets of theirs (which, for what).
    GrantCreated => "grant.created",
    /// A person took a grant back.
    GrantRevoked => "grant.revoked",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        AuditAction::ALL.iter().copied().find(|a| a.as_str() == s).ok_or(())
    }
}

impl PartialEq<str> for AuditAction {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AuditAction {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// Unix seconds.
    pub at: i64,
    /// Its tenant.
    pub scope: Scope,
    /// The wallet concerned, if any.
    pub wallet_id: Option<WalletId>,
    /// What happened.
    pub action: AuditAction,
    /// Details (never secrets).
    pub detail: Value,
}

/// An audit entry stamped now.
pub fn entry(scope: Scope, wallet_id: Option<WalletId>, action: AuditAction, detail: Value) -> AuditRecord {
    AuditRecord {
        at: clock::now(),
        scope,
        wallet_id,
        action,
        detail,
    }
}

/// Append `entry` where there is no one left to tell of a failure (the ceremony is ending
/// anyway): a failed write is logged, never silently lost.
pub async fn record_or_log(store: &dyn Store, entry: &AuditRecord) {
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, action = %entry.action, "writing an audit entry failed");
    }
}

/// Audit a refused request (`detail.reason` is the error's code) and hand back its error.
pub async fn denied(
    store: &dyn Store,
    scope: Scope,
    wallet_id: WalletId,
    action: AuditAction,
    error: ServerError,
) -> ServerError {
    let reason = error.body().code;
    match store
        .audit(&entry(
            scope,
            Some(wallet_id),
            action,
            serde_json::json!({ "reason": reason }),
        ))
        .await
    {
        Ok(()) => error,
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_stored_name_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert!(names.insert(a.as_str()), "duplicate name {a}");
            assert_eq!(a.as_str().parse::<AuditAction>(), Ok(*a));
        }
        assert_eq!(names.len(), 29);
        assert!("sign.unknown".parse::<AuditAction>().is_err());
    }
}
