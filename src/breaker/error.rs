//! What can be wrong with a breaker's or a registry's configuration, and why a keyed admission
//! can fail for reasons other than the circuit.

use std::fmt;
use std::time::Duration;

use crate::breaker::Rejected;

/// A breaker or registry configuration the engine refuses, with the reason.
///
/// ```
/// use sluicegate::breaker::{Breaker, BreakerConfig, ConfigError};
/// let err = Breaker::new(BreakerConfig::new()).unwrap_err();
/// assert_eq!(err, ConfigError::NoTripPolicy);
/// let err = Breaker::new(BreakerConfig::new().failure_rate(50.0)).unwrap_err();
/// assert_eq!(err, ConfigError::RateWithoutWindow);
/// assert_eq!(
///     err.to_string(),
///     "a failure-rate or slow-call-rate policy needs a count or time window"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's text names its fields
pub enum ConfigError {
    /// No trip policy: the breaker could never open by itself.
    NoTripPolicy,
    /// A consecutive-failures threshold of zero or above the maximum.
    ConsecutiveFailures { threshold: u32, max: u32 },
    /// A percentage that is not a number in (0, 100].
    Percent { setting: &'static str, percent: f64 },
    /// A rate policy without a window to measure the rate over.
    RateWithoutWindow,
    /// A window without a rate policy to use it.
    WindowWithoutRate,
    /// A count window of zero calls or above the maximum.
    CountWindow { calls: u32, max: u32 },
    /// A time window with zero buckets or more than the maximum.
    Buckets { buckets: u32, max: u32 },
    /// A time window that is not a whole, non-zero number of microseconds per bucket.
    BucketWidth { duration: Duration, buckets: u32 },
    /// A minimum number of calls of zero, or above the count window's size.
    MinCalls { min_calls: u32, max: u32 },
    /// A duration that must be at least one microsecond.
    ZeroDuration { setting: &'static str },
    /// An exponential backoff factor that is not a finite number of at least 1.
    BackoffFactor { factor: f64 },
    /// An exponential backoff whose cap is below its base.
    BackoffCap { base: Duration, max: Duration },
    /// A jitter fraction that is not a number in [0, 1].
    Jitter { fraction: f64 },
    /// A number of half-open trial permits of zero or above the maximum.
    HalfOpenPermits { permits: u32, max: u32 },
    /// A number of half-open successes to close of zero or above the maximum.
    HalfOpenSuccesses { successes: u32, max: u32 },
    /// A number of counter lanes that is zero, not a power of two, or above the maximum.
    Lanes { lanes: usize, max: usize },
    /// A registry shard count that is zero, not a power of two, or above the maximum.
    Shards { shards: usize, max: usize },
    /// A registry `max_keys` of zero or too large.
    MaxKeys { max_keys: usize, max: usize },
    /// A registry maximum key length of zero or above the maximum.
    MaxKeyLen { max_key_len: usize, max: usize },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTripPolicy => f.write_str(
                "a breaker needs at least one trip policy (consecutive failures, failure rate \
                 or slow-call rate)",
            ),
            Self::ConsecutiveFailures { threshold, max } => write!(
                f,
                "consecutive-failures threshold {threshold} must be between 1 and {max}"
            ),
            Self::Percent { setting, percent } => {
                write!(f, "{setting} {percent}% must be above 0 and at most 100")
            }
            Self::RateWithoutWindow => {
                f.write_str("a failure-rate or slow-call-rate policy needs a count or time window")
            }
            Self::WindowWithoutRate => f.write_str(
                "a window is only used by a failure-rate or slow-call-rate policy; none is set",
            ),
            Self::CountWindow { calls, max } => {
                write!(
                    f,
                    "count window of {calls} calls must be between 1 and {max}"
                )
            }
            Self::Buckets { buckets, max } => {
                write!(
                    f,
                    "time window of {buckets} buckets must have between 1 and {max}"
                )
            }
            Self::BucketWidth { duration, buckets } => write!(
                f,
                "time window {duration:?} does not split into {buckets} buckets of a whole, \
                 non-zero number of microseconds"
            ),
            Self::MinCalls { min_calls, max } => {
                write!(f, "min_calls {min_calls} must be between 1 and {max}")
            }
            Self::ZeroDuration { setting } => {
                write!(f, "{setting} must be at least one microsecond")
            }
            Self::BackoffFactor { factor } => {
                write!(
                    f,
                    "backoff factor {factor} must be a finite number of at least 1"
                )
            }
            Self::BackoffCap { base, max } => {
                write!(f, "backoff cap {max:?} is below its base {base:?}")
            }
            Self::Jitter { fraction } => {
                write!(f, "jitter fraction {fraction} must be between 0 and 1")
            }
            Self::HalfOpenPermits { permits, max } => write!(
                f,
                "half-open trial permits {permits} must be between 1 and {max}"
            ),
            Self::HalfOpenSuccesses { successes, max } => write!(
                f,
                "half-open successes to close {successes} must be between 1 and {max}"
            ),
            Self::Lanes { lanes, max } => write!(
                f,
                "counter lanes {lanes} must be a power of two between 1 and {max}"
            ),
            Self::Shards { shards, max } => write!(
                f,
                "shard count {shards} must be a power of two between 1 and {max}"
            ),
            Self::MaxKeys { max_keys, max } => {
                write!(f, "max_keys {max_keys} must be between 1 and {max}")
            }
            Self::MaxKeyLen { max_key_len, max } => {
                write!(f, "max_key_len {max_key_len} must be between 1 and {max}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a registry could not hand out a permit for a key.
///
/// Only [`Open`](KeyedError::Open) is about the upstream's health; the others are about the
/// key or the registry, and map to different responses in a gateway.
///
/// ```
/// use sluicegate::breaker::{BreakerConfig, Breakers, KeyedError};
/// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(1))
///     .max_key_len(4)
///     .build()
///     .unwrap();
/// let err = breakers.try_acquire("too-long-a-host").unwrap_err();
/// assert_eq!(err, KeyedError::KeyTooLong { len: 15, max: 4 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's text names its fields
pub enum KeyedError {
    /// The key's breaker rejected the call.
    Open(Rejected),
    /// The key is longer than the registry's `max_key_len`.
    KeyTooLong { len: usize, max: usize },
    /// The key is new, the registry already holds `max_keys` breakers, and none of those it
    /// examined was idle enough to reclaim.
    Full { max_keys: usize },
}

impl fmt::Display for KeyedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(rejected) => rejected.fmt(f),
            Self::KeyTooLong { len, max } => {
                write!(f, "key of {len} bytes is longer than the maximum {max}")
            }
            Self::Full { max_keys } => write!(
                f,
                "the registry already holds its maximum of {max_keys} breakers and none is idle"
            ),
        }
    }
}

impl std::error::Error for KeyedError {}

impl From<Rejected> for KeyedError {
    fn from(rejected: Rejected) -> Self {
        Self::Open(rejected)
    }
}
