//! Taking turns: at most one ceremony per share pair at a time within one process, first come
//! first served. Both parties need it: the server (in front of its database lease) and the SDK
//! (so that a cheating server cannot run many DKLs sessions of one share in parallel and learn
//! from each abort before the first ban lands). The same queues, with more than one place at a
//! time, bound how many ceremonies of a share the SDK has asked for at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One fair queue per key; a queue lives as long as someone holds or waits for its turn.
pub struct Turns<K> {
    at_once: usize,
    queues: Mutex<HashMap<K, Weak<Semaphore>>>,
}

/// A turn of one key: the next in its queue waits until this is dropped.
pub type Turn = OwnedSemaphorePermit;

impl<K> Default for Turns<K> {
    /// One turn per key at a time.
    fn default() -> Self {
        Self::new(1)
    }
}

impl<K> Turns<K> {
    /// Queues in which `at_once` turns of a key may be held at the same time (at least one).
    pub fn new(at_once: usize) -> Self {
        Self {
            at_once: at_once.max(1),
            queues: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone> Turns<K> {
    /// Wait for a turn of `key` (FIFO among the waiters of this process).
    pub async fn take(&self, key: &K) -> Turn {
        match self.queue(key).acquire_owned().await {
            Ok(turn) => turn,
            // Only `Semaphore::close` makes this fail, and no queue is ever closed.
            Err(_) => unreachable!("a turn queue is never closed"),
        }
    }

    /// A turn of `key` if one is free and nobody waits for it right now (never ahead of a
    /// waiter).
    pub fn try_take(&self, key: &K) -> Option<Turn> {
        self.queue(key).try_acquire_owned().ok()
    }

    fn queue(&self, key: &K) -> Arc<Semaphore> {
        // Only lookups and inserts happen under this lock: a panic cannot leave it half-updated.
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = queues.get(key).and_then(Weak::upgrade) {
            return q;
        }
        // Forget the queues nobody waits in any more before adding one.
        queues.retain(|_, q| q.strong_count() > 0);
        let q = Arc::new(Semaphore::new(self.at_once));
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
        assert_eq!(queue.available_permits(), 0, "key 1's turn is taken");
        assert!(turns.try_take(&1).is_none(), "a held turn is not taken again");
        drop(first);
        assert_eq!(queue.available_permits(), 1);
        assert!(turns.try_take(&1).is_some());
        drop((other, queue));
        let _third = turns.take(&3).await;
        let live = turns.queues.lock().unwrap().len();
        assert_eq!(live, 1, "queues nobody waits in are forgotten");
    }

    #[tokio::test]
    async fn a_queue_of_several_places_gives_that_many_turns_at_once_then_queues() {
        let turns: Turns<u8> = Turns::new(2);
        let a = turns.take(&1).await;
        // `try_take`, not `take`: a queue of one place would fail here rather than hang.
        let b = turns.try_take(&1).expect("the second of two places is free");
        assert!(turns.try_take(&1).is_none(), "two of two places are taken");
        let waiting = tokio::spawn(async move {
            let _third = turns.take(&1).await;
            turns
        });
        drop(a);
        let turns = waiting.await.unwrap();
        drop(b);
        assert!(turns.try_take(&1).is_some());
    }
}
