//! Admissions as C sees them: the permit a caller holds while its call runs, the rejection it
//! gets instead, and reporting the call's outcome.

use std::time::Duration;

use crate::breaker::{Outcome, Permit, Recorded, RejectReason, Rejected};
use crate::ffi::boundary::{Failure, boundary, guard};
use crate::ffi::result::sg_result;

/// How a call ended, as the caller classifies it. Classify by whose fault it was: an upstream
/// that is down, overloaded or timing out is a failure; a client's mistake (a 404, a 400) is
/// a success or ignored, or one client's bad requests would open the circuit for everyone.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_outcome {
    /// The upstream did its job.
    SG_OUTCOME_SUCCESS = 0,
    /// The upstream failed.
    SG_OUTCOME_FAILURE = 1,
    /// Says nothing about the upstream (the client went away, the call was cancelled).
    SG_OUTCOME_IGNORED = 2,
}

/// Why a call was rejected.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_reject_reason {
    /// Not rejected: the admission holds a permit.
    SG_REJECT_NONE = 0,
    /// The circuit is open.
    SG_REJECT_OPEN = 1,
    /// The circuit is half-open and every trial slot is taken.
    SG_REJECT_HALF_OPEN_FULL = 2,
    /// An operator forced the circuit open.
    SG_REJECT_FORCED_OPEN = 3,
}

/// `retry_after_us` of a rejection whose reason does not end by the clock alone (forced open).
pub(crate) const NO_RETRY_TIME: u64 = u64::MAX;

/// The answer to an admission: a permit, or a rejection with its reason. Both are `SG_OK`.
#[repr(C)]
#[derive(Debug)]
pub struct sg_admission {
    /// Admitted: the permit, which the caller owns and must pass to exactly one of
    /// `sg_permit_record` or `sg_permit_free`. Rejected: NULL.
    pub permit: *mut sg_permit,
    /// `SG_REJECT_NONE` when admitted, otherwise why not.
    pub reject_reason: sg_reject_reason,
    /// Rejected: microseconds until the reason stops holding by the clock alone (an open
    /// circuit's remaining open time; for full half-open slots, the oldest trial's timeout),
    /// or `UINT64_MAX` when only an operator can end it (forced open). Admitted: 0.
    pub retry_after_us: u64,
}

impl sg_admission {
    /// The admission for an engine answer, boxing an admitted permit for the host.
    pub(crate) fn new(answer: Result<Permit<'static>, Rejected>) -> Self {
        match answer {
            Ok(permit) => Self {
                permit: Box::into_raw(Box::new(sg_permit { permit })),
                reject_reason: sg_reject_reason::SG_REJECT_NONE,
                retry_after_us: 0,
            },
            Err(rejected) => Self {
                permit: std::ptr::null_mut(),
                reject_reason: match rejected.reason() {
                    RejectReason::Open => sg_reject_reason::SG_REJECT_OPEN,
                    RejectReason::HalfOpenFull => sg_reject_reason::SG_REJECT_HALF_OPEN_FULL,
                    RejectReason::ForcedOpen => sg_reject_reason::SG_REJECT_FORCED_OPEN,
                },
                retry_after_us: rejected.retry_after_ticks().unwrap_or(NO_RETRY_TIME),
            },
        }
    }
}

/// Leave to make one call through a breaker. Report how the call went with
/// `sg_permit_record`, or release it unreported with `sg_permit_free` (which counts the call
/// as ignored). Either consumes the permit.
///
/// A permit keeps its breaker alive: it stays valid, and may still be recorded, after
/// `sg_breaker_free` or `sg_breakers_free`. It may be recorded or freed on any thread, but by
/// one thread, once.
#[derive(Debug)]
pub struct sg_permit {
    permit: Permit<'static>,
}

/// Reports how the call went and how long it took, in microseconds (for the slow-call
/// policy), and releases the permit.
///
/// Returns `SG_OK` when the outcome counted; `SG_STALE_OUTCOME` when the breaker changed state
/// after the permit was admitted, so the outcome changed nothing but the `stale` counter;
/// `SG_NULL_ARGUMENT`; or `SG_INVALID_ARGUMENT` for an `outcome` that is not an `sg_outcome`.
/// Whatever it returns, a non-NULL `permit` is consumed and must not be used again; with an
/// invalid outcome it is released as `sg_permit_free` releases it.
///
/// # Safety
///
/// `permit` must come from an admission and not be recorded or freed already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_permit_record(
    permit: *mut sg_permit,
    outcome: u32,
    elapsed_us: u64,
) -> sg_result {
    guard(move || {
        if permit.is_null() {
            return Err(Failure::null("permit").into());
        }
        // SAFETY: made by `Box::into_raw` in an admission, consumed once.
        let permit = unsafe { Box::from_raw(permit) }.permit;
        let outcome = match outcome {
            0 => Outcome::Success,
            1 => Outcome::Failure,
            2 => Outcome::Ignored,
            other => {
                return Err(Failure::argument(format!(
                    "outcome {other} is not SG_OUTCOME_SUCCESS (0), SG_OUTCOME_FAILURE (1) or \
                     SG_OUTCOME_IGNORED (2); the permit was released as ignored"
                ))
                .into());
            }
        };
        match permit.record(outcome, Duration::from_micros(elapsed_us)) {
            Recorded::Counted => Ok(()),
            Recorded::Stale => Err(Failure::new(
                sg_result::SG_STALE_OUTCOME,
                "the breaker changed state after the permit was admitted: the outcome counted \
                 as stale and changed nothing else",
            )
            .into()),
        }
    })
}

/// Releases a permit without reporting an outcome: the call counts as ignored and frees its
/// half-open trial slot. NULL is allowed and does nothing.
///
/// # Safety
///
/// `permit` must come from an admission and not be recorded or freed already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_permit_free(permit: *mut sg_permit) {
    boundary((), || {
        if !permit.is_null() {
            // SAFETY: made by `Box::into_raw` in an admission, released once.
            drop(unsafe { Box::from_raw(permit) });
        }
    })
}
