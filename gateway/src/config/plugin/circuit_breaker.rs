//! The `circuit-breaker` plugin's configuration, a Sluicegate extension.

use std::time::Duration;

use sluicegate::breaker::{Backoff, Breaker, BreakerConfig, ConfigError};

use crate::config::decode::{At, Result};

/// The threshold a breaker gets when none is configured: five failures in a row.
pub const DEFAULT_CONSECUTIVE_FAILURES: u32 = 5;

/// The `circuit-breaker` plugin (a Sluicegate extension; Kong has none): one breaker per
/// service, which opens when the upstream keeps failing, answers 503 with `Retry-After`
/// while open, and lets a bounded number of trial calls through before closing.
///
/// Failures are 5xx answers, connection failures and timeouts; 4xx answers count for
/// nothing, so client mistakes never open it. Every setting of
/// [`BreakerConfig`](sluicegate::breaker::BreakerConfig) can be given; durations are in
/// seconds (fractions allowed) and rates in percent:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `consecutive_failures` | open after this many failures in a row | 5 if no other trip policy |
/// | `failure_rate` | open at this failure percentage of the window | none |
/// | `slow_calls: {rate, threshold}` | open at `rate` % of calls taking `threshold` s or more | none |
/// | `window: {calls}` or `window: {seconds, buckets}` | what rates are measured over (needed by a rate) | none |
/// | `min_calls` | calls the window must hold before a rate is judged | 10 |
/// | `open_for` | seconds to stay open | 10 |
/// | `backoff: {base, factor, max}` | instead of `open_for`: grow the open time by `factor` after each failed trial | none |
/// | `jitter` | shorten each open time by up to this fraction, at random | 0 |
/// | `half_open: {permits, successes, failure_rate}` | trials at once; successes to close; optional trial failure percentage that reopens | 1, 1, none |
/// | `trial_timeout` | seconds after which an unanswered trial counts as failed | 60 |
///
/// ```
/// use sluicegate::breaker::BreakerConfig;
/// use std::time::Duration;
/// use sluicegate_gateway::config::{Config, Plugin};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: circuit-breaker
///     config: {consecutive_failures: 5, open_for: 30, half_open: {permits: 1, successes: 2}}
/// "#, "inline")?;
/// let Plugin::CircuitBreaker(breaker) = &config.plugins[0] else { unreachable!() };
/// let expected = BreakerConfig::new()
///     .consecutive_failures(5)
///     .open_for(Duration::from_secs(30))
///     .half_open(1, 2);
/// assert_eq!(breaker.breaker, expected);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreakerPlugin {
    /// The configuration each service's breaker is built from; it is known to be valid.
    pub breaker: BreakerConfig,
}

/// Where each setting was given, to point an engine refusal at its line.
#[derive(Default)]
struct Origins<'a> {
    consecutive_failures: Option<At<'a>>,
    failure_rate: Option<At<'a>>,
    slow_calls: Option<At<'a>>,
    window: Option<At<'a>>,
    min_calls: Option<At<'a>>,
    open: Option<At<'a>>,
    jitter: Option<At<'a>>,
    half_open: Option<At<'a>>,
    trial_timeout: Option<At<'a>>,
}

impl CircuitBreakerPlugin {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let mut origins = Origins::default();
        let mut config = BreakerConfig::new();

        origins.consecutive_failures = f.get("consecutive_failures");
        if let Some(at) = &origins.consecutive_failures {
            config = config.consecutive_failures(at.integer(0..=u32::MAX)?);
        }
        origins.failure_rate = f.get("failure_rate");
        if let Some(at) = &origins.failure_rate {
            config = config.failure_rate(at.number()?);
        }
        origins.slow_calls = f.get("slow_calls");
        if let Some(at) = &origins.slow_calls {
            let mut slow = at.fields()?;
            let rate = slow.req("rate", At::number)?;
            let threshold = slow.req("threshold", seconds)?;
            slow.finish()?;
            config = config.slow_call_rate(rate, threshold);
        }
        if origins.consecutive_failures.is_none()
            && origins.failure_rate.is_none()
            && origins.slow_calls.is_none()
        {
            config = config.consecutive_failures(DEFAULT_CONSECUTIVE_FAILURES);
        }
        origins.window = f.get("window");
        if let Some(at) = &origins.window {
            config = decode_window(config, at)?;
        }
        origins.min_calls = f.get("min_calls");
        if let Some(at) = &origins.min_calls {
            config = config.min_calls(at.integer(0..=u32::MAX)?);
        }
        let open_for = f.get("open_for");
        let backoff = f.get("backoff");
        match (&open_for, &backoff) {
            (Some(_), Some(at)) => {
                return Err(at.invalid("give either `open_for` or `backoff`, not both"));
            }
            (Some(at), None) => config = config.open_for(seconds(at)?),
            (None, Some(at)) => config = config.backoff(decode_backoff(at)?),
            (None, None) => {}
        }
        origins.open = open_for.or(backoff);
        origins.jitter = f.get("jitter");
        if let Some(at) = &origins.jitter {
            config = config.jitter(at.number()?);
        }
        origins.half_open = f.get("half_open");
        if let Some(at) = &origins.half_open {
            let mut half = at.fields()?;
            let permits = half.or("permits", 1, |at| at.integer(0..=u32::MAX))?;
            let successes = half.or("successes", 1, |at| at.integer(0..=u32::MAX))?;
            let rate = half.opt("failure_rate", At::number)?;
            half.finish()?;
            config = config.half_open(permits, successes);
            if let Some(rate) = rate {
                config = config.half_open_failure_rate(rate);
            }
        }
        origins.trial_timeout = f.get("trial_timeout");
        if let Some(at) = &origins.trial_timeout {
            config = config.trial_timeout(seconds(at)?);
        }
        f.finish()?;
        match Breaker::new(config.clone()) {
            Ok(_) => Ok(CircuitBreakerPlugin { breaker: config }),
            Err(refusal) => {
                let blamed = origins.blame(&refusal).unwrap_or(at);
                Err(blamed.invalid(refusal.to_string()))
            }
        }
    }
}

impl<'a> Origins<'a> {
    /// The setting an engine refusal is about, when it was given.
    fn blame(&self, refusal: &ConfigError) -> Option<&At<'a>> {
        let rate = || self.failure_rate.as_ref().or(self.slow_calls.as_ref());
        match refusal {
            ConfigError::ConsecutiveFailures { .. } => self.consecutive_failures.as_ref(),
            ConfigError::Percent { setting, .. } => match *setting {
                "failure rate" => self.failure_rate.as_ref(),
                "slow-call rate" => self.slow_calls.as_ref(),
                _ => self.half_open.as_ref(),
            },
            ConfigError::ZeroDuration { setting } => match *setting {
                "slow-call threshold" => self.slow_calls.as_ref(),
                "trial timeout" => self.trial_timeout.as_ref(),
                _ => self.open.as_ref(),
            },
            ConfigError::RateWithoutWindow => rate(),
            ConfigError::WindowWithoutRate
            | ConfigError::CountWindow { .. }
            | ConfigError::Buckets { .. }
            | ConfigError::BucketWidth { .. } => self.window.as_ref(),
            ConfigError::MinCalls { .. } => self.min_calls.as_ref(),
            ConfigError::BackoffFactor { .. } | ConfigError::BackoffCap { .. } => {
                self.open.as_ref()
            }
            ConfigError::Jitter { .. } => self.jitter.as_ref(),
            ConfigError::HalfOpenPermits { .. } | ConfigError::HalfOpenSuccesses { .. } => {
                self.half_open.as_ref()
            }
            _ => None,
        }
    }
}

/// A duration in seconds, fractions allowed.
fn seconds(at: &At<'_>) -> Result<Duration> {
    let secs = at.number()?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| at.invalid(format!("{secs} is not a duration in seconds")))
}

/// `{calls: N}` or `{seconds: S, buckets: B}`.
fn decode_window(config: BreakerConfig, at: &At<'_>) -> Result<BreakerConfig> {
    let mut f = at.fields()?;
    let calls = f.opt("calls", |at| at.integer(0..=u32::MAX))?;
    let length = f.opt("seconds", seconds)?;
    let buckets = f.opt("buckets", |at| at.integer(0..=u32::MAX))?;
    f.finish()?;
    match (calls, length, buckets) {
        (Some(calls), None, None) => Ok(config.count_window(calls)),
        (None, Some(length), buckets) => Ok(config.time_window(length, buckets.unwrap_or(10))),
        _ => Err(at.invalid(
            "a window is either `{calls: N}` or `{seconds: S, buckets: B}` (buckets default 10)",
        )),
    }
}

/// `{base, factor, max}`: an exponential backoff in seconds.
fn decode_backoff(at: &At<'_>) -> Result<Backoff> {
    let mut f = at.fields()?;
    let base = f.req("base", seconds)?;
    let factor = f.or("factor", 2.0, At::number)?;
    let max = f.req("max", seconds)?;
    f.finish()?;
    Ok(Backoff::exponential(base, factor, max))
}
