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
    /// Microseconds per counter unit as a fraction of 2^64 (a counter unit is at most a
    /// nanosecond): a reading becomes ticks in one widening multiply instead of quanta's
    /// scaling plus a division.
    #[cfg(feature = "tsc")]
    micros_per_unit: u64,
    #[cfg(not(feature = "tsc"))]
    origin: std::time::Instant,
}

/// Counter units over which [`MonotonicClock`] measures the counter's rate: long enough that
/// quanta's nanosecond rounding is below one part in a billion.
#[cfg(feature = "tsc")]
const RATE_SPAN: u64 = 1 << 32;

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        #[cfg(feature = "tsc")]
        {
            // Reading through a clock instance, not `quanta::Instant::now`, skips quanta's
            // thread-local mocking hook: a third of the cost of a reading.
            let counter = quanta::Clock::new();
            let origin = counter.raw();
            // quanta's own scaling is linear, so its answer over one long span gives the rate.
            let nanos = u128::from(counter.delta_as_nanos(0, RATE_SPAN));
            let micros_per_unit =
                u64::try_from((nanos << 64) / (1_000 * u128::from(RATE_SPAN))).unwrap_or(u64::MAX);
            Self {
                counter,
                origin,
                micros_per_unit,
            }
        }
        #[cfg(not(feature = "tsc"))]
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "tsc")]
impl MonotonicClock {
    /// Ticks since the origin at counter reading `raw`.
    #[inline]
    fn ticks_at(&self, raw: u64) -> Tick {
        // A counter that reads earlier than the origin (cores disagreeing) reads as zero. A u64
        // times a u64 fits a u128, and shifting out 64 bits leaves at most a u64.
        let units = u128::from(raw.saturating_sub(self.origin));
        ((units * u128::from(self.micros_per_unit)) >> 64) as Tick
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
        #[cfg(feature = "tsc")]
        return self.ticks_at(self.counter.raw());
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

#[cfg(all(test, feature = "tsc"))]
mod tests {
    use super::*;

    #[test]
    fn counter_readings_convert_as_quanta_scales_them() {
        let clock = MonotonicClock::new();
        let mut last = 0;
        for shift in 0..56 {
            for offset in [0, 1, 999, 12_345_678] {
                let raw = clock.origin.wrapping_add((1u64 << shift) + offset);
                if raw < clock.origin {
                    continue;
                }
                let ours = clock.ticks_at(raw);
                let quanta = clock.counter.delta_as_nanos(clock.origin, raw) / 1_000;
                // Rounding differs by at most one tick, plus one part in a billion of the span.
                assert!(
                    ours.abs_diff(quanta) <= 1 + quanta / 1_000_000_000,
                    "{ours} vs {quanta}"
                );
                if offset == 0 {
                    assert!(ours >= last, "readings go forward");
                    last = ours;
                }
            }
        }
        assert_eq!(clock.ticks_at(clock.origin.saturating_sub(5)), 0);
    }
}
