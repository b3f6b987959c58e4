//! The breaker's counters, striped over cache-line lanes so that threads counting at once do
//! not fight over one line.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

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
    Permitted,
    Rejected,
    Successes,
    Failures,
    Ignored,
    Slow,
    Stale,
    TrialTimeouts,
}

const COUNTS: usize = 8;

/// The most lanes a breaker's counters may be striped over.
pub const MAX_LANES: usize = 64;

/// Counters striped over lanes; each thread adds to its own lane, reads add the lanes up.
///
/// A single lane sits inline, beside the state word that precedes it in the breaker, so a
/// keyed breaker's Closed path touches one cache line. Several lanes live apart, one cache
/// line each, and the inline one goes unused.
#[repr(C)]
pub(crate) struct Lanes {
    solo: [AtomicU64; COUNTS],
    striped: Box<[CachePadded<[AtomicU64; COUNTS]>]>,
    /// `lanes - 1` with several lanes; 0 with the inline one.
    mask: usize,
}

impl Lanes {
    /// `lanes` must be a power of two.
    pub(crate) fn new(lanes: usize) -> Self {
        debug_assert!(lanes.is_power_of_two());
        let striped = if lanes == 1 { 0 } else { lanes };
        Self {
            solo: Default::default(),
            striped: (0..striped)
                .map(|_| CachePadded::new(Default::default()))
                .collect(),
            mask: lanes - 1,
        }
    }

    #[inline]
    fn lane(&self) -> &[AtomicU64; COUNTS] {
        if self.mask == 0 {
            &self.solo
        } else {
            &self.striped[thread_lane() & self.mask]
        }
    }

    #[inline]
    pub(crate) fn add(&self, count: Count, n: u64) {
        self.lane()[count as usize].fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn bump(&self, count: Count) {
        self.add(count, 1);
    }

    pub(crate) fn get(&self, count: Count) -> u64 {
        self.striped
            .iter()
            .map(|lane| &**lane)
            .chain([&self.solo])
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

/// This thread's lane number: threads get consecutive numbers as they first count, so the first
/// `lanes` threads to use a breaker each have a lane of their own.
#[inline]
fn thread_lane() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static LANE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    LANE.with(|lane| {
        let mut n = lane.get();
        if n == usize::MAX {
            n = NEXT.fetch_add(1, Ordering::Relaxed);
            lane.set(n);
        }
        n
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_add_up_across_threads() {
        let lanes = Lanes::new(4);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        lanes.bump(Count::Successes);
                    }
                    lanes.add(Count::Slow, 2);
                });
            }
        });
        let c = lanes.snapshot();
        assert_eq!((c.successes, c.slow, c.failures), (6000, 12, 0));
        assert_eq!(
            lanes.heap_bytes(),
            4 * size_of::<CachePadded<[AtomicU64; 8]>>()
        );
        let solo = Lanes::new(1);
        solo.add(Count::Stale, 3);
        assert_eq!((solo.get(Count::Stale), solo.heap_bytes()), (3, 0));
    }
}
