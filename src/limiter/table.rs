//! One shard's table of keys: a dense slab of slots and an open-addressing index over it.
//!
//! The slab keeps slots contiguous (a removal moves the last slot into the hole), which makes
//! the incremental sweep and the eviction sample walk plain index ranges. The index (see
//! [`crate::index`]) has compact `u32` cells, each an 8-bit hash tag and a slab position, probed
//! linearly: most lookups touch one index cell and the slot it names.

use std::hash::BuildHasher;

use crate::clock::Tick;
use crate::index::{Cell, Index, Vacant};
use crate::limiter::key::Key;
use crate::limiter::log::{Log, Windows};
use crate::limiter::window::MAX_WINDOWS;
use crate::limiter::{CheckError, Decision, FullPolicy};

/// What a caller asks of one decision: its cost, whether to record an admitted request, and
/// where to write every window's remaining, if anywhere.
pub(crate) struct Ask<'a> {
    pub(crate) cost: u32,
    pub(crate) record: bool,
    pub(crate) each: Option<&'a mut [u32; MAX_WINDOWS]>,
}

/// The most keys one shard can hold.
pub(crate) const MAX_SHARD_KEYS: usize = <u32 as Cell>::MAX_ENTRIES;

/// How many slots each insertion examines for idle keys to reclaim.
const SWEEP_STEP: usize = 2;

/// How many slots a full shard examines for an idle key, or for the least recently seen one.
///
/// Eviction is exact least-recently-seen for shards of up to this many keys, and a sampled
/// approximation above (as in Redis' `allkeys-lru`): a cardinality attack then costs each new key
/// a fixed amount of work instead of a scan of the shard.
pub(crate) const EVICTION_SAMPLE: usize = 16;

/// A key and its log: one cache line, so a check reads the index cell, this line, and (to
/// append) the line of the log's ring it writes.
///
/// The time the key was last checked, for least-recently-seen eviction, is the log's to keep
/// (see [`Log::touch`]).
#[repr(align(64))]
pub(crate) struct Slot {
    key: Key,
    log: Log,
}

/// Counters a shard keeps under its own lock; the limiter adds them up on demand.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) allowed: u64,
    pub(crate) rejected: u64,
    pub(crate) evicted: u64,
    pub(crate) reclaimed: u64,
    pub(crate) refused_keys: u64,
}

/// One shard's keys.
pub(crate) struct Table {
    slots: Vec<Slot>,
    index: Index<u32>,
    /// Next slab position the incremental sweep examines.
    sweep: usize,
    /// The latest time this shard has seen: earlier readings are raised to it.
    floor: Tick,
    /// The most keys this shard may hold.
    capacity: usize,
    /// Heap bytes held by keys and logs (the slab and index are counted from their capacity).
    heap: usize,
    pub(crate) counters: Counters,
    hasher: foldhash::fast::RandomState,
}

impl Table {
    pub(crate) fn new(capacity: usize, hasher: foldhash::fast::RandomState) -> Self {
        Self {
            slots: Vec::new(),
            index: Index::new(),
            sweep: 0,
            floor: 0,
            capacity,
            heap: 0,
            counters: Counters::default(),
            hasher,
        }
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes this table holds, its own allocations and those of its keys and logs.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.index.bytes() + self.heap
    }

    /// Raises `now` to the latest time seen, and remembers it.
    #[inline]
    fn clamp(&mut self, now: Tick) -> Tick {
        self.floor = self.floor.max(now);
        self.floor
    }

    /// Finds `key`: its slab position, or where in the index it would go.
    #[inline(always)]
    fn find(&self, hash: u64, key: &[u8]) -> Result<usize, Vacant> {
        let mut probe = self.index.probe(hash);
        loop {
            let pos = probe.next_candidate()?;
            if self.slots[pos].key.is(key) {
                return Ok(pos);
            }
        }
    }

    /// Decides a request for `key`, recording it if admitted and `record` is set.
    #[inline(always)]
    pub(crate) fn decide<const W: usize>(
        &mut self,
        hash: u64,
        key: &[u8],
        rules: (Windows<'_, W>, FullPolicy),
        now: Tick,
        ask: Ask<'_>,
    ) -> Result<Decision, CheckError> {
        let (shape, on_full) = rules;
        let Ask { cost, record, each } = ask;
        let longest = shape.spans[0].ticks;
        let now = self.clamp(now);
        let decision = match self.find(hash, key) {
            Ok(pos) => {
                let slot = &mut self.slots[pos];
                let before = slot.log.heap_bytes();
                let d = slot.log.decide(shape, now, cost, record, each);
                slot.log.touch(now);
                // A log's allocation changes only on admission: an append may grow its ring,
                // and a log whose entries all expired (freeing its ring) admits any valid cost.
                if d.allowed {
                    self.heap = self.heap + slot.log.heap_bytes() - before;
                }
                d
            }
            Err(_) if !record => Log::default().decide(shape, now, cost, false, each),
            Err(_) => {
                self.sweep_step(now, longest, SWEEP_STEP);
                if self.slots.len() >= self.capacity {
                    self.make_room(now, longest, on_full)?;
                }
                // Removals above may have moved slots and tombstoned cells: look again.
                let Err(at) = self.find(hash, key) else {
                    unreachable!("the key was absent and nothing inserted it")
                };
                self.insert(at, hash, key, shape, now, Ask { cost, record, each })
            }
        };
        if record {
            let counter = if decision.allowed {
                &mut self.counters.allowed
            } else {
                &mut self.counters.rejected
            };
            *counter += 1;
        }
        Ok(decision)
    }

    fn insert<const W: usize>(
        &mut self,
        at: Vacant,
        hash: u64,
        key: &[u8],
        shape: Windows<'_, W>,
        now: Tick,
        ask: Ask<'_>,
    ) -> Decision {
        let Ask { cost, each, .. } = ask;
        let mut log = Log::default();
        let decision = log.decide(shape, now, cost, true, each);
        log.touch(now);
        let slot = Slot {
            key: Key::new(key),
            log,
        };
        self.heap += slot.key.heap_bytes() + slot.log.heap_bytes();
        self.slots.push(slot);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert(at, hash, slots.len() - 1, slots.len(), |pos| {
                hasher.hash_one(slots[pos].key.as_bytes())
            });
        decision
    }

    /// Removes `key`; true if it was there.
    pub(crate) fn remove(&mut self, hash: u64, key: &[u8]) -> bool {
        match self.find(hash, key) {
            Ok(pos) => {
                self.remove_at(pos, hash);
                true
            }
            Err(_) => false,
        }
    }

    /// Forgets what `key` has used, keeping the key; true if it was there.
    pub(crate) fn reset(&mut self, hash: u64, key: &[u8]) -> bool {
        match self.find(hash, key) {
            Ok(pos) => {
                let log = &mut self.slots[pos].log;
                self.heap -= log.heap_bytes();
                log.clear();
                true
            }
            Err(_) => false,
        }
    }

    fn remove_at(&mut self, pos: usize, hash: u64) {
        self.index.remove(hash, pos);
        let last = self.slots.len() - 1;
        if pos != last {
            let moved = self.hash(self.slots[last].key.as_bytes());
            self.index.moved(moved, last, pos);
        }
        let slot = self.slots.swap_remove(pos);
        self.heap -= slot.key.heap_bytes() + slot.log.heap_bytes();
        if self.sweep > self.slots.len() {
            self.sweep = 0;
        }
    }

    /// Examines up to `count` slots from the sweep cursor and frees the idle ones.
    fn sweep_step(&mut self, now: Tick, longest: Tick, count: usize) -> usize {
        let mut freed = 0;
        for _ in 0..count.min(self.slots.len()) {
            if self.sweep >= self.slots.len() {
                self.sweep = 0;
            }
            let pos = self.sweep;
            if self.slots[pos].log.is_idle(now, longest) {
                let hash = self.hash(self.slots[pos].key.as_bytes());
                self.remove_at(pos, hash);
                self.counters.reclaimed += 1;
                freed += 1;
            } else {
                self.sweep += 1;
            }
        }
        freed
    }

    /// Frees one slot in a full shard: an idle key if the sample holds one, else by `policy`.
    fn make_room(
        &mut self,
        now: Tick,
        longest: Tick,
        policy: FullPolicy,
    ) -> Result<(), CheckError> {
        if self.sweep_step(now, longest, EVICTION_SAMPLE) > 0 {
            return Ok(());
        }
        match policy {
            FullPolicy::RejectNewKeys => {
                self.counters.refused_keys += 1;
                Err(CheckError::KeysExhausted {
                    max_keys: self.capacity,
                })
            }
            FullPolicy::EvictLeastRecent => {
                let n = self.slots.len();
                let start = self.sweep.min(n);
                let victim = (0..EVICTION_SAMPLE.min(n))
                    .map(|i| (start + i) % n)
                    .min_by(|&a, &b| {
                        let (a, b) = (&self.slots[a], &self.slots[b]);
                        a.log
                            .last_seen()
                            .cmp(&b.log.last_seen())
                            .then_with(|| a.key.as_bytes().cmp(b.key.as_bytes()))
                    })
                    .expect("a full shard holds at least one key");
                let hash = self.hash(self.slots[victim].key.as_bytes());
                self.remove_at(victim, hash);
                self.counters.evicted += 1;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_one_cache_line() {
        assert_eq!(size_of::<Slot>(), 64);
    }

    #[test]
    fn bytes_in_use_drop_when_a_peek_expires_a_log() {
        use crate::clock::ManualClock;
        use crate::limiter::{Limiter, Window};
        let clock = ManualClock::new(0);
        let build = || {
            Limiter::builder()
                .window(Window::per_second(10))
                .shards(1)
                .clock(clock.clone())
                .build()
                .unwrap()
        };
        let (busy, light) = (build(), build());
        busy.check("k").unwrap();
        clock.set(1);
        busy.check("k").unwrap();
        light.check("k").unwrap();
        assert!(
            busy.stats().bytes > light.stats().bytes,
            "two entries need a ring"
        );
        clock.set(2_000_000);
        assert!(busy.peek("k", 1).unwrap().allowed());
        assert_eq!(busy.stats().bytes, light.stats().bytes);
    }
}
