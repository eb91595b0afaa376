//! What every client in this process knows about a wallet's share, beyond the share itself:
//! whose turn it is to use it, and whether its server was caught cheating.
//!
//! Process-wide on purpose. Apps make one client per request (a client holds the shares loaded
//! into it), so a per-client rule would let a cheating server run many DKLs sessions of one
//! share in parallel, through many clients, and learn from each abort before the first ban
//! lands; and a retired wallet would come back to life in the next client that loads an old
//! share string.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use dyad_proto::{CeremonyKey, Turn, Turns, WalletId};

/// A share is named by its server's ceremony key and its wallet.
type ShareKey = (CeremonyKey, WalletId);

#[derive(Default)]
struct Guard {
    turns: Turns<ShareKey>,
    retired: Mutex<HashSet<ShareKey>>,
}

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(Guard::default)
}

fn retired() -> std::sync::MutexGuard<'static, HashSet<ShareKey>> {
    // Only inserts and lookups happen under this lock: a panic cannot leave it half-updated.
    guard().retired.lock().unwrap_or_else(|p| p.into_inner())
}

/// Wait until no other ceremony of this share runs in this process.
pub(crate) async fn turn(server_key: &CeremonyKey, wallet: WalletId) -> Turn {
    guard().turns.take(&(*server_key, wallet)).await
}

/// The server of this share cheated: it must never take part in a ceremony again.
pub(crate) fn retire(server_key: &CeremonyKey, wallet: WalletId) {
    retired().insert((*server_key, wallet));
}

/// Whether this share was retired in this process.
pub(crate) fn is_retired(server_key: &CeremonyKey, wallet: WalletId) -> bool {
    retired().contains(&(*server_key, wallet))
}
