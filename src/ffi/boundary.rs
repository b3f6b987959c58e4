//! The panic boundary every entry point runs behind, and the failure type the entry points'
//! bodies return.
//!
//! A body returns `Result<(), Reported>`: a [`Failure`] becomes [`Reported`] the moment it
//! happens, leaving its detail for `sg_last_error`, so only a code travels back up and a
//! success carries nothing at all (the check path stays a few instructions longer than the
//! Rust call, not a few dozen). [`guard`] runs the body and turns a panic into `SG_PANIC`. No
//! unwind ever crosses into the host.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::ffi::detail;
use crate::ffi::result::sg_result;

/// Why a call failed: the code it returns and a sentence for `sg_last_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: sg_result,
    pub(crate) detail: Cow<'static, str>,
}

impl Failure {
    /// A failure with its code and detail.
    pub(crate) fn new(code: sg_result, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// A NULL where the argument `name` must point somewhere.
    pub(crate) fn null(name: &'static str) -> Self {
        Self::new(
            sg_result::SG_NULL_ARGUMENT,
            format!("argument `{name}` is NULL"),
        )
    }

    /// A refused configuration, with the reason.
    pub(crate) fn config(reason: impl std::fmt::Display) -> Self {
        Self::new(sg_result::SG_INVALID_CONFIG, reason.to_string())
    }

    /// An argument out of range, with the reason.
    pub(crate) fn argument(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(sg_result::SG_INVALID_ARGUMENT, reason)
    }
}

/// A failure whose detail is already recorded for the calling thread: only its code is left to
/// return. The one way to make one is from a [`Failure`], so no code goes back without its
/// detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported(sg_result);

impl Reported {
    /// The code to return.
    pub(crate) fn code(self) -> sg_result {
        self.0
    }
}

impl From<Failure> for Reported {
    #[cold]
    #[inline(never)]
    fn from(failure: Failure) -> Self {
        detail::set(&failure.detail);
        Self(failure.code)
    }
}

/// Runs `body`, returning `fallback` if it panics. For entry points that return no result
/// code (the `_free` functions, the static strings).
#[inline(always)]
pub(crate) fn boundary<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        detail::set(&panic_detail(payload.as_ref()));
        fallback
    })
}

/// Runs an entry point's body behind the panic boundary and turns its outcome into a code.
#[inline(always)]
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Reported>) -> sg_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => sg_result::SG_OK,
        Ok(Err(reported)) => reported.code(),
        Err(payload) => {
            detail::set(&panic_detail(payload.as_ref()));
            sg_result::SG_PANIC
        }
    }
}

fn panic_detail(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    format!("a panic inside the library was caught at its boundary: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_sg_panic_with_its_message() {
        let code = guard(|| panic!("the answer is {}", 42));
        assert_eq!(code, sg_result::SG_PANIC);
        let detail = detail::get();
        assert!(detail.contains("the answer is 42"), "{detail}");
        assert_eq!(boundary(7, || panic!("static message")), 7);
        assert!(detail::get().ends_with("static message"));
    }

    #[test]
    fn a_failure_returns_its_code_and_leaves_its_detail() {
        let code = guard(|| Err(Failure::null("key").into()));
        assert_eq!(code, sg_result::SG_NULL_ARGUMENT);
        assert_eq!(detail::get(), "argument `key` is NULL");
        assert_eq!(guard(|| Ok(())), sg_result::SG_OK);
        // Success leaves the last failure's detail alone, as errno does.
        assert_eq!(detail::get(), "argument `key` is NULL");
    }
}
