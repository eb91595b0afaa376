//! What every client in this process knows about a wallet's share, beyond the share itself:
//! whose turn it is to use it, how many of its ceremonies are asked for, and whether its server
//! was caught cheating.
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

/// How many ceremonies of one share this process may have asked the server for at once. More
/// than one, so the next request's round trip, checks and audit overlap the running ceremony;
/// few, so a flood of requests on one wallet waits here, for as long as it takes, rather than
/// in the server's lease queue, which gives up after its turn wait (`WALLET_BUSY`).
pub(crate) const ASKS_PER_SHARE: usize = 4;

struct Guard {
    turns: Turns<ShareKey>,
    asks: Turns<ShareKey>,
    retired: Mutex<HashSet<ShareKey>>,
}

fn guard() -> &'static Guard {
    static GUARD: OnceLock<Guard> = OnceLock::new();
    GUARD.get_or_init(|| Guard {
        turns: Turns::default(),
        asks: Turns::new(ASKS_PER_SHARE),
        retired: Mutex::default(),
    })
}

fn retired() -> std::sync::MutexGuard<'static, HashSet<ShareKey>> {
    // Only inserts and lookups happen under this lock: a panic cannot leave it half-updated.
    guard().retired.lock().unwrap_or_else(|p| p.into_inner())
}

/// One of the [`ASKS_PER_SHARE`] ceremonies of a share this process may have asked the server
/// for: taken before the request, held until the ceremony ends. Its holders wait for the
/// server's `Go`, never for one another, so it cannot close a cycle with the turns or leases.
pub(crate) struct ShareAsk {
    _place: Turn,
}

/// Wait until fewer than [`ASKS_PER_SHARE`] ceremonies of this share are asked for here.
pub(crate) async fn ask(server_key: &CeremonyKey, wallet: WalletId) -> ShareAsk {
    ShareAsk {
        _place: guard().asks.take(&(*server_key, wallet)).await,
    }
}

/// This process's one running ceremony of a share. Taken only once the server said the ceremony
/// holds the wallet's lease ([`dyad_proto::Frame::Go`]), never before: a holder never waits for
/// the server, so the turns here and the leases there cannot wait on each other.
pub(crate) struct ShareTurn {
    share: ShareKey,
    _turn: Turn,
}

impl ShareTurn {
    /// Pass the turn on once the ceremony `ended`; if it caught the server cheating, the share
    /// is retired first, so no ceremony queued behind runs with it.
    pub(crate) fn end<T>(self, ended: &Result<T, crate::SdkError>) {
        if let Err(crate::SdkError::ServerMisbehaved { .. }) = ended {
            retire(&self.share.0, self.share.1);
        }
    }
}

/// Wait until no other ceremony of this share runs in this process.
pub(crate) async fn turn(server_key: &CeremonyKey, wallet: WalletId) -> ShareTurn {
    let share = (*server_key, wallet);
    let turn = guard().turns.take(&share).await;
    ShareTurn { share, _turn: turn }
}

/// The server of this share cheated: it must never take part in a ceremony again.
pub(crate) fn retire(server_key: &CeremonyKey, wallet: WalletId) {
    retired().insert((*server_key, wallet));
}

/// Whether this share was retired in this process.
pub(crate) fn is_retired(server_key: &CeremonyKey, wallet: WalletId) -> bool {
    retired().contains(&(*server_key, wallet))
}
