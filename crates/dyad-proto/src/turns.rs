//! Taking turns: at most one ceremony per share pair at a time within one process, first come
//! first served. Both parties need it: the server (in front of its database lease) and the SDK
//! (so that a cheating server cannot run many DKLs sessions of one share in parallel and learn
//! from each abort before the first ban lands).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

/// One fair queue per key; a queue lives as long as someone holds or waits for its turn.
pub struct Turns<K> {
    queues: Mutex<HashMap<K, Weak<tokio::sync::Mutex<()>>>>,
}

/// The turn of one key: the next in its queue waits until this is dropped.
pub type Turn = OwnedMutexGuard<()>;

impl<K> Default for Turns<K> {
    fn default() -> Self {
        Self {
            queues: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> Turns<K> {
    /// Wait for `key`'s turn (FIFO among the waiters of this process).
    pub async fn take(&self, key: &K) -> Turn {
        self.queue(key).lock_owned().await
    }

    /// `key`'s turn if nobody holds or waits for it right now (never ahead of a waiter).
    pub fn try_take(&self, key: &K) -> Option<Turn> {
        self.queue(key).try_lock_owned().ok()
    }

    fn queue(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        // Only lookups and inserts happen under this lock: a panic cannot leave it half-updated.
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = queues.get(key).and_then(Weak::upgrade) {
            return q;
        }
        // Forget the queues nobody waits in any more before adding one.
        queues.retain(|_, q| q.strong_count() > 0);
        let q = Arc::new(tokio::sync::Mutex::new(()));
        queues.insert(key.clone(), Arc::downgrade(&q));
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_key_and_queues_are_forgotten() {
        let turns: Turns<u8> = Turns::default();
        let first = turns.take(&1).await;
        // Another key is not held up.
        let other = turns.take(&2).await;
        let queue = turns.queue(&1);
        assert!(queue.try_lock().is_err(), "key 1's turn is taken");
        assert!(turns.try_take(&1).is_none(), "a held turn is not taken again");
        drop(first);
        assert!(queue.try_lock().is_ok());
        assert!(turns.try_take(&1).is_some());
        drop((other, queue));
        let _third = turns.take(&3).await;
        let live = turns.queues.lock().unwrap().len();
        assert_eq!(live, 1, "queues nobody waits in are forgotten");
    }
}
