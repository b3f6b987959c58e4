//! Time, as the engine sees it.
//!
//! The engine counts time in [`Tick`]s of one microsecond from an origin chosen by each
//! [`Clock`]. A microsecond is fine enough that two requests a gateway can tell apart land on
//! different ticks, and a `u64` of them spans over half a million years, so no window length a
//! user can write overflows.
//!
//! Time never goes backwards inside the engine, whatever a clock reports: the limiter keeps the
//! latest time each shard has seen and raises any earlier reading to it. Callers that already
//! know the time (nginx caches it per event-loop iteration) pass it to the `*_at` methods and
//! skip the clock entirely.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A point in time: microseconds since the origin of the [`Clock`] that produced it.
pub type Tick = u64;

/// How many [`Tick`]s make one second.
pub const TICKS_PER_SECOND: u64 = 1_000_000;

/// Converts a duration to ticks, rounding down to whole microseconds.
///
/// Returns `None` if the duration does not fit in a [`Tick`] (over 584,000 years).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(sluicegate::clock::ticks(Duration::from_millis(1)), Some(1_000));
/// assert_eq!(sluicegate::clock::ticks(Duration::from_nanos(999)), Some(0));
/// ```
pub fn ticks(duration: Duration) -> Option<Tick> {
    u64::try_from(duration.as_micros()).ok()
}

/// Converts ticks back to a [`Duration`].
///
/// ```
/// use std::time::Duration;
/// assert_eq!(sluicegate::clock::duration(1_500_000), Duration::from_millis(1_500));
/// ```
pub fn duration(ticks: Tick) -> Duration {
    Duration::from_micros(ticks)
}

/// A source of time for limiters and breakers.
///
/// Implementations must be cheap: the limiter reads the clock once per check. They need not be
/// strictly monotonic; the engine clamps readings so that time never goes backwards.
///
/// ```
/// use sluicegate::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(5);
/// assert_eq!(clock.now(), 5);
/// ```
pub trait Clock: Send + Sync {
    /// The current time in microseconds since this clock's origin.
    fn now(&self) -> Tick;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now(&self) -> Tick {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now(&self) -> Tick {
        (**self).now()
    }
}

/// The default clock: monotonic time since the clock was created.
///
/// With the default `tsc` feature it reads the CPU's time-stamp counter through `quanta`
/// (about 10 ns); without it, `std::time::Instant` (about 26 ns on the machines we measured).
/// Some machines' counters disagree slightly between cores; the engine's clamping hides that.
///
/// ```
/// use sluicegate::clock::{Clock, MonotonicClock};
/// let clock = MonotonicClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Debug, Clone)]
pub struct MonotonicClock {
    #[cfg(feature = "tsc")]
    counter: quanta::Clock,
    #[cfg(feature = "tsc")]
    origin: u64,
    #[cfg(not(feature = "tsc"))]
    origin: std::time::Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        #[cfg(feature = "tsc")]
        {
            // Reading through a clock instance, not `quanta::Instant::now`, skips quanta's
            // thread-local mocking hook: a third of the cost of a reading.
            let counter = quanta::Clock::new();
            let origin = counter.raw();
            Self { counter, origin }
        }
        #[cfg(not(feature = "tsc"))]
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now(&self) -> Tick {
        // A counter that reads earlier than the origin (cores disagreeing) reads as zero.
        #[cfg(feature = "tsc")]
        return self.counter.delta_as_nanos(self.origin, self.counter.raw()) / 1_000;
        // A u64 of microseconds spans 584,000 years: the truncation cannot bite.
        #[cfg(not(feature = "tsc"))]
        return self.origin.elapsed().as_micros() as Tick;
    }
}

/// A clock that moves only when told to: for tests, simulations and hosts with their own time.
///
/// Clones share the same time, so a test can keep one and hand another to a limiter.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(0);
/// let shared = clock.clone();
/// clock.advance(Duration::from_millis(2));
/// assert_eq!(shared.now(), 2_000);
/// clock.set(1); // a clock may go backwards; the engine never does
/// assert_eq!(shared.now(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Tick) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Moves the clock forward by `by` (saturating at the end of time).
    pub fn advance(&self, by: Duration) {
        self.advance_ticks(ticks(by).unwrap_or(Tick::MAX));
    }

    /// Moves the clock forward by `by` ticks (saturating at the end of time).
    pub fn advance_ticks(&self, by: Tick) {
        let _ = self
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Sets the clock to `now`, forwards or backwards.
    pub fn set(&self, now: Tick) {
        self.now.store(now, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Tick {
        self.now.load(Ordering::Relaxed)
    }
}
