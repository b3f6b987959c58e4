//! The result codes every fallible entry point returns, their messages, and the library version.

use std::ffi::c_char;

use crate::ffi::boundary::boundary;

/// What a call did. Every fallible function returns one.
///
/// The numbers are part of the ABI: a code keeps its number forever, and a number retired from
/// use is never given to another meaning. Codes other than `SG_OK` leave a detail message for
/// the calling thread, read with `sg_last_error`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum sg_result {
    /// The call did what was asked. A rate-limit rejection or an open circuit is an answer,
    /// not an error, and also comes back as `SG_OK`.
    SG_OK = 0,
    /// A pointer argument that must not be NULL was NULL. Nothing was done.
    SG_NULL_ARGUMENT = 1,
    /// The configuration was refused; `sg_last_error` says which setting and why.
    SG_INVALID_CONFIG = 2,
    /// A configuration's `struct_size` is not one this library understands: smaller than the
    /// first published size, or larger with fields set that this version does not know.
    SG_UNSUPPORTED_STRUCT_SIZE = 3,
    /// A check with a cost of zero: every request costs at least 1.
    SG_ZERO_COST = 4,
    /// A cost above the smallest window limit: no amount of waiting admits it.
    SG_COST_EXCEEDS_LIMIT = 5,
    /// A key longer than the handle's `max_key_len`.
    SG_KEY_TOO_LONG = 6,
    /// A new key met a handle already holding its `max_keys` keys, none of which could be
    /// reclaimed.
    SG_KEYS_EXHAUSTED = 7,
    /// The breaker changed state after the permit was admitted (or its half-open trial timed
    /// out): the outcome was counted as stale and changed nothing else. The permit is consumed.
    SG_STALE_OUTCOME = 8,
    /// An argument that is not a pointer was out of range (an unknown enum number, a buffer
    /// length too large to address, a misaligned array).
    SG_INVALID_ARGUMENT = 9,
    /// The library panicked; the panic was caught at the boundary and the process goes on.
    /// The handle involved may be left in an inconsistent state: free it and make a new one.
    SG_PANIC = 10,
    /// A limiter was driven in the wrong time base: a `_now` function on a limiter built with
    /// `SG_TIME_BASE_LIBRARY`, or a function reading the library's clock on one built with
    /// `SG_TIME_BASE_CALLER`.
    SG_WRONG_TIME_BASE = 11,
}

impl sg_result {
    /// The message `sg_result_message` returns for this code.
    fn message(self) -> &'static std::ffi::CStr {
        match self {
            Self::SG_OK => c"ok",
            Self::SG_NULL_ARGUMENT => c"a required pointer argument was NULL",
            Self::SG_INVALID_CONFIG => c"the configuration was refused",
            Self::SG_UNSUPPORTED_STRUCT_SIZE => {
                c"the configuration's struct_size is not one this library supports"
            }
            Self::SG_ZERO_COST => c"a request must cost at least 1",
            Self::SG_COST_EXCEEDS_LIMIT => {
                c"the cost is above a window's limit and can never be admitted"
            }
            Self::SG_KEY_TOO_LONG => c"the key is longer than the configured maximum",
            Self::SG_KEYS_EXHAUSTED => c"the handle holds its maximum number of keys",
            Self::SG_STALE_OUTCOME => c"the outcome was stale: the breaker changed state since",
            Self::SG_INVALID_ARGUMENT => c"an argument was out of range",
            Self::SG_PANIC => c"the library panicked; the panic was caught",
            Self::SG_WRONG_TIME_BASE => c"the limiter is driven in another time base",
        }
    }

    /// The code with number `n`, if there is one.
    fn from_number(n: u32) -> Option<Self> {
        const ALL: [sg_result; 12] = [
            sg_result::SG_OK,
            sg_result::SG_NULL_ARGUMENT,
            sg_result::SG_INVALID_CONFIG,
            sg_result::SG_UNSUPPORTED_STRUCT_SIZE,
            sg_result::SG_ZERO_COST,
            sg_result::SG_COST_EXCEEDS_LIMIT,
            sg_result::SG_KEY_TOO_LONG,
            sg_result::SG_KEYS_EXHAUSTED,
            sg_result::SG_STALE_OUTCOME,
            sg_result::SG_INVALID_ARGUMENT,
            sg_result::SG_PANIC,
            sg_result::SG_WRONG_TIME_BASE,
        ];
        ALL.into_iter().find(|r| *r as u32 == n)
    }
}

/// A short, static, NUL-terminated description of a result code: "unknown result code" for a
/// number that is not one. Never NULL; the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn sg_result_message(result: u32) -> *const c_char {
    boundary(c"unknown result code".as_ptr(), || {
        sg_result::from_number(result)
            .map_or(c"unknown result code", sg_result::message)
            .as_ptr()
    })
}

/// The library's version, "MAJOR.MINOR.PATCH", as a static NUL-terminated string. Never NULL;
/// the caller must not free it.
#[unsafe(no_mangle)]
pub extern "C" fn sg_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => panic!("the package version contains a NUL byte"),
    };
    boundary(VERSION.as_ptr(), || VERSION.as_ptr())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    #[test]
    fn every_number_round_trips_and_unknown_numbers_say_so() {
        for n in 0..12 {
            let code = sg_result::from_number(n).expect("codes are dense from 0");
            assert_eq!(code as u32, n);
        }
        assert_eq!(sg_result::from_number(12), None);
        let unknown = unsafe { CStr::from_ptr(sg_result_message(4242)) };
        assert_eq!(unknown, c"unknown result code");
        let ok = unsafe { CStr::from_ptr(sg_result_message(0)) };
        assert_eq!(ok, c"ok");
    }

    #[test]
    fn the_version_is_the_package_version() {
        let v = unsafe { CStr::from_ptr(sg_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
