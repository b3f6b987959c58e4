//! Admission results: the permit a caller holds while its call runs, and the rejection it gets
//! when the circuit will not let it through.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::breaker::Breaker;
use crate::breaker::backoff::saturating_ticks;
use crate::clock::{Tick, duration};

/// How a call ended, as the caller classifies it.
///
/// Classify by whose fault it was: an upstream that is down, overloaded or timing out is a
/// `Failure`; a client's mistake (a 404, a 400) is a `Success` or `Ignored`, never a failure,
/// or one client's bad requests would open the circuit for everyone.
///
/// ```
/// use sluicegate::breaker::Outcome;
/// let status = 503;
/// let outcome = if status >= 500 { Outcome::Failure } else { Outcome::Success };
/// assert_eq!(outcome, Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The upstream did its job.
    Success,
    /// The upstream failed.
    Failure,
    /// Says nothing about the upstream (the client went away, the call was cancelled): counts
    /// for nothing but the `ignored` counter, and frees a half-open trial slot.
    Ignored,
}

/// What became of a recorded outcome.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome, Recorded};
/// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(3)).unwrap();
/// let permit = breaker.try_acquire().unwrap();
/// breaker.reset(); // a new generation: the permit's result no longer applies
/// assert_eq!(permit.record(Outcome::Failure, Duration::ZERO), Recorded::Stale);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recorded {
    /// Counted in the generation the permit was admitted in.
    Counted,
    /// The breaker changed state since the permit was admitted (or, for a half-open trial,
    /// the trial timed out): the outcome changed no counter but `stale`, and no state.
    Stale,
}

impl Recorded {
    /// Whether the outcome was stale.
    ///
    /// ```
    /// use sluicegate::breaker::Recorded;
    /// assert!(Recorded::Stale.is_stale());
    /// assert!(!Recorded::Counted.is_stale());
    /// ```
    pub fn is_stale(self) -> bool {
        self == Self::Stale
    }
}

/// The breaker a permit belongs to: borrowed, or shared so the permit can outlive the borrow
/// (to cross an `.await` in a spawned task, or to come from a [`Breakers`] registry).
///
/// [`Breakers`]: crate::breaker::Breakers
#[derive(Debug)]
pub(crate) enum Holder<'a> {
    Borrowed(&'a Breaker),
    Shared(Arc<Breaker>),
}

impl Deref for Holder<'_> {
    type Target = Breaker;

    #[inline]
    fn deref(&self) -> &Breaker {
        match self {
            Self::Borrowed(b) => b,
            Self::Shared(b) => b,
        }
    }
}

/// Leave to make one call through the breaker. Report how it went with [`record`]; dropping
/// the permit unrecorded counts as [`Outcome::Ignored`] (and frees its half-open trial slot).
///
/// A permit remembers the generation it was admitted in. Results reported after the breaker
/// has changed state are stale: they change nothing, and `record` says so.
///
/// [`record`]: Permit::record
///
/// ```
/// use std::time::{Duration, Instant};
/// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome};
/// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
/// let permit = breaker.try_acquire().unwrap();
/// let started = Instant::now();
/// let ok = true; // ... make the call ...
/// let outcome = if ok { Outcome::Success } else { Outcome::Failure };
/// assert!(!permit.record(outcome, started.elapsed()).is_stale());
/// ```
#[derive(Debug)]
#[must_use = "dropping a permit at once records the call as ignored"]
pub struct Permit<'a> {
    breaker: Holder<'a>,
    generation: u64,
    /// The half-open trial this permit holds a slot for, or 0.
    trial: u64,
    done: bool,
}

impl<'a> Permit<'a> {
    pub(crate) fn new(breaker: Holder<'a>, generation: u64, trial: u64) -> Self {
        Self {
            breaker,
            generation,
            trial,
            done: false,
        }
    }

    /// Reports how the call went and how long it took (for the slow-call policy).
    // Always inlined: on the busy path the whole report is a comparison and a store, and a
    // call would spill the permit to memory and back.
    #[inline(always)]
    pub fn record(mut self, outcome: Outcome, elapsed: Duration) -> Recorded {
        self.done = true;
        self.breaker.settle(
            self.generation,
            self.trial,
            outcome,
            saturating_ticks(elapsed),
        )
    }

    /// The generation this permit was admitted in.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(1)).unwrap();
    /// assert_eq!(breaker.try_acquire().unwrap().generation(), breaker.generation());
    /// ```
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether this permit is a half-open trial, whose outcome decides whether the breaker
    /// closes.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(1)).unwrap();
    /// assert!(!breaker.try_acquire().unwrap().is_trial());
    /// ```
    pub fn is_trial(&self) -> bool {
        self.trial != 0
    }
}

impl Drop for Permit<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.done {
            self.breaker
                .settle(self.generation, self.trial, Outcome::Ignored, 0);
        }
    }
}

/// Why a call was rejected.
///
/// ```
/// use sluicegate::breaker::RejectReason;
/// assert_eq!(RejectReason::HalfOpenFull.to_string(), "circuit half-open, trial slots full");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The circuit is open.
    Open,
    /// The circuit is half-open and every trial slot is taken.
    HalfOpenFull,
    /// An operator forced the circuit open.
    ForcedOpen,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "circuit open",
            Self::HalfOpenFull => "circuit half-open, trial slots full",
            Self::ForcedOpen => "circuit forced open",
        })
    }
}

/// A rejected call: why, and when the reason stops holding by the clock alone.
///
/// - [`Open`](RejectReason::Open): when the open time ends (the next call then probes).
/// - [`HalfOpenFull`](RejectReason::HalfOpenFull): when the oldest trial in flight times out;
///   by then a slot is free or the breaker has decided. Trials usually report sooner.
/// - [`ForcedOpen`](RejectReason::ForcedOpen): no time; it lasts until an operator acts.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{Breaker, BreakerConfig, RejectReason};
/// use sluicegate::clock::ManualClock;
/// let clock = ManualClock::new(0);
/// let config = BreakerConfig::new().consecutive_failures(1).open_for(Duration::from_secs(5));
/// let breaker = Breaker::builder(config).clock(clock.clone()).build().unwrap();
/// breaker.force_open();
/// let no = breaker.try_acquire().unwrap_err();
/// assert_eq!((no.reason(), no.retry_after()), (RejectReason::ForcedOpen, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rejected {
    reason: RejectReason,
    retry_after: Option<Tick>,
}

impl Rejected {
    pub(crate) fn new(reason: RejectReason, retry_after: Option<Tick>) -> Self {
        Self {
            reason,
            retry_after,
        }
    }

    /// Why the call was rejected.
    pub fn reason(&self) -> RejectReason {
        self.reason
    }

    /// How long until the reason stops holding, if known; see the type's documentation.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.map(duration)
    }

    /// [`retry_after`](Self::retry_after) in ticks.
    pub fn retry_after_ticks(&self) -> Option<Tick> {
        self.retry_after
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.retry_after() {
            Some(after) => write!(f, "{}; retry after {after:?}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

impl std::error::Error for Rejected {}
