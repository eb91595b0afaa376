//! What every client in this process knows about a wallet's share, beyond the share itself:
//! who may ask the server for its next ceremony, whose turn it is to use it, and whether its
//! server was caught cheating.
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
    asks: Turns<ShareKey>,
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

/// The right to ask the server for the next ceremony of a share: taken before the request,
/// held at least until this side also holds the share's turn ([`Ask::turn`]).
///
/// Asking before the turn lets a signature's request (its round trip, the server's parsing,
/// authorising and audit commit) overlap the share's running ceremony. Only one request may be
/// between the two, because each side queues it: the server for the wallet's lease, this side
/// for the share's turn. With one at a time, both queues hold the running ceremony and then
/// this one, in that order; with two, the server could give its lease to the one that is
/// second here, and each would wait on the other until the server's turn wait ran out.
/// For the same reason whoever takes the turn before asking (a REST signature, a claim) holds
/// its ask until its request is answered: a later ask then cannot jump ahead at the server.
pub(crate) struct Ask {
    key: ShareKey,
    _asking: Turn,
}

/// Wait for the right to ask for a ceremony of this share.
pub(crate) async fn ask(server_key: &CeremonyKey, wallet: WalletId) -> Ask {
    let key = (*server_key, wallet);
    let asking = guard().asks.take(&key).await;
    Ask { key, _asking: asking }
}

impl Ask {
    /// Wait until no other ceremony of this share runs in this process.
    pub(crate) async fn turn(&self) -> Turn {
        guard().turns.take(&self.key).await
    }
}

/// The server of this share cheated: it must never take part in a ceremony again.
pub(crate) fn retire(server_key: &CeremonyKey, wallet: WalletId) {
    retired().insert((*server_key, wallet));
}

/// Whether this share was retired in this process.
pub(crate) fn is_retired(server_key: &CeremonyKey, wallet: WalletId) -> bool {
    retired().contains(&(*server_key, wallet))
}
