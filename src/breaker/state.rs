//! The breaker's states, and the atomic word that holds the current one.
//!
//! One `u64` carries everything the Closed path needs to read: the state, the generation
//! (bumped by every transition) and the run of consecutive failures. Admissions load it once;
//! outcomes compare-and-swap it only when the failure run changes.

use std::fmt;

/// Where a breaker stands.
///
/// ```
/// use sluicegate::breaker::{Breaker, BreakerConfig, State};
/// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(3)).unwrap();
/// assert_eq!(breaker.state(), State::Closed);
/// breaker.force_open();
/// assert_eq!(breaker.state(), State::ForcedOpen);
/// assert!(!breaker.state().admits());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum State {
    /// Calls pass; outcomes are measured against the trip policies.
    Closed = 0,
    /// Calls are rejected until the open duration has passed.
    Open = 1,
    /// A bounded number of trial calls pass; their outcomes decide between Closed and Open.
    HalfOpen = 2,
    /// Held open by an operator: every call is rejected until [`reset`] or [`disable`].
    ///
    /// [`reset`]: crate::breaker::Breaker::reset
    /// [`disable`]: crate::breaker::Breaker::disable
    ForcedOpen = 3,
    /// Switched off by an operator: every call passes and outcomes are counted, but nothing
    /// trips, until [`reset`] or [`force_open`].
    ///
    /// [`reset`]: crate::breaker::Breaker::reset
    /// [`force_open`]: crate::breaker::Breaker::force_open
    Disabled = 4,
}

impl State {
    /// Whether calls can pass in this state (in HalfOpen, only while a trial slot is free).
    ///
    /// ```
    /// use sluicegate::breaker::State;
    /// assert!(State::HalfOpen.admits());
    /// assert!(!State::Open.admits());
    /// ```
    pub fn admits(self) -> bool {
        matches!(self, Self::Closed | Self::HalfOpen | Self::Disabled)
    }

    /// The state's name, as an operator would write it in a log line.
    ///
    /// ```
    /// use sluicegate::breaker::State;
    /// assert_eq!(State::HalfOpen.as_str(), "half_open");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
            Self::ForcedOpen => "forced_open",
            Self::Disabled => "disabled",
        }
    }

    fn from_bits(bits: u64) -> Self {
        match bits {
            0 => Self::Closed,
            1 => Self::Open,
            2 => Self::HalfOpen,
            3 => Self::ForcedOpen,
            _ => Self::Disabled,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const STATE_BITS: u32 = 3;
const STREAK_BITS: u32 = 16;
const STREAK_SHIFT: u32 = STATE_BITS;
const GENERATION_SHIFT: u32 = STATE_BITS + STREAK_BITS;
const STATE_MASK: u64 = (1 << STATE_BITS) - 1;
const STREAK_MASK: u64 = ((1 << STREAK_BITS) - 1) << STREAK_SHIFT;

/// The longest run of consecutive failures the state word can count, and so the largest
/// consecutive-failures threshold a breaker accepts.
pub const MAX_CONSECUTIVE_FAILURES: u32 = (1 << STREAK_BITS) - 1;

/// Generations wrap after 2^45 transitions: at a million transitions a second, after a year.
const GENERATION_MASK: u64 = u64::MAX >> GENERATION_SHIFT;

/// A snapshot of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    pub(crate) fn new(state: State, generation: u64) -> Self {
        Self(((generation & GENERATION_MASK) << GENERATION_SHIFT) | state as u64)
    }

    #[inline]
    pub(crate) fn state(self) -> State {
        State::from_bits(self.0 & STATE_MASK)
    }

    #[inline]
    pub(crate) fn generation(self) -> u64 {
        self.0 >> GENERATION_SHIFT
    }

    /// The current run of consecutive failures (meaningful while Closed).
    #[inline]
    pub(crate) fn streak(self) -> u32 {
        ((self.0 & STREAK_MASK) >> STREAK_SHIFT) as u32
    }

    /// The same word with the failure run set to `streak` (at most the field's maximum).
    #[inline]
    pub(crate) fn with_streak(self, streak: u32) -> Self {
        let streak = u64::from(streak.min(MAX_CONSECUTIVE_FAILURES));
        Self((self.0 & !STREAK_MASK) | (streak << STREAK_SHIFT))
    }

    /// The word after a transition to `to`: the next generation, no failure run.
    pub(crate) fn next(self, to: State) -> Self {
        Self::new(to, self.generation().wrapping_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_without_disturbing_each_other() {
        let w = Word::new(State::HalfOpen, 12345).with_streak(77);
        assert_eq!(w.state(), State::HalfOpen);
        assert_eq!(w.generation(), 12345);
        assert_eq!(w.streak(), 77);
        let n = w.next(State::Open);
        assert_eq!(
            (n.state(), n.generation(), n.streak()),
            (State::Open, 12346, 0)
        );
        assert_eq!(w.with_streak(u32::MAX).streak(), MAX_CONSECUTIVE_FAILURES);
        assert_eq!(w.with_streak(u32::MAX).generation(), 12345);
    }

    #[test]
    fn generations_wrap_inside_their_field() {
        let w = Word::new(State::Closed, GENERATION_MASK);
        assert_eq!(w.next(State::Open).generation(), 0);
        assert_eq!(w.next(State::Open).state(), State::Open);
    }
}
