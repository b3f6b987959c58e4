//! What can go wrong building a limiter or checking a key.

use std::fmt;
use std::time::Duration;

/// A limiter configuration the engine refuses, with the reason.
///
/// Window indexes refer to the order the windows were given in.
///
/// ```
/// use sluicegate::{ConfigError, Limiter, Window};
/// let err = Limiter::builder().window(Window::per_second(0)).build().unwrap_err();
/// assert_eq!(err, ConfigError::ZeroLimit { index: 0 });
/// assert_eq!(err.to_string(), "window 0: the limit must be at least 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's text names its fields
pub enum ConfigError {
    /// No window was given.
    NoWindows,
    /// More windows than [`MAX_WINDOWS`](crate::limiter::MAX_WINDOWS).
    TooManyWindows { count: usize, max: usize },
    /// A window with limit 0 would refuse everything.
    ZeroLimit { index: usize },
    /// A window's limit is above [`MAX_LIMIT`](crate::limiter::MAX_LIMIT).
    LimitTooLarge { index: usize, limit: u64, max: u64 },
    /// A window shorter than one tick (one microsecond).
    DurationTooShort { index: usize, duration: Duration },
    /// A window that is not a whole number of microseconds.
    SubTickDuration { index: usize, duration: Duration },
    /// A window longer than [`MAX_DURATION`](crate::limiter::MAX_DURATION).
    DurationTooLong {
        index: usize,
        duration: Duration,
        max: Duration,
    },
    /// Two windows of the same length.
    DuplicateWindow {
        first: usize,
        second: usize,
        duration: Duration,
    },
    /// A shard count that is zero, not a power of two, or above the maximum.
    BadShardCount { shards: usize, max: usize },
    /// `max_keys` of zero, or too large for the shard count.
    BadMaxKeys { max_keys: usize, max: usize },
    /// A maximum key length of zero or above the maximum.
    BadMaxKeyLen { max_key_len: usize, max: usize },
    /// A store's key time-to-live shorter than its longest window, which would forget requests
    /// still inside it.
    KeyTtlTooShort { ttl: Duration, longest: Duration },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoWindows => f.write_str("a limiter needs at least one window"),
            Self::TooManyWindows { count, max } => {
                write!(f, "{count} windows given; a limiter combines at most {max}")
            }
            Self::ZeroLimit { index } => write!(f, "window {index}: the limit must be at least 1"),
            Self::LimitTooLarge { index, limit, max } => {
                write!(
                    f,
                    "window {index}: limit {limit} is above the maximum {max}"
                )
            }
            Self::DurationTooShort { index, duration } => write!(
                f,
                "window {index}: {duration:?} is shorter than the engine's tick of 1 microsecond"
            ),
            Self::SubTickDuration { index, duration } => write!(
                f,
                "window {index}: {duration:?} is not a whole number of microseconds"
            ),
            Self::DurationTooLong {
                index,
                duration,
                max,
            } => write!(
                f,
                "window {index}: {duration:?} is longer than the maximum {max:?}"
            ),
            Self::DuplicateWindow {
                first,
                second,
                duration,
            } => write!(f, "windows {first} and {second} are both {duration:?} long"),
            Self::BadShardCount { shards, max } => write!(
                f,
                "shard count {shards} must be a power of two between 1 and {max}"
            ),
            Self::BadMaxKeys { max_keys, max } => {
                write!(f, "max_keys {max_keys} must be between 1 and {max}")
            }
            Self::BadMaxKeyLen { max_key_len, max } => {
                write!(f, "max_key_len {max_key_len} must be between 1 and {max}")
            }
            Self::KeyTtlTooShort { ttl, longest } => write!(
                f,
                "key time-to-live {ttl:?} is shorter than the longest window, {longest:?}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a check could not be decided. Distinct from a rejection: a rejected request may
/// succeed later, while these never will as asked.
///
/// ```
/// use sluicegate::{CheckError, Limiter, Window};
/// let limiter = Limiter::builder().window(Window::per_minute(5)).build().unwrap();
/// let err = limiter.check_n("client", 10).unwrap_err();
/// assert_eq!(err, CheckError::CostExceedsLimit { cost: 10, limit: 5 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's text names its fields
pub enum CheckError {
    /// A cost of zero: every request costs at least one unit.
    ZeroCost,
    /// The cost is above the smallest window limit (`limit`), so no amount of waiting admits it.
    CostExceedsLimit { cost: u64, limit: u64 },
    /// The key is longer than the limiter's `max_key_len`.
    KeyTooLong { len: usize, max: usize },
    /// The limiter holds `max_keys` keys, none could be reclaimed, and the policy is
    /// [`FullPolicy::RejectNewKeys`](crate::FullPolicy::RejectNewKeys).
    KeysExhausted { max_keys: usize },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroCost => f.write_str("a request must cost at least 1"),
            Self::CostExceedsLimit { cost, limit } => write!(
                f,
                "cost {cost} is above the limit {limit} of a window, so it can never be admitted"
            ),
            Self::KeyTooLong { len, max } => {
                write!(f, "key of {len} bytes is longer than the maximum {max}")
            }
            Self::KeysExhausted { max_keys } => write!(
                f,
                "the limiter already tracks its maximum of {max_keys} keys and admits no new one"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// Refuses a request no limiter can decide, before any state is touched: a zero cost, a cost
/// above the smallest limit (`min_limit`), or a key longer than `max_key_len`. Every store
/// refuses the same requests with the same errors.
#[inline]
pub(crate) fn vet_request(
    key: &[u8],
    cost: u64,
    min_limit: u32,
    max_key_len: usize,
) -> Result<(), CheckError> {
    if cost == 0 {
        return Err(CheckError::ZeroCost);
    }
    if cost > u64::from(min_limit) {
        return Err(CheckError::CostExceedsLimit {
            cost,
            limit: u64::from(min_limit),
        });
    }
    if key.len() > max_key_len {
        return Err(CheckError::KeyTooLong {
            len: key.len(),
            max: max_key_len,
        });
    }
    Ok(())
}
