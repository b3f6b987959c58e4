//! Windows: "at most `limit` cost units in any `duration`".

use std::time::Duration;

use crate::clock::{self, Tick};
use crate::limiter::ConfigError;

/// The largest limit a window may have.
///
/// Per-key usage is kept in 32 bits to keep every key's state small; four billion units per
/// window is room for request counts and for kilobyte quotas alike.
pub const MAX_LIMIT: u64 = u32::MAX as u64;

/// The longest window: 2^52 microseconds, a little over 142 years.
pub const MAX_DURATION: Duration = Duration::from_micros(1 << 52);

/// The most windows one limiter may combine.
pub const MAX_WINDOWS: usize = 8;

/// One sliding window: at most `limit` cost units admitted in any span of `duration`.
///
/// A request at time `now` is counted by the window while `now - duration < t <= now`, where
/// `t` is the time it was admitted; it leaves the window exactly `duration` after it arrived.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::Window;
/// let w = Window::per_minute(100);
/// assert_eq!(w.limit(), 100);
/// assert_eq!(w.duration(), Duration::from_secs(60));
/// assert_eq!(Window::new(5, Duration::from_millis(250)).duration(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    limit: u64,
    duration: Duration,
}

impl Window {
    /// `limit` units per `duration`. Checked when the limiter is built.
    pub const fn new(limit: u64, duration: Duration) -> Self {
        Self { limit, duration }
    }

    /// `limit` units per second.
    pub const fn per_second(limit: u64) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    /// `limit` units per minute.
    pub const fn per_minute(limit: u64) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    /// `limit` units per hour.
    pub const fn per_hour(limit: u64) -> Self {
        Self::new(limit, Duration::from_secs(3_600))
    }

    /// `limit` units per day (86,400 seconds).
    pub const fn per_day(limit: u64) -> Self {
        Self::new(limit, Duration::from_secs(86_400))
    }

    /// The most cost units the window admits.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// The length of the window.
    pub const fn duration(&self) -> Duration {
        self.duration
    }
}

/// A validated window in engine units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) limit: u32,
    pub(crate) ticks: Tick,
    /// Where the window stood in the caller's list, for [`Decision::window`](crate::Decision::window).
    pub(crate) index: u8,
}

/// Checks a set of windows and returns them in engine units, longest first.
///
/// Longest first is the order every per-key log keeps its cursors in, and the order ties are
/// broken in (a tie in remaining goes to the longer window).
pub(crate) fn validate(windows: &[Window]) -> Result<Vec<Span>, ConfigError> {
    if windows.is_empty() {
        return Err(ConfigError::NoWindows);
    }
    if windows.len() > MAX_WINDOWS {
        return Err(ConfigError::TooManyWindows {
            count: windows.len(),
            max: MAX_WINDOWS,
        });
    }
    let mut spans = Vec::with_capacity(windows.len());
    for (index, w) in windows.iter().enumerate() {
        if w.limit == 0 {
            return Err(ConfigError::ZeroLimit { index });
        }
        if w.limit > MAX_LIMIT {
            return Err(ConfigError::LimitTooLarge {
                index,
                limit: w.limit,
                max: MAX_LIMIT,
            });
        }
        if w.duration > MAX_DURATION {
            return Err(ConfigError::DurationTooLong {
                index,
                duration: w.duration,
                max: MAX_DURATION,
            });
        }
        let ticks = clock::ticks(w.duration).unwrap_or(Tick::MAX);
        if ticks == 0 {
            return Err(ConfigError::DurationTooShort {
                index,
                duration: w.duration,
            });
        }
        if w.duration.subsec_nanos() % 1_000 != 0 {
            return Err(ConfigError::SubTickDuration {
                index,
                duration: w.duration,
            });
        }
        if let Some(first) = windows[..index]
            .iter()
            .position(|o| o.duration == w.duration)
        {
            return Err(ConfigError::DuplicateWindow {
                first,
                second: index,
                duration: w.duration,
            });
        }
        spans.push(Span {
            limit: w.limit as u32,
            ticks,
            index: index as u8,
        });
    }
    spans.sort_by_key(|s| std::cmp::Reverse(s.ticks));
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_come_longest_first() {
        let spans = validate(&[
            Window::per_second(10),
            Window::per_hour(1000),
            Window::per_minute(100),
        ])
        .unwrap();
        let ticks: Vec<_> = spans.iter().map(|s| s.ticks).collect();
        assert_eq!(ticks, [3_600_000_000, 60_000_000, 1_000_000]);
    }

    #[test]
    fn bad_windows_are_refused() {
        let d = Duration::from_secs(1);
        assert_eq!(validate(&[]), Err(ConfigError::NoWindows));
        assert!(matches!(
            validate(&[Window::new(0, d)]),
            Err(ConfigError::ZeroLimit { index: 0 })
        ));
        assert!(matches!(
            validate(&[Window::new(MAX_LIMIT + 1, d)]),
            Err(ConfigError::LimitTooLarge { .. })
        ));
        assert!(matches!(
            validate(&[Window::new(1_000_000_000, Duration::from_nanos(1))]),
            Err(ConfigError::DurationTooShort { .. })
        ));
        assert!(matches!(
            validate(&[Window::new(1, Duration::from_nanos(1_500))]),
            Err(ConfigError::SubTickDuration { .. })
        ));
        assert!(matches!(
            validate(&[Window::new(1, Duration::MAX)]),
            Err(ConfigError::DurationTooLong { .. })
        ));
        assert!(matches!(
            validate(&[Window::new(1, d), Window::new(2, d)]),
            Err(ConfigError::DuplicateWindow {
                first: 0,
                second: 1,
                ..
            })
        ));
        assert!(matches!(
            validate(&[Window::per_second(1); 9]),
            Err(ConfigError::TooManyWindows { count: 9, .. })
        ));
    }
}
