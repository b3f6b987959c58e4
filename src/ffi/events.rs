//! Breaker states and transitions as C sees them, and the adapters that call a C listener.

use std::ffi::c_void;

use crate::breaker::{Cause, State, Transition};

/// Where a breaker stands.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_state {
    /// Calls pass; outcomes are measured against the trip policies.
    SG_STATE_CLOSED = 0,
    /// Calls are rejected until the open time has passed.
    SG_STATE_OPEN = 1,
    /// A bounded number of trial calls pass; their outcomes decide between closed and open.
    SG_STATE_HALF_OPEN = 2,
    /// Held open by an operator until reset or disabled.
    SG_STATE_FORCED_OPEN = 3,
    /// Switched off by an operator: every call passes and is counted, nothing trips.
    SG_STATE_DISABLED = 4,
}

impl From<State> for sg_state {
    fn from(state: State) -> Self {
        match state {
            State::Closed => Self::SG_STATE_CLOSED,
            State::Open => Self::SG_STATE_OPEN,
            State::HalfOpen => Self::SG_STATE_HALF_OPEN,
            State::ForcedOpen => Self::SG_STATE_FORCED_OPEN,
            State::Disabled => Self::SG_STATE_DISABLED,
        }
    }
}

/// Why a breaker changed state.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_cause {
    /// Closed to open: the run of consecutive failures reached its threshold.
    SG_CAUSE_CONSECUTIVE_FAILURES = 0,
    /// Closed to open: the failure rate over the window reached its threshold.
    SG_CAUSE_FAILURE_RATE = 1,
    /// Closed to open: the slow-call rate over the window reached its threshold.
    SG_CAUSE_SLOW_CALL_RATE = 2,
    /// Open to half-open: the open time passed and a caller arrived to probe.
    SG_CAUSE_OPEN_ELAPSED = 3,
    /// Half-open to closed: enough trials succeeded.
    SG_CAUSE_TRIALS_SUCCEEDED = 4,
    /// Half-open to open: enough trials failed.
    SG_CAUSE_TRIALS_FAILED = 5,
    /// Half-open to open: trials unreported past the trial timeout made enough failures.
    SG_CAUSE_TRIAL_TIMEOUT = 6,
    /// Any state to forced open, by `sg_breaker_force_open`.
    SG_CAUSE_FORCED = 7,
    /// Any state to disabled, by `sg_breaker_disable`.
    SG_CAUSE_DISABLED = 8,
    /// Any state to closed, by `sg_breaker_reset`.
    SG_CAUSE_RESET = 9,
}

impl From<Cause> for sg_cause {
    fn from(cause: Cause) -> Self {
        match cause {
            Cause::ConsecutiveFailures => Self::SG_CAUSE_CONSECUTIVE_FAILURES,
            Cause::FailureRate => Self::SG_CAUSE_FAILURE_RATE,
            Cause::SlowCallRate => Self::SG_CAUSE_SLOW_CALL_RATE,
            Cause::OpenElapsed => Self::SG_CAUSE_OPEN_ELAPSED,
            Cause::TrialsSucceeded => Self::SG_CAUSE_TRIALS_SUCCEEDED,
            Cause::TrialsFailed => Self::SG_CAUSE_TRIALS_FAILED,
            Cause::TrialTimeout => Self::SG_CAUSE_TRIAL_TIMEOUT,
            Cause::Forced => Self::SG_CAUSE_FORCED,
            Cause::Disabled => Self::SG_CAUSE_DISABLED,
            Cause::Reset => Self::SG_CAUSE_RESET,
        }
    }
}

/// One change of state, as a listener receives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct sg_transition {
    /// The state left.
    pub from: sg_state,
    /// The state entered.
    pub to: sg_state,
    /// Why.
    pub cause: sg_cause,
    /// When, in microseconds of the library's monotonic clock (its origin is the breaker's or
    /// registry's creation).
    pub at_us: u64,
    /// The generation entered: one more than the previous transition's.
    pub generation: u64,
}

impl From<&Transition> for sg_transition {
    fn from(t: &Transition) -> Self {
        Self {
            from: t.from.into(),
            to: t.to.into(),
            cause: t.cause.into(),
            at_us: t.at,
            generation: t.generation,
        }
    }
}

/// Called once for every transition of a breaker, in generation order, with the `userdata`
/// given at creation and a transition valid only during the call.
///
/// It runs on whichever thread is delivering transitions (not always the one whose call
/// caused it), with no lock held, so it may call back into the breaker. It must not unwind
/// (no C++ exception, no `longjmp` out of it), and `userdata` must be safe to use from any
/// thread.
pub type sg_transition_listener =
    Option<unsafe extern "C" fn(userdata: *mut c_void, transition: *const sg_transition)>;

/// `sg_transition_listener` for a registry: also given the `key_len` bytes of the breaker's
/// key at `key`, valid only during the call.
pub type sg_keyed_transition_listener = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const u8,
        key_len: usize,
        transition: *const sg_transition,
    ),
>;

/// The host's `userdata`, which the host promises may be used from any thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Userdata(pub(crate) *mut c_void);

impl Userdata {
    /// The pointer, taken through a method so closures capture the whole `Userdata`.
    fn get(self) -> *mut c_void {
        self.0
    }
}

// SAFETY: the listener's documented contract makes `userdata` thread-safe.
unsafe impl Send for Userdata {}
// SAFETY: as above.
unsafe impl Sync for Userdata {}

/// A closure calling `listener` with `userdata` for each transition.
pub(crate) fn listener(
    listener: unsafe extern "C" fn(*mut c_void, *const sg_transition),
    userdata: Userdata,
) -> impl Fn(&Transition) + Send + Sync + 'static {
    move |t| {
        let transition = sg_transition::from(t);
        // SAFETY: the host gave this function for exactly this call.
        unsafe { listener(userdata.get(), &transition) }
    }
}

/// A closure calling a keyed `listener` with `userdata` for each transition.
pub(crate) fn keyed_listener(
    listener: unsafe extern "C" fn(*mut c_void, *const u8, usize, *const sg_transition),
    userdata: Userdata,
) -> impl Fn(&[u8], &Transition) + Send + Sync + 'static {
    move |key, t| {
        let transition = sg_transition::from(t);
        // SAFETY: the host gave this function for exactly this call.
        unsafe { listener(userdata.get(), key.as_ptr(), key.len(), &transition) }
    }
}
