//! How long a breaker stays open: a fixed time, or one that grows with each failed probe, with
//! optional jitter from a seeded random source.

use std::time::Duration;

use crate::breaker::ConfigError;
use crate::clock::{Tick, ticks};

/// Parts per million: the fixed-point scale of factors, fractions and rates.
pub(crate) const PPM: u64 = 1_000_000;

/// How long the breaker stays open each time it opens.
///
/// The exponential schedule opens for `base` when a Closed breaker trips, and each time a
/// half-open probe fails (HalfOpen -> Open) multiplies the previous open time by `factor`
/// (rounded up to a whole microsecond) up to `max`. Closing starts it again from `base`.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::Backoff;
/// let fixed = Backoff::fixed(Duration::from_secs(10));
/// let growing = Backoff::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(60));
/// assert_ne!(fixed, growing);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// The same open time every time.
    Fixed(Duration),
    /// `base`, then the previous time × `factor` after each failed probe, at most `max`.
    Exponential {
        /// The first open time, and the one after every close.
        base: Duration,
        /// The growth per failed probe: a finite number of at least 1.
        factor: f64,
        /// The longest open time.
        max: Duration,
    },
}

impl Backoff {
    /// The same open time every time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::Backoff;
    /// assert_eq!(Backoff::fixed(Duration::from_secs(3)), Backoff::Fixed(Duration::from_secs(3)));
    /// ```
    pub fn fixed(open_for: Duration) -> Self {
        Self::Fixed(open_for)
    }

    /// `base`, growing by `factor` with each failed probe up to `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::Backoff;
    /// let b = Backoff::exponential(Duration::from_secs(1), 1.5, Duration::from_secs(30));
    /// assert!(matches!(b, Backoff::Exponential { factor, .. } if factor == 1.5));
    /// ```
    pub fn exponential(base: Duration, factor: f64, max: Duration) -> Self {
        Self::Exponential { base, factor, max }
    }
}

impl Default for Backoff {
    /// Ten seconds, every time.
    fn default() -> Self {
        Self::Fixed(Duration::from_secs(10))
    }
}

/// A source of random numbers for jitter. Breakers draw one number each time they open.
///
/// Implement it to drive jitter from your own generator; [`SplitMix64`] is the built-in one.
///
/// ```
/// use sluicegate::breaker::RandomSource;
/// struct Always(u64);
/// impl RandomSource for Always {
///     fn next_u64(&mut self) -> u64 {
///         self.0
///     }
/// }
/// assert_eq!(Always(7).next_u64(), 7);
/// ```
pub trait RandomSource: Send {
    /// The next number, uniformly distributed over all `u64` values.
    fn next_u64(&mut self) -> u64;
}

/// A small, fast, seeded generator (Steele, Lea and Flood's SplitMix64): the same seed gives
/// the same jitter, run after run.
///
/// ```
/// use sluicegate::breaker::{RandomSource, SplitMix64};
/// let mut a = SplitMix64::new(42);
/// let mut b = SplitMix64::new(42);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A [`Backoff`] and jitter in ticks and fixed point, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    base: Tick,
    /// The growth factor in parts per million (at least one million).
    factor: u64,
    cap: Tick,
    /// The jitter fraction in parts per million (at most one million).
    jitter: u64,
}

impl Schedule {
    pub(crate) fn new(backoff: Backoff, jitter: f64) -> Result<Self, ConfigError> {
        let (base, factor, max) = match backoff {
            Backoff::Fixed(d) => (d, 1.0, d),
            Backoff::Exponential { base, factor, max } => (base, factor, max),
        };
        let base_ticks = saturating_ticks(base);
        if base_ticks == 0 {
            return Err(ConfigError::ZeroDuration {
                setting: "open duration",
            });
        }
        if !factor.is_finite() || factor < 1.0 {
            return Err(ConfigError::BackoffFactor { factor });
        }
        let cap = saturating_ticks(max);
        if cap < base_ticks {
            return Err(ConfigError::BackoffCap { base, max });
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err(ConfigError::Jitter { fraction: jitter });
        }
        Ok(Self {
            base: base_ticks,
            // Float-to-int `as` saturates: a huge factor becomes u64::MAX, which the cap tames.
            factor: (factor * PPM as f64).round() as u64,
            cap,
            jitter: (jitter * PPM as f64).round() as u64,
        })
    }

    /// The open time after a Closed breaker trips.
    pub(crate) fn first(&self) -> Tick {
        self.base
    }

    /// The open time after a failed probe, given the previous one.
    pub(crate) fn after(&self, previous: Tick) -> Tick {
        let grown = (u128::from(previous) * u128::from(self.factor)).div_ceil(u128::from(PPM));
        grown.min(u128::from(self.cap)) as Tick
    }

    /// Whether opening draws a random number.
    pub(crate) fn jitters(&self) -> bool {
        self.jitter > 0
    }

    /// `open_for` shortened by up to the jitter fraction, by the top 32 bits of `random`:
    /// `open_for - floor(open_for × jitter × r / 2^32)`, at least one tick. Jitter never
    /// lengthens an open time, so `max` stays a hard bound.
    pub(crate) fn jittered(&self, open_for: Tick, random: u64) -> Tick {
        let r = u128::from(random >> 32);
        let cut = u128::from(open_for) * u128::from(self.jitter) * r / (u128::from(PPM) << 32);
        (open_for - cut as Tick).max(1)
    }
}

/// A duration in ticks, saturating at the end of time instead of failing.
pub(crate) fn saturating_ticks(d: Duration) -> Tick {
    ticks(d).unwrap_or(Tick::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Tick = 1_000_000;

    fn exp(base: u64, factor: f64, max: u64) -> Schedule {
        Schedule::new(
            Backoff::exponential(Duration::from_secs(base), factor, Duration::from_secs(max)),
            0.0,
        )
        .unwrap()
    }

    #[test]
    fn exponential_grows_to_its_cap() {
        let s = exp(1, 2.0, 8);
        let mut d = s.first();
        let mut seen = vec![d];
        for _ in 0..4 {
            d = s.after(d);
            seen.push(d);
        }
        assert_eq!(seen, [S, 2 * S, 4 * S, 8 * S, 8 * S]);
    }

    #[test]
    fn growth_rounds_up_so_tiny_times_still_grow() {
        let s = Schedule::new(
            Backoff::exponential(Duration::from_micros(1), 1.5, Duration::from_secs(1)),
            0.0,
        )
        .unwrap();
        assert_eq!(s.after(1), 2);
        assert_eq!(s.after(2), 3);
    }

    #[test]
    fn extreme_values_saturate_instead_of_overflowing() {
        let s = Schedule::new(
            Backoff::exponential(Duration::from_secs(1), f64::MAX, Duration::MAX),
            1.0,
        )
        .unwrap();
        assert_eq!(s.after(s.first()), Tick::MAX);
        assert_eq!(s.after(Tick::MAX), Tick::MAX);
        assert!(s.jittered(Tick::MAX, u64::MAX) >= 1);
        assert_eq!(s.jittered(1, u64::MAX), 1);
    }

    #[test]
    fn jitter_only_shortens() {
        let s = Schedule::new(Backoff::fixed(Duration::from_secs(10)), 0.5).unwrap();
        assert_eq!(s.jittered(10 * S, 0), 10 * S);
        assert_eq!(s.jittered(10 * S, 1 << 63), 10 * S - 10 * S / 4);
        let least = s.jittered(10 * S, u64::MAX);
        assert!(least > 5 * S && least < 5 * S + 10, "{least}");
    }

    #[test]
    fn bad_schedules_are_refused() {
        let d = Duration::from_secs(1);
        assert_eq!(
            Schedule::new(Backoff::fixed(Duration::ZERO), 0.0),
            Err(ConfigError::ZeroDuration {
                setting: "open duration"
            })
        );
        assert!(matches!(
            Schedule::new(Backoff::exponential(d, 0.5, d), 0.0),
            Err(ConfigError::BackoffFactor { .. })
        ));
        assert!(matches!(
            Schedule::new(Backoff::exponential(d, f64::NAN, d), 0.0),
            Err(ConfigError::BackoffFactor { .. })
        ));
        assert!(matches!(
            Schedule::new(Backoff::exponential(d * 2, 2.0, d), 0.0),
            Err(ConfigError::BackoffCap { .. })
        ));
        assert!(matches!(
            Schedule::new(Backoff::fixed(d), 1.5),
            Err(ConfigError::Jitter { .. })
        ));
        assert!(matches!(
            Schedule::new(Backoff::fixed(d), f64::NAN),
            Err(ConfigError::Jitter { .. })
        ));
    }

    #[test]
    fn splitmix_matches_its_reference_output() {
        // First outputs of SplitMix64 seeded with 0, as published with the algorithm.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }
}
