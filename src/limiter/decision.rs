//! The answer to a check.

use std::fmt;
use std::time::Duration;

use crate::clock::{self, Tick};
use crate::limiter::window::MAX_WINDOWS;

/// What the limiter decided for one request, and the numbers a client needs to behave well.
///
/// All numbers describe the *binding* window: the one with the least remaining (ties go to the
/// longer window). On an admitted request they already count the request itself.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::{clock::ManualClock, Limiter, Window};
/// let clock = ManualClock::new(0);
/// let limiter = Limiter::builder()
///     .window(Window::per_second(2))
///     .clock(clock.clone())
///     .build()
///     .unwrap();
/// let d = limiter.check("k").unwrap();
/// assert!(d.allowed());
/// assert_eq!((d.limit(), d.remaining()), (2, 1));
/// assert_eq!(d.reset_after(), Duration::from_secs(1));
/// clock.advance(Duration::from_millis(400));
/// limiter.check("k").unwrap();
/// let d = limiter.check("k").unwrap();
/// assert!(!d.allowed());
/// // The first request leaves the window 600 ms from now.
/// assert_eq!(d.retry_after(), Duration::from_millis(600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decision {
    pub(crate) allowed: bool,
    pub(crate) window: u8,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_after: Tick,
    pub(crate) retry_after: Tick,
}

impl Decision {
    /// Whether the request was admitted (and, for a check, recorded).
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The limit of the binding window.
    pub fn limit(&self) -> u64 {
        u64::from(self.limit)
    }

    /// Units still available in the binding window, after this request if it was admitted.
    pub fn remaining(&self) -> u64 {
        u64::from(self.remaining)
    }

    /// Index, in the order given to the builder, of the binding window.
    pub fn window(&self) -> usize {
        usize::from(self.window)
    }

    /// Time until the binding window's remaining next grows; zero if the window is empty.
    pub fn reset_after(&self) -> Duration {
        clock::duration(self.reset_after)
    }

    /// [`reset_after`](Self::reset_after) in ticks (microseconds).
    pub fn reset_after_ticks(&self) -> Tick {
        self.reset_after
    }

    /// For a rejection, the exact wait after which the same request is admitted if nothing else
    /// arrives: waiting this long succeeds, one tick less does not. Zero when admitted.
    pub fn retry_after(&self) -> Duration {
        clock::duration(self.retry_after)
    }

    /// [`retry_after`](Self::retry_after) in ticks (microseconds).
    pub fn retry_after_ticks(&self) -> Tick {
        self.retry_after
    }
}

/// What every window of a limiter has left after one check, in the order the windows were given
/// to the builder; see [`Limiter::check_each`](crate::Limiter::check_each).
///
/// Like [`Decision::remaining`], the figures count the request itself when it was admitted.
///
/// ```
/// use sluicegate::{Limiter, Window};
/// let limiter = Limiter::builder()
///     .window(Window::per_minute(2))
///     .window(Window::per_second(1))
///     .build()
///     .unwrap();
/// let (_, remaining) = limiter.check_each("k", 1).unwrap();
/// assert_eq!(remaining.iter().collect::<Vec<_>>(), [1, 0]);
/// assert_eq!(remaining.len(), 2);
/// assert_eq!(remaining.get(2), None);
/// // Shown as the list of figures, one per window.
/// assert_eq!(format!("{remaining:?}"), "[1, 0]");
/// ```
// Equality and hashing may look at the whole array: slots past `len` are always zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Remaining {
    pub(crate) counts: [u32; MAX_WINDOWS],
    len: u8,
}

impl Remaining {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            counts: [0; MAX_WINDOWS],
            // At most MAX_WINDOWS, checked when the limiter was built.
            len: len as u8,
        }
    }

    /// Units left in window `index` (in the builder's order), or `None` past the last window.
    pub fn get(&self, index: usize) -> Option<u64> {
        self.as_slice().get(index).map(|&n| u64::from(n))
    }

    /// The figures as a slice, one per window.
    pub fn as_slice(&self) -> &[u32] {
        &self.counts[..usize::from(self.len)]
    }

    /// The figures, one per window.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.as_slice().iter().map(|&n| u64::from(n))
    }

    /// How many windows there are.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no windows (never true of a built limiter's result).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for Remaining {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}
