//! `sync_rate`: admit locally, and push the usage admitted to Redis every `sync_rate`.
//!
//! Requests are decided by the instance's local limiter (no round trip) and counted in a
//! ledger. Every `sync_rate` a background task pushes each key's usage to Redis
//! ([`RedisLimiter::record`](sluicegate::redis::RedisLimiter::record)), which answers with
//! what the whole cluster has left; a key the cluster has used up is then remembered as
//! exhausted (with the exact wait, asked of Redis) and rejected by every instance that synced
//! it until that wait is over.
//!
//! The price is exactness: between two syncs, an instance knows only its own usage. Within
//! one window, the instances together can admit the limit plus what each of them admits, for
//! a key, between the moment the cluster reaches the limit and that instance's next sync that
//! reports it: at most `sync_rate` worth of each instance's traffic for that key, and never
//! more than `limit` per instance (each instance's local limiter holds the full limit).
//!
//! The ledger is bounded ([`LEDGER_KEYS`]): a key that finds it full is decided on Redis
//! exactly, one round trip, as without `sync_rate`. Usage that could not be pushed (Redis
//! down) stays in the ledger for the next sync, within the same bound; usage admitted after
//! the last sync before shutdown is not pushed. As requests are decided locally, a Redis outage
//! changes no answer in this mode, whatever `fault_tolerant` says: it only delays the syncs (as
//! in Kong, whose `sync_rate` mode also counts locally and pushes in the background).

use std::collections::HashMap;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;
use parking_lot::Mutex;
use tokio::task::JoinSet;

use super::guard::Guarded;
use super::policy::RedisPolicy;

/// The most keys with usage waiting for the next sync.
pub const LEDGER_KEYS: usize = 100_000;

/// Keys pushed to Redis at once during a sync (pipelined on the one connection).
const PUSHES_IN_FLIGHT: usize = 64;

/// Usage admitted locally and not yet pushed to Redis, per key.
#[derive(Debug)]
pub(crate) struct UsageLedger {
    pending: Mutex<HashMap<Vec<u8>, u64, RandomState>>,
    capacity: usize,
}

impl UsageLedger {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            pending: Mutex::new(HashMap::with_hasher(RandomState::default())),
            capacity,
        }
    }

    /// Whether usage of `key` can wait here for the next sync.
    pub(crate) fn has_room_for(&self, key: &[u8]) -> bool {
        let pending = self.pending.lock();
        pending.len() < self.capacity || pending.contains_key(key)
    }

    /// Adds `cost` units of `key`. The bound is checked by [`has_room_for`](Self::has_room_for)
    /// just before, so requests in flight at once can pass it by at most their number.
    pub(crate) fn add(&self, key: &[u8], cost: u64) {
        let mut pending = self.pending.lock();
        match pending.get_mut(key) {
            Some(units) => *units = units.saturating_add(cost),
            None => {
                pending.insert(key.to_vec(), cost);
            }
        }
    }

    /// Puts back usage a sync could not push; dropped (and `false`) if the ledger is full.
    pub(crate) fn restore(&self, key: Vec<u8>, cost: u64) -> bool {
        let mut pending = self.pending.lock();
        if let Some(units) = pending.get_mut(&key) {
            *units = units.saturating_add(cost);
            return true;
        }
        if pending.len() >= self.capacity {
            return false;
        }
        pending.insert(key, cost);
        true
    }

    /// Takes every key's pending usage.
    pub(crate) fn drain(&self) -> Vec<(Vec<u8>, u64)> {
        std::mem::take(&mut *self.pending.lock())
            .into_iter()
            .collect()
    }

    /// Keys with usage waiting.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending.lock().len()
    }
}

/// The `sync_rate` machinery of one limit: its ledger, period, and whether its task runs.
#[derive(Debug)]
pub(crate) struct SyncMode {
    pub(crate) ledger: UsageLedger,
    every: Duration,
    started: AtomicBool,
}

impl SyncMode {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            ledger: UsageLedger::new(LEDGER_KEYS),
            every,
            started: AtomicBool::new(false),
        }
    }

    /// Starts the sync task on the current Tokio runtime, once; it ends when the policy is
    /// dropped.
    pub(crate) fn start(&self, policy: Weak<RedisPolicy>) {
        // A plain read first: every request passes here, and only the first may write.
        if !self.started.load(Ordering::Acquire) && !self.started.swap(true, Ordering::AcqRel) {
            tokio::spawn(run(policy, self.every));
        }
    }
}

/// Every `every`, pushes the ledger to Redis, until the policy is gone.
async fn run(policy: Weak<RedisPolicy>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(policy) = policy.upgrade() else {
            return;
        };
        sync_once(&policy).await;
    }
}

/// Pushes every key's pending usage, a bounded number at a time.
pub(crate) async fn sync_once(policy: &std::sync::Arc<RedisPolicy>) {
    let Some(sync) = policy.sync() else {
        return;
    };
    let mut pushes = JoinSet::new();
    for (key, cost) in sync.ledger.drain() {
        if pushes.len() >= PUSHES_IN_FLIGHT {
            pushes.join_next().await;
        }
        let policy = policy.clone();
        pushes.spawn(async move { push(&policy, key, cost).await });
    }
    while pushes.join_next().await.is_some() {}
}

/// Records `cost` units of `key` on Redis; remembers the key as exhausted if the cluster has
/// used it up, or keeps the usage for the next sync if Redis is unavailable.
async fn push(policy: &RedisPolicy, key: Vec<u8>, cost: u64) {
    let store = policy.store();
    match store.record(&key, cost).await {
        Guarded::Answered((_, left)) => {
            policy.metrics().synced(true);
            if left.iter().any(|units| units == 0)
                && let Guarded::Answered(next) = store.peek(&key).await
            {
                policy
                    .exhausted()
                    .remember(&key, &next, &left, Instant::now());
            }
        }
        // The local limiter took the same key; the store cannot refuse it.
        Guarded::BadInput(error) => {
            tracing::warn!(%error, "usage the Redis store refuses is dropped");
        }
        Guarded::Unavailable(why) => {
            policy.metrics().synced(false);
            policy.note_unavailable(&why);
            if let Some(sync) = policy.sync()
                && !sync.ledger.restore(key, cost)
            {
                tracing::warn!("the usage ledger is full; usage not pushed to Redis is dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_adds_per_key_and_drains_everything() {
        let ledger = UsageLedger::new(2);
        ledger.add(b"a", 1);
        ledger.add(b"a", 2);
        ledger.add(b"b", 1);
        assert!(!ledger.has_room_for(b"c"));
        assert!(
            ledger.has_room_for(b"a"),
            "a key already there always has room"
        );
        let mut drained = ledger.drain();
        drained.sort();
        assert_eq!(drained, [(b"a".to_vec(), 3), (b"b".to_vec(), 1)]);
        assert_eq!(ledger.len(), 0);
    }

    #[test]
    fn restored_usage_respects_the_bound() {
        let ledger = UsageLedger::new(1);
        assert!(ledger.restore(b"a".to_vec(), 2));
        assert!(ledger.restore(b"a".to_vec(), 1));
        assert!(!ledger.restore(b"b".to_vec(), 1));
        assert_eq!(ledger.drain(), [(b"a".to_vec(), 3)]);
    }
}
