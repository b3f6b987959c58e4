//! The windows failure and slow-call rates are measured over: the last M calls, or the calls of
//! the last T split into buckets. Each keeps running totals, so recording and reading are O(1)
//! (amortised over bucket expiry for time windows).

use crate::clock::Tick;

/// Calls, failures and slow calls in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

impl Tally {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u64::from(failed);
        self.slow += u64::from(slow);
    }

    fn remove(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

/// Which window, and its size, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowSpec {
    /// The last `calls` outcomes.
    Count { calls: u32 },
    /// The current bucket and the `buckets - 1` before it, each `width` ticks long.
    Time { width: Tick, buckets: u32 },
}

/// A window's contents.
#[derive(Debug)]
pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    pub(crate) fn new(spec: WindowSpec) -> Self {
        match spec {
            WindowSpec::Count { calls } => Self::Count(CountWindow::new(calls)),
            WindowSpec::Time { width, buckets } => Self::Time(TimeWindow::new(width, buckets)),
        }
    }

    /// Adds one outcome at `now`.
    pub(crate) fn record(&mut self, now: Tick, failed: bool, slow: bool) {
        match self {
            Self::Count(w) => w.record(failed, slow),
            Self::Time(w) => w.record(now, failed, slow),
        }
    }

    /// What the window holds at `now`.
    pub(crate) fn tally(&mut self, now: Tick) -> Tally {
        match self {
            Self::Count(w) => w.tally,
            Self::Time(w) => {
                w.advance(now);
                w.tally
            }
        }
    }

    /// Forgets every outcome.
    pub(crate) fn clear(&mut self) {
        match self {
            Self::Count(w) => w.clear(),
            Self::Time(w) => w.clear(),
        }
    }
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// The last `marks.len()` outcomes in a ring, two bits each (failed, slow), with their totals.
#[derive(Debug)]
pub(crate) struct CountWindow {
    marks: Box<[u8]>,
    /// Where the next outcome goes.
    next: usize,
    tally: Tally,
}

impl CountWindow {
    fn new(calls: u32) -> Self {
        Self {
            marks: vec![0; calls as usize].into_boxed_slice(),
            next: 0,
            tally: Tally::default(),
        }
    }

    fn record(&mut self, failed: bool, slow: bool) {
        if self.tally.calls == self.marks.len() as u64 {
            let old = self.marks[self.next];
            self.tally.remove(Tally {
                calls: 1,
                failures: u64::from(old & FAILED != 0),
                slow: u64::from(old & SLOW != 0),
            });
        }
        self.marks[self.next] = (u8::from(failed) * FAILED) | (u8::from(slow) * SLOW);
        self.tally.add(failed, slow);
        self.next = (self.next + 1) % self.marks.len();
    }

    fn clear(&mut self) {
        self.next = 0;
        self.tally = Tally::default();
    }
}

/// A ring of buckets, each holding the tally of one `width`-long stretch of time.
#[derive(Debug)]
pub(crate) struct TimeWindow {
    width: Tick,
    buckets: Box<[Tally]>,
    /// The number (time / width) of the newest bucket; buckets older than
    /// `head - buckets.len()` have been emptied.
    head: u64,
    tally: Tally,
}

impl TimeWindow {
    fn new(width: Tick, buckets: u32) -> Self {
        Self {
            width,
            buckets: vec![Tally::default(); buckets as usize].into_boxed_slice(),
            head: 0,
            tally: Tally::default(),
        }
    }

    /// Moves the newest bucket to the one holding `now`, emptying those that leave the window.
    fn advance(&mut self, now: Tick) {
        let number = now / self.width;
        if number <= self.head {
            return;
        }
        let len = self.buckets.len() as u64;
        // Only the last `len` bucket numbers up to `number` can still hold anything we keep;
        // emptying them (each ring slot at most once) clears everything older too.
        let first = (self.head + 1).max(number.saturating_sub(len - 1));
        for n in first..=number {
            let slot = &mut self.buckets[(n % len) as usize];
            self.tally.remove(*slot);
            *slot = Tally::default();
        }
        self.head = number;
    }

    fn record(&mut self, now: Tick, failed: bool, slow: bool) {
        self.advance(now);
        let len = self.buckets.len() as u64;
        self.buckets[(self.head % len) as usize].add(failed, slow);
        self.tally.add(failed, slow);
    }

    fn clear(&mut self) {
        self.buckets.fill(Tally::default());
        self.tally = Tally::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(calls: u64, failures: u64, slow: u64) -> Tally {
        Tally {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn count_window_keeps_the_last_m_outcomes() {
        let mut w = Window::new(WindowSpec::Count { calls: 3 });
        w.record(0, true, true);
        w.record(0, true, false);
        w.record(0, false, false);
        assert_eq!(w.tally(0), tally(3, 2, 1));
        w.record(0, false, false); // pushes out the first (failed, slow)
        assert_eq!(w.tally(0), tally(3, 1, 0));
        w.clear();
        assert_eq!(w.tally(0), Tally::default());
        w.record(0, true, false);
        assert_eq!(w.tally(0), tally(1, 1, 0));
    }

    #[test]
    fn time_window_drops_buckets_as_they_leave() {
        // Three buckets of 10 ticks: at time t the window holds buckets t/10-2 ..= t/10.
        let mut w = Window::new(WindowSpec::Time {
            width: 10,
            buckets: 3,
        });
        w.record(5, true, false); // bucket 0
        w.record(15, false, true); // bucket 1
        w.record(29, true, false); // bucket 2
        assert_eq!(w.tally(29), tally(3, 2, 1));
        assert_eq!(w.tally(30), tally(2, 1, 1)); // bucket 0 left
        assert_eq!(w.tally(49), tally(1, 1, 0));
        assert_eq!(w.tally(50), Tally::default());
        w.record(1_000_000, true, true); // a jump far ahead empties everything else
        assert_eq!(w.tally(1_000_000), tally(1, 1, 1));
        assert_eq!(w.tally(u64::MAX), Tally::default());
    }

    #[test]
    fn time_window_ignores_time_that_goes_backwards() {
        let mut w = Window::new(WindowSpec::Time {
            width: 10,
            buckets: 2,
        });
        w.record(25, true, false);
        w.record(3, false, false); // counted in the newest bucket
        assert_eq!(w.tally(29), tally(2, 1, 0));
        assert_eq!(w.tally(40), Tally::default());
    }
}
