//! One shard's table of keys: a dense slab of slots and an open-addressing index over it.
//!
//! The slab keeps slots contiguous (a removal moves the last slot into the hole), which makes
//! the incremental sweep and the eviction sample walk plain index ranges. The index is an array
//! of `u32` cells, each holding an 8-bit hash tag and a slab position, probed linearly: most
//! lookups touch one index cell and the slot it names.

use std::hash::BuildHasher;

use crate::clock::Tick;
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

/// An index cell that never held a slot.
const EMPTY: u32 = 0;
/// An index cell whose slot was removed; probing goes on past it.
const TOMBSTONE: u32 = 1;
/// Bits of a cell that hold the slab position (plus two, past the markers above).
const POS_BITS: u32 = 24;
const POS_MASK: u32 = (1 << POS_BITS) - 1;

/// The most keys one shard can hold.
pub(crate) const MAX_SHARD_KEYS: usize = (POS_MASK - 2) as usize;

/// How many slots each insertion examines for idle keys to reclaim.
const SWEEP_STEP: usize = 2;

/// How many slots a full shard examines for an idle key, or for the least recently seen one.
///
/// Eviction is exact least-recently-seen for shards of up to this many keys, and a sampled
/// approximation above (as in Redis' `allkeys-lru`): a cardinality attack then costs each new key
/// a fixed amount of work instead of a scan of the shard.
pub(crate) const EVICTION_SAMPLE: usize = 16;

/// A key and its state: one cache line, so a check of a key that does not append touches the
/// index cell, this line and nothing else.
#[repr(align(64))]
pub(crate) struct Slot {
    key: Key,
    /// The latest time this key was checked, for least-recently-seen eviction.
    last_seen: Tick,
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
    index: Vec<u32>,
    tombstones: usize,
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

#[inline]
fn tag(hash: u64) -> u32 {
    // Bits 32..40: independent of the low bits that pick the index cell and of the high bits
    // that pick the shard.
    ((hash >> 32) as u32 & 0xff) << POS_BITS
}

impl Table {
    pub(crate) fn new(capacity: usize, hasher: foldhash::fast::RandomState) -> Self {
        Self {
            slots: Vec::new(),
            index: vec![EMPTY; 8],
            tombstones: 0,
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

    /// Rebuilds the index without tombstones, at most half full.
    fn rebuild(&mut self) {
        let mut size = self.index.len();
        while self.slots.len() * 2 > size {
            size *= 2;
        }
        let mask = size - 1;
        let mut index = vec![EMPTY; size];
        for (pos, slot) in self.slots.iter().enumerate() {
            let hash = self.hash(slot.key.as_bytes());
            let mut cell = hash as usize & mask;
            while index[cell] != EMPTY {
                cell = (cell + 1) & mask;
            }
            index[cell] = tag(hash) | (pos as u32 + 2);
        }
        self.index = index;
        self.tombstones = 0;
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes this table holds, its own allocations and those of its keys and logs.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self.index.capacity() * size_of::<u32>()
            + self.heap
    }

    /// Raises `now` to the latest time seen, and remembers it.
    #[inline]
    fn clamp(&mut self, now: Tick) -> Tick {
        self.floor = self.floor.max(now);
        self.floor
    }

    /// Finds `key`: `Ok(slab position)`, or `Err(index cell where it would go)`.
    #[inline(always)]
    fn find(&self, hash: u64, key: &[u8]) -> Result<usize, usize> {
        let mask = self.index.len() - 1;
        let tag = tag(hash);
        let mut cell = hash as usize & mask;
        let mut free = None;
        loop {
            let c = self.index[cell];
            if c == EMPTY {
                return Err(free.unwrap_or(cell));
            }
            if c == TOMBSTONE {
                free.get_or_insert(cell);
            } else if c & !POS_MASK == tag {
                let pos = (c & POS_MASK) as usize - 2;
                if self.slots[pos].key.is(key) {
                    return Ok(pos);
                }
            }
            cell = (cell + 1) & mask;
        }
    }

    /// The index cell that points at slab position `pos`, whose key hashes to `hash`.
    fn cell_of(&self, hash: u64, pos: usize) -> usize {
        let mask = self.index.len() - 1;
        let mut cell = hash as usize & mask;
        while self.index[cell] & POS_MASK != pos as u32 + 2 || self.index[cell] == TOMBSTONE {
            cell = (cell + 1) & mask;
        }
        cell
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
                slot.last_seen = now;
                if record {
                    let before = slot.log.heap_bytes();
                    let d = slot.log.decide(shape, now, cost, true, each);
                    self.heap = self.heap + slot.log.heap_bytes() - before;
                    d
                } else {
                    slot.log.decide(shape, now, cost, false, each)
                }
            }
            Err(_) if !record => Log::default().decide(shape, now, cost, false, each),
            Err(_) => {
                self.sweep_step(now, longest, SWEEP_STEP);
                if self.slots.len() >= self.capacity {
                    self.make_room(now, longest, on_full)?;
                }
                // Removals above may have moved slots and tombstoned cells: look again.
                let Err(cell) = self.find(hash, key) else {
                    unreachable!("the key was absent and nothing inserted it")
                };
                self.insert(cell, hash, key, shape, now, Ask { cost, record, each })
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
        cell: usize,
        hash: u64,
        key: &[u8],
        shape: Windows<'_, W>,
        now: Tick,
        ask: Ask<'_>,
    ) -> Decision {
        let Ask { cost, each, .. } = ask;
        let mut log = Log::default();
        let decision = log.decide(shape, now, cost, true, each);
        let slot = Slot {
            key: Key::new(key),
            last_seen: now,
            log,
        };
        self.heap += slot.key.heap_bytes() + slot.log.heap_bytes();
        if self.index[cell] == TOMBSTONE {
            self.tombstones -= 1;
        }
        self.index[cell] = tag(hash) | (self.slots.len() as u32 + 2);
        self.slots.push(slot);
        if (self.slots.len() + self.tombstones) * 4 > self.index.len() * 3 {
            self.rebuild();
        }
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
        let cell = self.cell_of(hash, pos);
        self.index[cell] = TOMBSTONE;
        self.tombstones += 1;
        let last = self.slots.len() - 1;
        if pos != last {
            let moved = self.hash(self.slots[last].key.as_bytes());
            let cell = self.cell_of(moved, last);
            self.index[cell] = (self.index[cell] & !POS_MASK) | (pos as u32 + 2);
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
                        a.last_seen
                            .cmp(&b.last_seen)
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
}
