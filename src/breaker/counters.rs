//! The breaker's counters, striped over cache-line lanes so that threads counting at once do
//! not fight over one line.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

use crate::breaker::thread_slot;

/// What a breaker has counted since it was built. Counters only grow: [`reset`] restarts the
/// state, not the history.
///
/// Every permit ends exactly once, as a success, a failure, an ignored call or a stale one, so
/// once no permit is outstanding
/// `permitted == successes + failures + ignored + stale`.
///
/// [`reset`]: crate::breaker::Breaker::reset
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome};
/// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
/// breaker.try_acquire().unwrap().record(Outcome::Success, Duration::from_millis(3));
/// drop(breaker.try_acquire().unwrap()); // dropped unrecorded: ignored
/// let c = breaker.counters();
/// assert_eq!((c.permitted, c.successes, c.ignored), (2, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Counters {
    /// Calls admitted (permits handed out).
    pub permitted: u64,
    /// Calls rejected.
    pub rejected: u64,
    /// Successes recorded in the generation they were admitted in.
    pub successes: u64,
    /// Failures recorded in the generation they were admitted in.
    pub failures: u64,
    /// Permits recorded as [`Ignored`](crate::breaker::Outcome::Ignored) or dropped
    /// unrecorded, in the generation they were admitted in.
    pub ignored: u64,
    /// Successes and failures that took at least the slow-call threshold (zero without a
    /// slow-call policy).
    pub slow: u64,
    /// Permits that ended after their generation did, and so counted for nothing else.
    pub stale: u64,
    /// Half-open trials that went unreported past the trial timeout and counted as failed
    /// (their late reports are stale).
    pub trial_timeouts: u64,
}

/// One counter of [`Counters`], as an index into a lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Count {
    // The two a Closed call adds to come first, on the lane's first 16 bytes.
    Permitted,
    Successes,
    Failures,
    Ignored,
    Rejected,
    Slow,
    Stale,
    TrialTimeouts,
}

const COUNTS: usize = 8;

/// The most lanes a breaker's counters may be striped over.
pub const MAX_LANES: usize = thread_slot::SLOTS;

/// Counters striped over lanes, read by adding the lanes up.
///
/// Each of the first `owned` thread slots (see [`thread_slot`]) has a lane of its own, which
/// its holder adds to with a plain load and store: no locked instruction. Threads without such
/// a slot add to one shared lane with atomic read-modify-writes.
///
/// With one owned lane, it and the shared lane sit inline, beside the state word that precedes
/// them in the breaker, so a keyed breaker's Closed path touches no other memory. With several,
/// each lane has a cache line of its own on the heap, the shared one last, and the inline ones
/// go unused.
// `repr(C)`: the fields every count reads first, then the inline lanes.
#[repr(C)]
pub(crate) struct Lanes {
    owned: usize,
    /// With one owned lane: the owned lane, then the shared one.
    inline: [[AtomicU64; COUNTS]; 2],
    /// With several owned lanes: one per slot, then the shared one.
    striped: Box<[CachePadded<[AtomicU64; COUNTS]>]>,
}

impl Lanes {
    /// `owned` must be a power of two no greater than the number of thread slots.
    pub(crate) fn new(owned: usize) -> Self {
        debug_assert!(owned.is_power_of_two() && owned <= thread_slot::SLOTS);
        let striped = if owned == 1 { 0 } else { owned + 1 };
        Self {
            owned,
            inline: Default::default(),
            striped: (0..striped)
                .map(|_| CachePadded::new(Default::default()))
                .collect(),
        }
    }

    #[inline]
    pub(crate) fn add(&self, count: Count, n: u64) {
        let slot = thread_slot::current();
        // Slots past the owned lanes all map to the shared lane, last.
        let lane = slot.min(self.owned);
        let lane = if self.owned == 1 {
            &self.inline[lane]
        } else {
            &*self.striped[lane]
        };
        let counter = &lane[count as usize];
        if slot < self.owned {
            // Only this thread writes this lane.
            counter.store(
                counter.load(Ordering::Relaxed).wrapping_add(n),
                Ordering::Relaxed,
            );
        } else {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn bump(&self, count: Count) {
        self.add(count, 1);
    }

    pub(crate) fn get(&self, count: Count) -> u64 {
        self.striped
            .iter()
            .map(|lane| &**lane)
            .chain(&self.inline)
            .map(|lane| lane[count as usize].load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }

    pub(crate) fn snapshot(&self) -> Counters {
        Counters {
            permitted: self.get(Count::Permitted),
            rejected: self.get(Count::Rejected),
            successes: self.get(Count::Successes),
            failures: self.get(Count::Failures),
            ignored: self.get(Count::Ignored),
            slow: self.get(Count::Slow),
            stale: self.get(Count::Stale),
            trial_timeouts: self.get(Count::TrialTimeouts),
        }
    }

    /// Bytes these lanes occupy outside the breaker.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.striped.len() * size_of::<CachePadded<[AtomicU64; COUNTS]>>()
    }
}

/// The default number of lanes: one per core, rounded up to a power of two.
pub(crate) fn default_lanes() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .next_power_of_two()
        .min(MAX_LANES)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts `per_thread` successes from each of `threads` threads at once.
    fn count_at_once(lanes: &Lanes, threads: usize, per_thread: u64) {
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    barrier.wait();
                    for _ in 0..per_thread {
                        lanes.bump(Count::Successes);
                    }
                    lanes.add(Count::Slow, 2);
                });
            }
        });
    }

    #[test]
    fn lanes_add_up_across_threads() {
        // More threads than owned lanes: the ones past them share a lane, and no count is lost.
        for owned in [1, 2, 4] {
            let lanes = Lanes::new(owned);
            count_at_once(&lanes, 8, 20_000);
            let c = lanes.snapshot();
            assert_eq!((c.successes, c.slow, c.failures), (160_000, 16, 0));
        }
        // Counts made by threads that have exited stay, and their successors add to them.
        let lanes = Lanes::new(2);
        for _ in 0..3 {
            count_at_once(&lanes, 2, 1000);
        }
        assert_eq!(lanes.get(Count::Successes), 6000);
    }

    #[test]
    fn one_lane_lives_inline_and_several_on_the_heap() {
        let lane = size_of::<CachePadded<[AtomicU64; COUNTS]>>();
        assert_eq!(Lanes::new(4).heap_bytes(), 5 * lane);
        let solo = Lanes::new(1);
        solo.add(Count::Stale, 3);
        assert_eq!((solo.get(Count::Stale), solo.heap_bytes()), (3, 0));
    }
}
