//! Half-open bookkeeping: the trial calls in flight, and the verdict their outcomes reach.

use crate::clock::Tick;

/// The most trial calls a half-open breaker may have in flight.
pub const MAX_HALF_OPEN_PERMITS: u32 = 1024;

/// How half-open trials are judged, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrialRules {
    /// Trial calls in flight at once (K).
    pub(crate) permits: u32,
    /// Failed trials that reopen the breaker.
    pub(crate) fail_at: u32,
    /// Successful trials that close it.
    pub(crate) close_at: u32,
    /// How long a trial may go unreported before it counts as failed.
    pub(crate) timeout: Tick,
}

/// What the trials so far decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Undecided,
    Close,
    Reopen,
}

/// One half-open phase's trials.
#[derive(Debug, Default)]
pub(crate) struct Trials {
    /// Trials in flight: (id, admitted at). At most `permits` long.
    running: Vec<(u64, Tick)>,
    /// The id the next trial gets; ids are never reused, so a timed-out trial's late report
    /// finds nothing.
    next_id: u64,
    successes: u32,
    failures: u32,
}

impl Trials {
    /// Starts a new phase: nothing in flight, nothing counted.
    pub(crate) fn clear(&mut self) {
        self.running.clear();
        self.successes = 0;
        self.failures = 0;
    }

    pub(crate) fn in_flight(&self) -> u32 {
        self.running.len() as u32
    }

    /// Admits a trial at `now`, returning its id (never 0).
    pub(crate) fn admit(&mut self, now: Tick) -> u64 {
        self.next_id += 1;
        self.running.push((self.next_id, now));
        self.next_id
    }

    /// Ends trial `id`; false if it is not in flight (it timed out, or belongs to another
    /// phase).
    pub(crate) fn finish(&mut self, id: u64) -> bool {
        match self.running.iter().position(|&(i, _)| i == id) {
            Some(pos) => {
                self.running.swap_remove(pos);
                true
            }
            None => false,
        }
    }

    /// Counts a finished trial's outcome.
    pub(crate) fn count(&mut self, failed: bool) {
        if failed {
            self.failures += 1;
        } else {
            self.successes += 1;
        }
    }

    /// Ends every trial unreported for `timeout` or longer, counting it failed; returns how many.
    pub(crate) fn expire(&mut self, now: Tick, timeout: Tick) -> u32 {
        let before = self.running.len();
        self.running
            .retain(|&(_, admitted)| now < admitted.saturating_add(timeout));
        let expired = (before - self.running.len()) as u32;
        self.failures += expired;
        expired
    }

    /// When the oldest trial in flight times out, if any is in flight.
    pub(crate) fn next_timeout(&self, timeout: Tick) -> Option<Tick> {
        self.running
            .iter()
            .map(|&(_, admitted)| admitted.saturating_add(timeout))
            .min()
    }

    pub(crate) fn verdict(&self, rules: &TrialRules) -> Verdict {
        if self.failures >= rules.fail_at {
            Verdict::Reopen
        } else if self.successes >= rules.close_at {
            Verdict::Close
        } else {
            Verdict::Undecided
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: TrialRules = TrialRules {
        permits: 2,
        fail_at: 2,
        close_at: 3,
        timeout: 100,
    };

    #[test]
    fn trials_reach_a_verdict_by_their_thresholds() {
        let mut t = Trials::default();
        let a = t.admit(0);
        let b = t.admit(5);
        assert_eq!(t.in_flight(), 2);
        assert!(t.finish(a));
        assert!(!t.finish(a), "a trial finishes once");
        t.count(true);
        assert_eq!(t.verdict(&RULES), Verdict::Undecided);
        assert!(t.finish(b));
        t.count(true);
        assert_eq!(t.verdict(&RULES), Verdict::Reopen);
        t.clear();
        for _ in 0..3 {
            let id = t.admit(0);
            assert!(t.finish(id));
            t.count(false);
        }
        assert_eq!(t.verdict(&RULES), Verdict::Close);
    }

    #[test]
    fn unreported_trials_time_out_as_failures() {
        let mut t = Trials::default();
        let a = t.admit(0);
        let b = t.admit(50);
        assert_eq!(t.next_timeout(RULES.timeout), Some(100));
        assert_eq!(t.expire(99, RULES.timeout), 0);
        assert_eq!(t.expire(100, RULES.timeout), 1);
        assert!(!t.finish(a), "a timed-out trial's report finds nothing");
        assert_eq!(t.next_timeout(RULES.timeout), Some(150));
        assert_eq!(t.expire(u64::MAX, u64::MAX), 1, "deadlines saturate");
        assert!(!t.finish(b));
        assert_eq!(t.verdict(&RULES), Verdict::Reopen);
        assert_eq!(t.next_timeout(RULES.timeout), None);
    }
}
