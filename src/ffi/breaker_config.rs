//! `sg_breaker_config`: a breaker's configuration as a flat struct where zero means "off" or
//! "the default", resolved into the engine's `BreakerConfig`.

use std::time::Duration;

use crate::breaker::{Backoff, BreakerConfig};
use crate::ffi::boundary::Failure;
use crate::ffi::versioned::Versioned;

/// The number of buckets a time window gets when `time_window_buckets` is 0.
const DEFAULT_TIME_WINDOW_BUCKETS: u32 = 10;

/// The open time when `open_for_us` is 0: ten seconds, the engine's default.
const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(10);

/// How to build a circuit breaker. Zero-initialise it, set `struct_size` to
/// `sizeof(sg_breaker_config)` and at least one trip policy (`consecutive_failures`,
/// `failure_rate_percent` or `slow_call_rate_percent`); every other zero means "off" or "the
/// default", as each field says. A rate policy needs a window: `count_window` or
/// `time_window_us`, not both.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sg_breaker_config {
    /// `sizeof(sg_breaker_config)`, so the struct can grow without breaking older callers.
    pub struct_size: u32,
    /// Open after this many failures in a row (1 to 65,535); 0 for no such policy.
    pub consecutive_failures: u32,
    /// Open when failures make up this percentage (above 0, at most 100) of the window's
    /// calls; 0 for no such policy.
    pub failure_rate_percent: f64,
    /// Open when calls taking `slow_call_threshold_us` or longer make up this percentage of
    /// the window's calls; 0 for no such policy.
    pub slow_call_rate_percent: f64,
    /// A call this long or longer is slow, in microseconds; required with, and only with,
    /// `slow_call_rate_percent`.
    pub slow_call_threshold_us: u64,
    /// Judge rates over the last this many calls (1 to 1,048,576); 0 for no count window.
    pub count_window: u32,
    /// The buckets `time_window_us` is split into (1 to 4096, each a whole number of
    /// microseconds); 0 for 10. Only with `time_window_us`.
    pub time_window_buckets: u32,
    /// Judge rates over the last this many microseconds; 0 for no time window.
    pub time_window_us: u64,
    /// Judge rates only once the window holds this many calls; 0 for 10 (or the count
    /// window's size if smaller).
    pub min_calls: u32,
    /// Half-open trial calls in flight at once (1 to 1024); 0 for 1.
    pub half_open_permits: u32,
    /// How long the breaker stays open, in microseconds (the first open time with a
    /// backoff); 0 for 10 seconds.
    pub open_for_us: u64,
    /// Multiply the open time by this (a finite number of at least 1) after each failed
    /// half-open probe, up to `backoff_max_us`; 0 for a fixed open time.
    pub backoff_factor: f64,
    /// The longest open time, in microseconds; required with, and only with,
    /// `backoff_factor`.
    pub backoff_max_us: u64,
    /// Shorten each open time by a random part of up to this fraction of it (0 to 1), so
    /// breakers that tripped together do not probe together; 0 for no jitter.
    pub jitter: f64,
    /// Half-open trials that must succeed to close (1 to 65,535); 0 for 1.
    pub half_open_successes: u32,
    /// Counter stripes, a power of two up to 64: more cost memory and spare threads counting
    /// at once from fighting over one cache line; 0 for one per core for a lone breaker and 1
    /// for each breaker of a registry.
    pub lanes: u32,
    /// Judge the `half_open_successes` trials by failure rate: reopen once failures are this
    /// percentage of them; 0 for "the first failed trial reopens".
    pub half_open_failure_rate_percent: f64,
    /// A half-open trial unreported after this many microseconds counts as failed; 0 for 60
    /// seconds. Set it above the upstream's timeout.
    pub trial_timeout_us: u64,
    /// Seeds the jitter's random numbers, so runs repeat; 0 for a random seed.
    pub seed: u64,
}

// SAFETY: repr(C), `struct_size` first, integers and floats only.
unsafe impl Versioned for sg_breaker_config {
    const NAME: &'static str = "sg_breaker_config";
    const FIRST_SIZE: usize = 120;
}

impl sg_breaker_config {
    /// The engine configuration this struct describes.
    pub(crate) fn resolve(&self) -> Result<BreakerConfig, Failure> {
        let mut config = BreakerConfig::new();
        if self.consecutive_failures != 0 {
            config = config.consecutive_failures(self.consecutive_failures);
        }
        if self.failure_rate_percent != 0.0 {
            config = config.failure_rate(self.failure_rate_percent);
        }
        match (
            self.slow_call_rate_percent != 0.0,
            self.slow_call_threshold_us,
        ) {
            (true, threshold) => {
                config = config.slow_call_rate(
                    self.slow_call_rate_percent,
                    Duration::from_micros(threshold),
                );
            }
            (false, 0) => {}
            (false, _) => {
                return Err(Failure::config(
                    "slow_call_threshold_us is set but slow_call_rate_percent is 0: set both or \
                     neither",
                ));
            }
        }
        config = self.window(config)?;
        if self.min_calls != 0 {
            config = config.min_calls(self.min_calls);
        }
        config = config.backoff(self.backoff()?);
        if self.jitter != 0.0 {
            config = config.jitter(self.jitter);
        }
        if self.half_open_permits != 0 || self.half_open_successes != 0 {
            config = config.half_open(
                self.half_open_permits.max(1),
                self.half_open_successes.max(1),
            );
        }
        if self.half_open_failure_rate_percent != 0.0 {
            config = config.half_open_failure_rate(self.half_open_failure_rate_percent);
        }
        if self.trial_timeout_us != 0 {
            config = config.trial_timeout(Duration::from_micros(self.trial_timeout_us));
        }
        Ok(config)
    }

    fn window(&self, config: BreakerConfig) -> Result<BreakerConfig, Failure> {
        match (
            self.count_window,
            self.time_window_us,
            self.time_window_buckets,
        ) {
            (0, 0, 0) => Ok(config),
            (0, 0, _) => Err(Failure::config(
                "time_window_buckets is set but time_window_us is 0: set the window's length too",
            )),
            (calls, 0, 0) => Ok(config.count_window(calls)),
            (0, length, buckets) => Ok(config.time_window(
                Duration::from_micros(length),
                match buckets {
                    0 => DEFAULT_TIME_WINDOW_BUCKETS,
                    n => n,
                },
            )),
            _ => Err(Failure::config(
                "set count_window or time_window_us (with time_window_buckets), not both",
            )),
        }
    }

    fn backoff(&self) -> Result<Backoff, Failure> {
        let open_for = match self.open_for_us {
            0 => DEFAULT_OPEN_FOR,
            us => Duration::from_micros(us),
        };
        match (self.backoff_factor != 0.0, self.backoff_max_us) {
            (false, 0) => Ok(Backoff::fixed(open_for)),
            (false, _) => Err(Failure::config(
                "backoff_max_us is set but backoff_factor is 0: set both or neither",
            )),
            (true, max) => Ok(Backoff::exponential(
                open_for,
                self.backoff_factor,
                Duration::from_micros(max),
            )),
        }
    }

    /// The jitter seed, if one is set.
    pub(crate) fn seed(&self) -> Option<u64> {
        (self.seed != 0).then_some(self.seed)
    }

    /// The number of counter lanes, if set.
    pub(crate) fn lanes(&self) -> Option<usize> {
        (self.lanes != 0).then_some(self.lanes as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::Breaker;

    fn zeroed() -> sg_breaker_config {
        sg_breaker_config {
            struct_size: size_of::<sg_breaker_config>() as u32,
            consecutive_failures: 0,
            failure_rate_percent: 0.0,
            slow_call_rate_percent: 0.0,
            slow_call_threshold_us: 0,
            count_window: 0,
            time_window_buckets: 0,
            time_window_us: 0,
            min_calls: 0,
            half_open_permits: 0,
            open_for_us: 0,
            backoff_factor: 0.0,
            backoff_max_us: 0,
            jitter: 0.0,
            half_open_successes: 0,
            lanes: 0,
            half_open_failure_rate_percent: 0.0,
            trial_timeout_us: 0,
            seed: 0,
        }
    }

    #[test]
    fn zero_fields_take_the_engines_defaults() {
        let c = sg_breaker_config {
            consecutive_failures: 5,
            ..zeroed()
        };
        assert_eq!(
            c.resolve().unwrap(),
            BreakerConfig::new().consecutive_failures(5)
        );
        assert_eq!(
            size_of::<sg_breaker_config>(),
            sg_breaker_config::FIRST_SIZE
        );
    }

    #[test]
    fn every_field_reaches_the_engine() {
        let c = sg_breaker_config {
            consecutive_failures: 5,
            failure_rate_percent: 50.0,
            slow_call_rate_percent: 80.0,
            slow_call_threshold_us: 2_000_000,
            time_window_us: 60_000_000,
            time_window_buckets: 12,
            min_calls: 20,
            open_for_us: 1_000_000,
            backoff_factor: 2.0,
            backoff_max_us: 60_000_000,
            jitter: 0.2,
            half_open_permits: 3,
            half_open_successes: 5,
            half_open_failure_rate_percent: 40.0,
            trial_timeout_us: 10_000_000,
            ..zeroed()
        };
        let expected = BreakerConfig::new()
            .consecutive_failures(5)
            .failure_rate(50.0)
            .slow_call_rate(80.0, Duration::from_secs(2))
            .time_window(Duration::from_secs(60), 12)
            .min_calls(20)
            .backoff(Backoff::exponential(
                Duration::from_secs(1),
                2.0,
                Duration::from_secs(60),
            ))
            .jitter(0.2)
            .half_open(3, 5)
            .half_open_failure_rate(40.0)
            .trial_timeout(Duration::from_secs(10));
        assert_eq!(c.resolve().unwrap(), expected);
        assert!(Breaker::new(expected).is_ok());
    }

    #[test]
    fn half_set_pairs_are_refused_with_a_reason() {
        let cases = [
            sg_breaker_config {
                consecutive_failures: 1,
                slow_call_threshold_us: 5,
                ..zeroed()
            },
            sg_breaker_config {
                consecutive_failures: 1,
                backoff_max_us: 5,
                ..zeroed()
            },
            sg_breaker_config {
                failure_rate_percent: 50.0,
                time_window_buckets: 5,
                ..zeroed()
            },
            sg_breaker_config {
                failure_rate_percent: 50.0,
                count_window: 5,
                time_window_us: 5,
                ..zeroed()
            },
        ];
        for c in cases {
            let err = c.resolve().unwrap_err();
            assert_eq!(err.code, crate::ffi::result::sg_result::SG_INVALID_CONFIG);
        }
    }
}
