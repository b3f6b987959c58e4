//! Kong's limit periods, as exact sliding windows.
//!
//! Kong counts in fixed calendar windows: a `minute: 100` limit resets at the top of every
//! minute, so a client may send 100 requests at 12:00:59 and 100 more at 12:01:00, 200 in
//! two seconds. Sluicegate's windows slide: at most 100 in *any* 60 seconds. `month` and `year`
//! are 30 and 365 days long, as a sliding window has no calendar to follow.

use std::time::Duration;

use http::header::HeaderName;
use sluicegate::Window;

/// One of Kong's rate-limiting periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// One second.
    Second,
    /// Sixty seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds.
    Day,
    /// Thirty days.
    Month,
    /// 365 days.
    Year,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Self; 6] = [
        Self::Second,
        Self::Minute,
        Self::Hour,
        Self::Day,
        Self::Month,
        Self::Year,
    ];

    /// The period's length.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate_gateway::limit::Period;
    /// assert_eq!(Period::Month.duration(), Duration::from_secs(30 * 86_400));
    /// ```
    pub const fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
            Self::Month => 30 * 86_400,
            Self::Year => 365 * 86_400,
        })
    }

    /// The name Kong's configuration uses (`minute`), also the IETF policy name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// `X-RateLimit-Limit-<Period>`.
    pub fn limit_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Self::Second => "x-ratelimit-limit-second",
            Self::Minute => "x-ratelimit-limit-minute",
            Self::Hour => "x-ratelimit-limit-hour",
            Self::Day => "x-ratelimit-limit-day",
            Self::Month => "x-ratelimit-limit-month",
            Self::Year => "x-ratelimit-limit-year",
        })
    }

    /// `X-RateLimit-Remaining-<Period>`.
    pub fn remaining_header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Self::Second => "x-ratelimit-remaining-second",
            Self::Minute => "x-ratelimit-remaining-minute",
            Self::Hour => "x-ratelimit-remaining-hour",
            Self::Day => "x-ratelimit-remaining-day",
            Self::Month => "x-ratelimit-remaining-month",
            Self::Year => "x-ratelimit-remaining-year",
        })
    }

    /// The engine window for `limit` requests per this period.
    pub fn window(self, limit: u64) -> Window {
        Window::new(limit, self.duration())
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whole seconds, rounded up: a client told to wait this long is never early.
///
/// ```
/// use std::time::Duration;
/// use sluicegate_gateway::limit::period::ceil_secs;
/// assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
/// assert_eq!(ceil_secs(Duration::from_secs(2)), 2);
/// assert_eq!(ceil_secs(Duration::from_millis(2_001)), 3);
/// ```
pub fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}
