//! What a breaker is configured with: trip policies, the window they measure over, how long it
//! stays open, and how it probes while half-open.

use std::time::Duration;

use crate::breaker::backoff::{PPM, Schedule, saturating_ticks};
use crate::breaker::state::MAX_CONSECUTIVE_FAILURES;
use crate::breaker::trials::{MAX_HALF_OPEN_PERMITS, TrialRules};
use crate::breaker::window::WindowSpec;
use crate::breaker::{Backoff, ConfigError};
use crate::clock::Tick;

/// The largest count window, in calls.
pub const MAX_COUNT_WINDOW: u32 = 1 << 20;

/// The most buckets a time window may be split into.
pub const MAX_BUCKETS: u32 = 1 << 12;

/// The default minimum number of calls in the window before a rate is judged.
const DEFAULT_MIN_CALLS: u32 = 10;

/// The window rates are measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowChoice {
    Count(u32),
    Time(Duration, u32),
}

/// A breaker's configuration: plain data, checked when a breaker is built from it.
///
/// Trip policies combine: the breaker opens when any one of them fires. Rates are judged over
/// one window (the last M calls, or the last T of time in buckets) once it holds at least
/// `min_calls` calls, and fire at threshold or above. [`Outcome::Ignored`] counts for nothing.
///
/// Defaults: no trip policy (one is required), `min_calls` 10 (at most the count window),
/// open for 10 s every time, no jitter, one trial in flight and one success to close, the first
/// failed trial reopens, and trials unreported after 60 s (the default upstream timeout of
/// common gateways) count as failed.
///
/// [`Outcome::Ignored`]: crate::breaker::Outcome::Ignored
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{Backoff, Breaker, BreakerConfig};
/// let config = BreakerConfig::new()
///     .consecutive_failures(5)
///     .failure_rate(50.0)
///     .slow_call_rate(80.0, Duration::from_secs(2))
///     .time_window(Duration::from_secs(60), 12)
///     .min_calls(20)
///     .backoff(Backoff::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(60)))
///     .jitter(0.2)
///     .half_open(3, 5)
///     .trial_timeout(Duration::from_secs(10));
/// assert!(Breaker::new(config).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    consecutive_failures: Option<u32>,
    failure_rate: Option<f64>,
    slow_call_rate: Option<(f64, Duration)>,
    window: Option<WindowChoice>,
    min_calls: Option<u32>,
    backoff: Backoff,
    jitter: f64,
    half_open_permits: u32,
    half_open_successes: u32,
    half_open_failure_rate: Option<f64>,
    trial_timeout: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerConfig {
    /// The defaults, with no trip policy yet.
    ///
    /// ```
    /// use sluicegate::breaker::BreakerConfig;
    /// assert_eq!(BreakerConfig::new(), BreakerConfig::default());
    /// ```
    pub fn new() -> Self {
        Self {
            consecutive_failures: None,
            failure_rate: None,
            slow_call_rate: None,
            window: None,
            min_calls: None,
            backoff: Backoff::default(),
            jitter: 0.0,
            half_open_permits: 1,
            half_open_successes: 1,
            half_open_failure_rate: None,
            trial_timeout: Duration::from_secs(60),
        }
    }

    /// Opens after `n` failures in a row (1 ..= 65,535). A success ends the run; ignored calls
    /// leave it as it is.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// assert!(Breaker::new(BreakerConfig::new().consecutive_failures(5)).is_ok());
    /// assert!(Breaker::new(BreakerConfig::new().consecutive_failures(0)).is_err());
    /// ```
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = Some(n);
        self
    }

    /// Opens when failures make up `percent` (in (0, 100]) or more of the window's calls.
    /// Needs a window.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new().failure_rate(50.0).count_window(100);
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn failure_rate(mut self, percent: f64) -> Self {
        self.failure_rate = Some(percent);
        self
    }

    /// Opens when calls taking `threshold` or longer make up `percent` or more of the
    /// window's calls, successes and failures alike. Needs a window. While half-open, a slow
    /// trial counts as a failed one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new()
    ///     .slow_call_rate(80.0, Duration::from_secs(1))
    ///     .count_window(50);
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn slow_call_rate(mut self, percent: f64, threshold: Duration) -> Self {
        self.slow_call_rate = Some((percent, threshold));
        self
    }

    /// Measures rates over the last `calls` outcomes (1 ..= 1,048,576).
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// assert!(Breaker::new(BreakerConfig::new().failure_rate(50.0).count_window(20)).is_ok());
    /// ```
    pub fn count_window(mut self, calls: u32) -> Self {
        self.window = Some(WindowChoice::Count(calls));
        self
    }

    /// Measures rates over the last `length` of time, split into `buckets` buckets of
    /// `length / buckets` (a whole number of microseconds). The window holds the current
    /// bucket and the `buckets - 1` before it, so it spans between `length - length/buckets`
    /// and `length`: more buckets, smoother expiry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new()
    ///     .failure_rate(50.0)
    ///     .time_window(Duration::from_secs(10), 10);
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn time_window(mut self, length: Duration, buckets: u32) -> Self {
        self.window = Some(WindowChoice::Time(length, buckets));
        self
    }

    /// Judges rates only once the window holds at least `n` calls (default 10, or the count
    /// window's size if smaller). Below it, no rate trips, however bad.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new().failure_rate(50.0).count_window(100).min_calls(20);
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn min_calls(mut self, n: u32) -> Self {
        self.min_calls = Some(n);
        self
    }

    /// How long the breaker stays open (default: 10 s, fixed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Backoff, Breaker, BreakerConfig};
    /// let config = BreakerConfig::new()
    ///     .consecutive_failures(3)
    ///     .backoff(Backoff::exponential(Duration::from_secs(1), 2.0, Duration::from_secs(30)));
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Shorthand for a fixed [`backoff`](Self::backoff).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Backoff, BreakerConfig};
    /// let a = BreakerConfig::new().open_for(Duration::from_secs(5));
    /// let b = BreakerConfig::new().backoff(Backoff::fixed(Duration::from_secs(5)));
    /// assert_eq!(a, b);
    /// ```
    pub fn open_for(self, duration: Duration) -> Self {
        self.backoff(Backoff::fixed(duration))
    }

    /// Shortens each open time by a random part of up to `fraction` of it (in [0, 1]), so
    /// breakers that tripped together do not probe together. Jitter never lengthens an open
    /// time. The random numbers come from the builder's seed or source.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// assert!(Breaker::new(BreakerConfig::new().consecutive_failures(1).jitter(0.1)).is_ok());
    /// ```
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// While half-open, admits at most `permits` trial calls at once (1 ..= 1024), and closes
    /// after `successes` successful trials (1 ..= 65,535); by default the first failed trial
    /// reopens.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// assert!(Breaker::new(BreakerConfig::new().consecutive_failures(1).half_open(2, 5)).is_ok());
    /// ```
    pub fn half_open(mut self, permits: u32, successes: u32) -> Self {
        self.half_open_permits = permits;
        self.half_open_successes = successes;
        self
    }

    /// Judges half-open trials by rate instead of the first failure: the `successes` trials
    /// of [`half_open`](Self::half_open) form a sample, and the breaker reopens once failures
    /// are `percent` or more of that sample, closing once they can no longer be. It decides as
    /// soon as the verdict is certain: with 4 trials at 50 %, 2 failures reopen and 3
    /// successes close.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new()
    ///     .consecutive_failures(1)
    ///     .half_open(2, 4)
    ///     .half_open_failure_rate(50.0);
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn half_open_failure_rate(mut self, percent: f64) -> Self {
        self.half_open_failure_rate = Some(percent);
        self
    }

    /// How long a half-open trial may go unreported (default 60 s). A trial still in flight
    /// then counts as failed, frees its slot, and its late report is stale: half-open can
    /// never wedge on probes that never come back. Set it above your upstream timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let config = BreakerConfig::new().consecutive_failures(1).trial_timeout(Duration::from_secs(5));
    /// assert!(Breaker::new(config).is_ok());
    /// ```
    pub fn trial_timeout(mut self, timeout: Duration) -> Self {
        self.trial_timeout = timeout;
        self
    }

    /// Checks the configuration and resolves it into the form a breaker runs on.
    pub(crate) fn settings(&self) -> Result<Settings, ConfigError> {
        let streak_limit = match self.consecutive_failures {
            Some(n) if n == 0 || n > MAX_CONSECUTIVE_FAILURES => {
                return Err(ConfigError::ConsecutiveFailures {
                    threshold: n,
                    max: MAX_CONSECUTIVE_FAILURES,
                });
            }
            n => n,
        };
        let failure_rate = self
            .failure_rate
            .map(|p| ppm("failure rate", p))
            .transpose()?;
        let slow = self
            .slow_call_rate
            .map(|(p, threshold)| {
                let rate = ppm("slow-call rate", p)?;
                match saturating_ticks(threshold) {
                    0 => Err(ConfigError::ZeroDuration {
                        setting: "slow-call threshold",
                    }),
                    threshold => Ok(SlowRule { rate, threshold }),
                }
            })
            .transpose()?;
        if streak_limit.is_none() && failure_rate.is_none() && slow.is_none() {
            return Err(ConfigError::NoTripPolicy);
        }
        let rated = failure_rate.is_some() || slow.is_some();
        let (window, min_calls) = match (self.window, rated) {
            (None, false) => (None, 0),
            (None, true) => return Err(ConfigError::RateWithoutWindow),
            (Some(_), false) => return Err(ConfigError::WindowWithoutRate),
            (Some(choice), true) => self.window_spec(choice)?,
        };
        let schedule = Schedule::new(self.backoff, self.jitter)?;
        Ok(Settings {
            streak_limit,
            failure_rate,
            slow,
            window,
            min_calls,
            schedule,
            trials: self.trial_rules()?,
        })
    }

    fn window_spec(&self, choice: WindowChoice) -> Result<(Option<WindowSpec>, u64), ConfigError> {
        let (spec, most_calls) = match choice {
            WindowChoice::Count(calls) => {
                if calls == 0 || calls > MAX_COUNT_WINDOW {
                    return Err(ConfigError::CountWindow {
                        calls,
                        max: MAX_COUNT_WINDOW,
                    });
                }
                (WindowSpec::Count { calls }, calls)
            }
            WindowChoice::Time(length, buckets) => {
                if buckets == 0 || buckets > MAX_BUCKETS {
                    return Err(ConfigError::Buckets {
                        buckets,
                        max: MAX_BUCKETS,
                    });
                }
                let ticks = saturating_ticks(length);
                let whole = Duration::from_micros(ticks) == length;
                if !whole || ticks < u64::from(buckets) || ticks % u64::from(buckets) != 0 {
                    return Err(ConfigError::BucketWidth {
                        duration: length,
                        buckets,
                    });
                }
                let width = ticks / u64::from(buckets);
                (WindowSpec::Time { width, buckets }, u32::MAX)
            }
        };
        let min_calls = match self.min_calls {
            None => DEFAULT_MIN_CALLS.min(most_calls),
            Some(n) if n == 0 || n > most_calls => {
                return Err(ConfigError::MinCalls {
                    min_calls: n,
                    max: most_calls,
                });
            }
            Some(n) => n,
        };
        Ok((Some(spec), u64::from(min_calls)))
    }

    fn trial_rules(&self) -> Result<TrialRules, ConfigError> {
        let permits = self.half_open_permits;
        if permits == 0 || permits > MAX_HALF_OPEN_PERMITS {
            return Err(ConfigError::HalfOpenPermits {
                permits,
                max: MAX_HALF_OPEN_PERMITS,
            });
        }
        let sample = self.half_open_successes;
        if sample == 0 || sample > MAX_CONSECUTIVE_FAILURES {
            return Err(ConfigError::HalfOpenSuccesses {
                successes: sample,
                max: MAX_CONSECUTIVE_FAILURES,
            });
        }
        // Reopen at the fewest failures whose share of the sample reaches the rate; close once
        // the rest of the sample can no longer supply that many.
        let fail_at = match self.half_open_failure_rate {
            None => 1,
            Some(p) => {
                let rate = ppm("half-open failure rate", p)?;
                (u64::from(rate) * u64::from(sample)).div_ceil(PPM).max(1) as u32
            }
        };
        let timeout = saturating_ticks(self.trial_timeout);
        if timeout == 0 {
            return Err(ConfigError::ZeroDuration {
                setting: "trial timeout",
            });
        }
        Ok(TrialRules {
            permits,
            fail_at,
            close_at: sample - fail_at + 1,
            timeout,
        })
    }
}

/// A percentage in (0, 100] as parts per million (at least 1).
fn ppm(setting: &'static str, percent: f64) -> Result<u32, ConfigError> {
    if percent > 0.0 && percent <= 100.0 {
        Ok(((percent * 10_000.0).round() as u32).max(1))
    } else {
        Err(ConfigError::Percent { setting, percent })
    }
}

/// The slow-call policy, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlowRule {
    /// The rate that trips, in parts per million.
    pub(crate) rate: u32,
    /// A call this long or longer is slow.
    pub(crate) threshold: Tick,
}

/// A checked configuration, in the units the breaker runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) streak_limit: Option<u32>,
    pub(crate) failure_rate: Option<u32>,
    pub(crate) slow: Option<SlowRule>,
    pub(crate) window: Option<WindowSpec>,
    pub(crate) min_calls: u64,
    pub(crate) schedule: Schedule,
    pub(crate) trials: TrialRules,
}

impl Settings {
    /// Whether a call that took `elapsed` ticks is slow.
    #[inline]
    pub(crate) fn is_slow(&self, elapsed: Tick) -> bool {
        self.slow.is_some_and(|s| elapsed >= s.threshold)
    }
}

/// Whether `part` is at least `rate` parts per million of `whole`.
pub(crate) fn reaches(part: u64, whole: u64, rate: u32) -> bool {
    u128::from(part) * u128::from(PPM) >= u128::from(rate) * u128::from(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_rate_decides_as_soon_as_certain() {
        let rules = |p: f64, s: u32| {
            BreakerConfig::new()
                .consecutive_failures(1)
                .half_open(1, s)
                .half_open_failure_rate(p)
                .settings()
                .unwrap()
                .trials
        };
        let r = rules(50.0, 4);
        assert_eq!((r.fail_at, r.close_at), (2, 3));
        let r = rules(100.0, 4);
        assert_eq!((r.fail_at, r.close_at), (4, 1));
        let r = rules(0.0001, 4);
        assert_eq!((r.fail_at, r.close_at), (1, 4));
        let r = BreakerConfig::new()
            .consecutive_failures(1)
            .half_open(3, 5)
            .settings()
            .unwrap()
            .trials;
        assert_eq!((r.permits, r.fail_at, r.close_at), (3, 1, 5));
    }

    #[test]
    fn rates_compare_exactly() {
        assert!(reaches(1, 2, 500_000));
        assert!(!reaches(1, 3, 500_000));
        assert!(reaches(3, 3, 1_000_000));
        assert!(!reaches(2, 3, 1_000_000));
        assert!(reaches(u64::MAX, u64::MAX, 1_000_000));
    }

    #[test]
    fn min_calls_defaults_and_bounds() {
        let s = BreakerConfig::new()
            .failure_rate(50.0)
            .count_window(4)
            .settings()
            .unwrap();
        assert_eq!(s.min_calls, 4);
        let err = BreakerConfig::new()
            .failure_rate(50.0)
            .count_window(4)
            .min_calls(5)
            .settings()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::MinCalls {
                min_calls: 5,
                max: 4
            }
        );
    }

    #[test]
    fn bad_configurations_are_refused_with_their_reason() {
        let base = || BreakerConfig::new().failure_rate(50.0);
        let cases = [
            (base(), ConfigError::RateWithoutWindow),
            (
                BreakerConfig::new().consecutive_failures(1).count_window(5),
                ConfigError::WindowWithoutRate,
            ),
            (
                base().count_window(0),
                ConfigError::CountWindow {
                    calls: 0,
                    max: MAX_COUNT_WINDOW,
                },
            ),
            (
                base().time_window(Duration::from_secs(1), 0),
                ConfigError::Buckets {
                    buckets: 0,
                    max: MAX_BUCKETS,
                },
            ),
            (
                base().time_window(Duration::from_micros(10), 3),
                ConfigError::BucketWidth {
                    duration: Duration::from_micros(10),
                    buckets: 3,
                },
            ),
            (
                base().time_window(Duration::from_nanos(1_500), 1),
                ConfigError::BucketWidth {
                    duration: Duration::from_nanos(1_500),
                    buckets: 1,
                },
            ),
            (
                base().count_window(10).min_calls(0),
                ConfigError::MinCalls {
                    min_calls: 0,
                    max: 10,
                },
            ),
            (
                BreakerConfig::new().failure_rate(0.0).count_window(5),
                ConfigError::Percent {
                    setting: "failure rate",
                    percent: 0.0,
                },
            ),
            (
                BreakerConfig::new()
                    .slow_call_rate(50.0, Duration::ZERO)
                    .count_window(5),
                ConfigError::ZeroDuration {
                    setting: "slow-call threshold",
                },
            ),
            (
                BreakerConfig::new().consecutive_failures(1).half_open(0, 1),
                ConfigError::HalfOpenPermits {
                    permits: 0,
                    max: MAX_HALF_OPEN_PERMITS,
                },
            ),
            (
                BreakerConfig::new().consecutive_failures(1).half_open(1, 0),
                ConfigError::HalfOpenSuccesses {
                    successes: 0,
                    max: MAX_CONSECUTIVE_FAILURES,
                },
            ),
            (
                BreakerConfig::new()
                    .consecutive_failures(1)
                    .trial_timeout(Duration::from_nanos(10)),
                ConfigError::ZeroDuration {
                    setting: "trial timeout",
                },
            ),
            (
                BreakerConfig::new()
                    .consecutive_failures(1)
                    .half_open_failure_rate(101.0),
                ConfigError::Percent {
                    setting: "half-open failure rate",
                    percent: 101.0,
                },
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.settings().unwrap_err(), expected, "{config:?}");
        }
        let nan = BreakerConfig::new().failure_rate(f64::NAN).count_window(5);
        assert!(matches!(nan.settings(), Err(ConfigError::Percent { .. })));
    }
}
