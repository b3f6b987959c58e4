//! A lone circuit breaker's C interface: `sg_breaker`.

use std::ffi::c_void;
use std::sync::Arc;

use crate::breaker::{Breaker, Counters};
use crate::ffi::args::{Out, arg};
use crate::ffi::boundary::{boundary, guard};
use crate::ffi::breaker_config::sg_breaker_config;
use crate::ffi::events::{self, Userdata, sg_state, sg_transition_listener};
use crate::ffi::permit::sg_admission;
use crate::ffi::result::sg_result;
use crate::ffi::versioned;

/// What a breaker has counted since it was built. Counters only grow; once no permit is
/// outstanding, `permitted == successes + failures + ignored + stale`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct sg_breaker_counters {
    /// Calls admitted (permits handed out).
    pub permitted: u64,
    /// Calls rejected.
    pub rejected: u64,
    /// Successes recorded in the generation they were admitted in.
    pub successes: u64,
    /// Failures recorded in the generation they were admitted in.
    pub failures: u64,
    /// Permits recorded as ignored or freed unrecorded, in their generation.
    pub ignored: u64,
    /// Successes and failures that took at least the slow-call threshold.
    pub slow: u64,
    /// Permits that ended after their generation did, and so counted for nothing else.
    pub stale: u64,
    /// Half-open trials that went unreported past the trial timeout and counted as failed.
    pub trial_timeouts: u64,
}

impl From<Counters> for sg_breaker_counters {
    fn from(c: Counters) -> Self {
        Self {
            permitted: c.permitted,
            rejected: c.rejected,
            successes: c.successes,
            failures: c.failures,
            ignored: c.ignored,
            slow: c.slow,
            stale: c.stale,
            trial_timeouts: c.trial_timeouts,
        }
    }
}

/// A circuit breaker for one upstream, reading the library's monotonic clock.
///
/// Thread-safe: every function but `sg_breaker_free` may be called on one breaker from any
/// number of threads at once. Made by `sg_breaker_new`, owned by the caller, released by
/// `sg_breaker_free`; permits it handed out keep it alive until they are recorded or freed.
#[derive(Debug)]
pub struct sg_breaker {
    breaker: Arc<Breaker>,
}

/// Builds a breaker from `config` and stores it in `*out`. `listener`, if not NULL, is called
/// with `userdata` for every transition (see `sg_transition_listener`), until the breaker is
/// freed and its last permit is recorded or freed; `userdata` must stay valid that long.
///
/// Returns `SG_OK`; `SG_NULL_ARGUMENT`; `SG_UNSUPPORTED_STRUCT_SIZE`; or `SG_INVALID_CONFIG`,
/// with `sg_last_error` naming the setting. `*out` is written only on `SG_OK`.
///
/// # Safety
///
/// `config` must point to a `sg_breaker_config`; `out` must point to writable storage for a
/// pointer; `listener`, if not NULL, must be a function of that type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_new(
    config: *const sg_breaker_config,
    listener: sg_transition_listener,
    userdata: *mut c_void,
    out: *mut *mut sg_breaker,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (config, out) = unsafe { (versioned::read(config, "config")?, Out::new(out, "out")?) };
        let mut builder = Breaker::builder(config.resolve()?);
        if let Some(seed) = config.seed() {
            builder = builder.seed(seed);
        }
        if let Some(lanes) = config.lanes() {
            builder = builder.lanes(lanes);
        }
        if let Some(listener) = listener {
            builder = builder.on_transition(events::listener(listener, Userdata(userdata)));
        }
        let breaker = builder
            .build()
            .map_err(crate::ffi::boundary::Failure::config)?;
        out.write(Box::into_raw(Box::new(sg_breaker {
            breaker: Arc::new(breaker),
        })));
        Ok(())
    })
}

/// Releases the caller's hold on a breaker. Permits still outstanding keep it alive (and may
/// still be recorded) until each is recorded or freed. NULL is allowed and does nothing.
///
/// # Safety
///
/// `breaker` must come from `sg_breaker_new`, not be freed already, and no other thread may be
/// using it or use it afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_free(breaker: *mut sg_breaker) {
    boundary((), || {
        if !breaker.is_null() {
            // SAFETY: made by `Box::into_raw` in `sg_breaker_new`, released once.
            drop(unsafe { Box::from_raw(breaker) });
        }
    })
}

/// Asks to make one call. The answer goes to `*out`: a permit when admitted, the reason and
/// the time to wait when rejected. Closed and disabled breakers admit; an open one rejects
/// until its time is up, then turns half-open and admits this call as the first trial; a
/// half-open one admits while a trial slot is free; a forced-open one rejects.
///
/// Returns `SG_OK` for both answers, or `SG_NULL_ARGUMENT`. `*out` is written only on `SG_OK`.
///
/// # Safety
///
/// `breaker` must be a live breaker; `out` must point to a writable `sg_admission`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_acquire(
    breaker: *const sg_breaker,
    out: *mut sg_admission,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (breaker, out) = unsafe { (arg(breaker, "breaker")?, Out::new(out, "out")?) };
        out.write(sg_admission::new(breaker.breaker.try_acquire_owned()));
        Ok(())
    })
}

/// Stores the breaker's state in `*out`. It only reports: an open breaker whose time is up
/// says open until the next acquire. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breaker` must be a live breaker; `out` must point to a writable `sg_state`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_get_state(
    breaker: *const sg_breaker,
    out: *mut sg_state,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (breaker, out) = unsafe { (arg(breaker, "breaker")?, Out::new(out, "out")?) };
        out.write(breaker.breaker.state().into());
        Ok(())
    })
}

/// Stores the breaker's counters in `*out`. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breaker` must be a live breaker; `out` must point to a writable `sg_breaker_counters`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_get_counters(
    breaker: *const sg_breaker,
    out: *mut sg_breaker_counters,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (breaker, out) = unsafe { (arg(breaker, "breaker")?, Out::new(out, "out")?) };
        out.write(breaker.breaker.counters().into());
        Ok(())
    })
}

/// The shared body of the operator switches.
///
/// # Safety
///
/// As for `sg_breaker_force_open`.
unsafe fn switch(
    breaker: *const sg_breaker,
    out_changed: *mut bool,
    how: fn(&Breaker) -> bool,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let (breaker, out) = unsafe {
            (
                arg(breaker, "breaker")?,
                Out::new(out_changed, "out_changed")?,
            )
        };
        out.write(how(&breaker.breaker));
        Ok(())
    })
}

/// Holds the breaker open, rejecting every call, until `sg_breaker_reset` or
/// `sg_breaker_disable`. `*out_changed` is false if it was already forced open. Returns
/// `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breaker` must be a live breaker; `out_changed` must point to a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_force_open(
    breaker: *const sg_breaker,
    out_changed: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { switch(breaker, out_changed, Breaker::force_open) }
}

/// Admits every call and keeps counting, but never trips, until `sg_breaker_reset` or
/// `sg_breaker_force_open`. `*out_changed` is false if it was already disabled. Returns
/// `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// As for `sg_breaker_force_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_disable(
    breaker: *const sg_breaker,
    out_changed: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { switch(breaker, out_changed, Breaker::disable) }
}

/// Closes the breaker afresh from any state: a new generation (outstanding permits' outcomes
/// become stale), empty windows, the backoff back at its base. Counters keep their history.
/// Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breaker` must be a live breaker.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breaker_reset(breaker: *const sg_breaker) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        unsafe { arg(breaker, "breaker") }?.breaker.reset();
        Ok(())
    })
}
