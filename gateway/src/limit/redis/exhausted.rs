//! The memory of keys Redis said are exhausted, so their next requests are rejected here
//! without a round trip.
//!
//! When Redis rejects a key, its decision carries the exact wait after which the same request
//! fits. Until then no answer from Redis can be "admitted": other gateway instances can only
//! add usage, never remove it. So a rejection made here from memory is the one Redis would
//! make. What it cannot know is a reset made on Redis meanwhile, or the fresh figures of the
//! other windows; the headers repeat the figures of Redis's rejection, with the wait counted
//! down.
//!
//! The memory is bounded: at most [`ExhaustedKeys::capacity`] keys, in shards, each swept of
//! expired entries when it fills. A key that does not fit is simply not remembered, and its
//! requests go to Redis as any other: a flood of distinct keys costs round trips, never memory.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::Instant;

use foldhash::fast::RandomState;
use parking_lot::Mutex;
use sluicegate::{Decision, Remaining};

use crate::limit::headers::Standing;

/// Shards of the memory, so concurrent requests rarely wait on one lock.
const SHARDS: usize = 16;

/// One shard: remembered keys and their rejections.
type Shard = Mutex<HashMap<Vec<u8>, Exhausted, RandomState>>;

/// A remembered rejection: Redis's figures, and when the key fits again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exhausted {
    until: Instant,
    decision: Decision,
    left: Remaining,
}

impl Exhausted {
    /// Where the client stands at `now`: rejected, with the wait left.
    pub(crate) fn standing(&self, now: Instant) -> Standing {
        Standing {
            allowed: false,
            window: self.decision.window(),
            remaining: self.decision.remaining(),
            wait: self.until.saturating_duration_since(now),
        }
    }

    /// What every window had left when Redis rejected the key.
    pub(crate) fn left(&self) -> &Remaining {
        &self.left
    }
}

/// Keys known to be exhausted, until their retry time; see the module documentation.
///
/// ```
/// use std::time::Instant;
/// use sluicegate_gateway::limit::redis::ExhaustedKeys;
/// let memory = ExhaustedKeys::new(1000);
/// assert_eq!(memory.capacity(), 1008); // rounded up to whole shards
/// assert!(memory.is_empty());
/// ```
#[derive(Debug)]
pub struct ExhaustedKeys {
    shards: Box<[Shard]>,
    per_shard: usize,
    hasher: RandomState,
}

impl ExhaustedKeys {
    /// A memory of at most `capacity` keys (rounded up to a multiple of the shard count).
    pub fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(HashMap::with_hasher(RandomState::default())))
                .collect(),
            per_shard,
            hasher: RandomState::default(),
        }
    }

    /// The most keys remembered at once.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// How many keys are remembered now (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: &[u8]) -> &Shard {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    /// The remembered rejection of `key`, if it still holds at `now`.
    pub(crate) fn get(&self, key: &[u8], now: Instant) -> Option<Exhausted> {
        let mut shard = self.shard(key).lock();
        let entry = *shard.get(key)?;
        if entry.until > now {
            Some(entry)
        } else {
            shard.remove(key);
            None
        }
    }

    /// Remembers Redis's rejection of `key` at `now`, until its retry time, with the figures
    /// to report. Admissions are not remembered. Returns whether it was.
    pub(crate) fn remember(
        &self,
        key: &[u8],
        decision: &Decision,
        left: &Remaining,
        now: Instant,
    ) -> bool {
        let wait = decision.retry_after();
        if decision.allowed() || wait.is_zero() {
            return false;
        }
        let entry = Exhausted {
            until: now + wait,
            decision: *decision,
            left: *left,
        };
        let mut shard = self.shard(key).lock();
        if let Some(existing) = shard.get_mut(key) {
            *existing = entry;
            return true;
        }
        if shard.len() >= self.per_shard {
            shard.retain(|_, e| e.until > now);
            if shard.len() >= self.per_shard {
                return false;
            }
        }
        shard.insert(key.to_vec(), entry);
        true
    }
}

#[cfg(test)]
mod tests {
    use sluicegate::clock::ManualClock;
    use sluicegate::{Limiter, Window};

    use std::time::Duration;

    use super::*;

    /// A real rejection from a local limiter with the same figures Redis gives.
    fn rejection(key: &str) -> (Decision, Remaining) {
        let limiter = Limiter::builder()
            .window(Window::per_second(1))
            .clock(ManualClock::new(0))
            .build()
            .unwrap();
        limiter.check(key).unwrap();
        limiter.check_each(key, 1).unwrap()
    }

    #[test]
    fn a_rejection_holds_until_its_retry_time_and_no_longer() {
        let memory = ExhaustedKeys::new(64);
        let (decision, left) = rejection("k");
        assert_eq!(decision.retry_after(), Duration::from_secs(1));
        let now = Instant::now();
        assert!(memory.remember(b"k", &decision, &left, now));
        let held = memory.get(b"k", now + Duration::from_millis(400)).unwrap();
        let standing = held.standing(now + Duration::from_millis(400));
        assert!(!standing.allowed);
        assert_eq!(standing.wait, Duration::from_millis(600));
        assert_eq!(held.left().get(0), Some(0));
        assert!(memory.get(b"k", now + Duration::from_secs(1)).is_none());
        assert!(memory.is_empty(), "an expired entry is dropped when read");
    }

    #[test]
    fn admissions_are_not_remembered() {
        let memory = ExhaustedKeys::new(64);
        let limiter = Limiter::builder()
            .window(Window::per_second(2))
            .build()
            .unwrap();
        let (admitted, left) = limiter.check_each("k", 1).unwrap();
        let now = Instant::now();
        assert!(!memory.remember(b"k", &admitted, &left, now));
        assert!(memory.get(b"k", now).is_none());
    }

    #[test]
    fn a_flood_of_keys_never_grows_it_past_its_capacity() {
        let memory = ExhaustedKeys::new(32);
        let (decision, left) = rejection("k");
        let now = Instant::now();
        let remembered = (0..10_000u32)
            .filter(|i| memory.remember(&i.to_be_bytes(), &decision, &left, now))
            .count();
        assert_eq!(memory.len(), remembered);
        assert!(remembered <= memory.capacity());
        // Once the entries expire, the next insertion sweeps them out of its shard.
        let later = now + Duration::from_secs(2);
        assert!(memory.remember(b"fresh", &decision, &left, later));
        assert!(memory.len() <= memory.capacity());
    }
}
