//! Why a Redis-backed check was not decided.

use std::fmt;

use crate::CheckError;

/// Why [`RedisLimiter`](super::RedisLimiter) could not decide a request.
///
/// [`Check`](Self::Check) is the request's fault and is reported before any round trip, exactly
/// as the local [`Limiter`](crate::Limiter) would; the others are the store's, and a host
/// usually answers them by deciding locally or failing open
/// ([`is_store_failure`](Self::is_store_failure)).
///
/// ```
/// use sluicegate::CheckError;
/// use sluicegate::redis::StoreError;
/// let bad_input = StoreError::Check(CheckError::ZeroCost);
/// assert!(!bad_input.is_store_failure());
/// assert_eq!(bad_input.to_string(), "a request must cost at least 1");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The request itself cannot be decided by any store (zero cost, cost above a limit, key too
    /// long). Nothing was sent.
    Check(CheckError),
    /// A time passed to a `*_at` method is past [`MAX_TIME`](super::MAX_TIME).
    TimeOutOfRange {
        /// The time given, in microseconds since the Unix epoch.
        now: u64,
    },
    /// The connection failed, timed out, or the server refused the command.
    Redis(redis::RedisError),
    /// The server answered something the script never returns (another program wrote the key?).
    Reply(String),
}

impl StoreError {
    /// Whether the store, not the request, is at fault: the same request may succeed later or
    /// elsewhere.
    pub fn is_store_failure(&self) -> bool {
        matches!(self, Self::Redis(_) | Self::Reply(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Check(e) => e.fmt(f),
            Self::TimeOutOfRange { now } => write!(
                f,
                "time {now} us is past the latest a Redis store can compute with exactly ({} us)",
                super::MAX_TIME
            ),
            Self::Redis(e) => write!(f, "redis: {e}"),
            Self::Reply(what) => write!(f, "unexpected reply from redis: {what}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Check(e) => Some(e),
            Self::Redis(e) => Some(e),
            Self::TimeOutOfRange { .. } | Self::Reply(_) => None,
        }
    }
}

impl From<CheckError> for StoreError {
    fn from(e: CheckError) -> Self {
        Self::Check(e)
    }
}

impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> Self {
        Self::Redis(e)
    }
}
