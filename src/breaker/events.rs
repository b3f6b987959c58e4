//! Transitions, and their delivery to a listener: each exactly once, in generation order, and
//! never under a lock, so a listener may call back into the breaker.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::breaker::State;
use crate::clock::Tick;

/// Why a breaker changed state.
///
/// ```
/// use sluicegate::breaker::Cause;
/// assert_eq!(Cause::TrialTimeout.to_string(), "a trial went unreported past the trial timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// Closed -> Open: the run of consecutive failures reached its threshold.
    ConsecutiveFailures,
    /// Closed -> Open: the failure rate over the window reached its threshold.
    FailureRate,
    /// Closed -> Open: the slow-call rate over the window reached its threshold.
    SlowCallRate,
    /// Open -> HalfOpen: the open time passed and a caller arrived to probe.
    OpenElapsed,
    /// HalfOpen -> Closed: enough trials succeeded.
    TrialsSucceeded,
    /// HalfOpen -> Open: enough trials failed.
    TrialsFailed,
    /// HalfOpen -> Open: trials that went unreported past the trial timeout, counted as
    /// failed, made enough failures.
    TrialTimeout,
    /// Any -> ForcedOpen: [`force_open`](crate::breaker::Breaker::force_open).
    Forced,
    /// Any -> Disabled: [`disable`](crate::breaker::Breaker::disable).
    Disabled,
    /// Any -> Closed: [`reset`](crate::breaker::Breaker::reset).
    Reset,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ConsecutiveFailures => "consecutive failures reached the threshold",
            Self::FailureRate => "the failure rate reached the threshold",
            Self::SlowCallRate => "the slow-call rate reached the threshold",
            Self::OpenElapsed => "the open time passed",
            Self::TrialsSucceeded => "enough trials succeeded",
            Self::TrialsFailed => "enough trials failed",
            Self::TrialTimeout => "a trial went unreported past the trial timeout",
            Self::Forced => "forced open",
            Self::Disabled => "disabled",
            Self::Reset => "reset",
        })
    }
}

/// One change of state, as a listener receives it.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use sluicegate::breaker::{Breaker, BreakerConfig, Cause, State};
/// use sluicegate::clock::ManualClock;
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let breaker = Breaker::builder(BreakerConfig::new().consecutive_failures(1))
///     .clock(ManualClock::new(0))
///     .on_transition(move |t| log.lock().unwrap().push(*t))
///     .build()
///     .unwrap();
/// breaker.force_open();
/// let t = seen.lock().unwrap()[0];
/// assert_eq!((t.from, t.to, t.cause, t.generation), (State::Closed, State::ForcedOpen, Cause::Forced, 1));
/// assert_eq!(t.to_string(), "closed -> forced_open (forced open) at 0 us, generation 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Transition {
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// Why.
    pub cause: Cause,
    /// When, in the breaker's clock's ticks.
    pub at: Tick,
    /// The generation the breaker entered: one more than the previous transition's.
    pub generation: u64,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {} ({}) at {} us, generation {}",
            self.from, self.to, self.cause, self.at, self.generation
        )
    }
}

/// A function called with every transition.
pub(crate) type Listener = Arc<dyn Fn(&Transition) + Send + Sync>;

/// Transitions waiting for delivery, and the listener they go to.
///
/// Transitions are queued under the breaker's lock, so the queue is in generation order. After
/// releasing the lock, the thread that made a transition delivers the queue unless another
/// thread is already delivering, in which case that thread delivers this one too. A listener
/// that transitions the breaker from inside the callback therefore finds its own transition
/// delivered right after it returns, not recursively.
pub(crate) struct Events {
    listener: Option<Listener>,
    queue: Mutex<VecDeque<Transition>>,
    delivering: AtomicBool,
}

impl Events {
    pub(crate) fn new(listener: Option<Listener>) -> Self {
        Self {
            listener,
            queue: Mutex::new(VecDeque::new()),
            delivering: AtomicBool::new(false),
        }
    }

    /// Queues a transition; call under the breaker's lock.
    pub(crate) fn push(&self, transition: Transition) {
        if self.listener.is_some() {
            self.queue.lock().push_back(transition);
        }
    }

    /// Delivers queued transitions; call with no lock held.
    pub(crate) fn deliver(&self) {
        let Some(listener) = &self.listener else {
            return;
        };
        loop {
            if self
                .delivering
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                return; // the thread delivering will see our transitions
            }
            {
                // Releases the flag even if the listener panics, so delivery never wedges.
                let _flag = Release(&self.delivering);
                loop {
                    let next = self.queue.lock().pop_front();
                    match next {
                        Some(t) => listener(&t),
                        None => break,
                    }
                }
            }
            // A transition queued after our last look but before the flag dropped would
            // otherwise wait for the next transition: look once more.
            if self.queue.lock().is_empty() {
                return;
            }
        }
    }
}

struct Release<'a>(&'a AtomicBool);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("listener", &self.listener.is_some())
            .field("queued", &self.queue.lock().len())
            .finish()
    }
}
