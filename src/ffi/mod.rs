//! The C ABI: the limiter, the breaker and the breaker registry for hosts written in C, or in
//! any language that can call C (LuaJIT, Python, Go, Node, ...).
//!
//! `include/sluicegate.h` is generated from this module by cbindgen and is the contract; this
//! page explains the rules every function keeps.
//!
//! - **Names.** Every symbol starts with `sg_`.
//! - **Handles.** `sg_limiter`, `sg_breaker` and `sg_breakers` are opaque, made by `*_new`
//!   from a configuration struct, owned by the caller, and released by `*_free` (NULL allowed).
//!   All three are thread-safe: any function but `*_free` may be called from many threads at
//!   once. `sg_permit` is handed out by an admission and consumed by `sg_permit_record` or
//!   `sg_permit_free`, once, on any thread.
//! - **Configuration** structs start with `uint32_t struct_size` (set it to `sizeof`) so they
//!   can grow; zero-initialise them: every zero field means "the default" or "off".
//! - **Arguments.** Inputs come before outputs; every byte buffer is followed by its length;
//!   every pointer is checked for NULL. Outputs are written only when the call returns `SG_OK`.
//! - **Results.** Every fallible function returns an `sg_result`, whose numbers never change;
//!   `sg_result_message` names a code and `sg_last_error` gives the detail of the calling
//!   thread's last failure. A rate-limit rejection or an open circuit is an answer (`SG_OK`).
//! - **Panics** never cross into the host: each entry point catches them and returns
//!   `SG_PANIC`. (The library must therefore be built with `panic = "unwind"`, the default.)
//! - **Time.** Durations are microseconds. A limiter reads the library's monotonic clock, or,
//!   built with `SG_TIME_BASE_CALLER`, takes the caller's time with each call (`_now`).
//!
//! The same calls from Rust, as a C program makes them:
//!
//! ```
//! use std::ptr;
//! use sluicegate::ffi::*;
//!
//! let windows = [sg_window { limit: 2, duration_us: 60_000_000 }];
//! let config = sg_limiter_config {
//!     struct_size: size_of::<sg_limiter_config>() as u32,
//!     time_base: sg_time_base::SG_TIME_BASE_CALLER as u32,
//!     windows: windows.as_ptr(),
//!     windows_len: windows.len(),
//!     max_keys: 0,
//!     shards: 0,
//!     max_key_len: 0,
//!     on_full: 0,
//! };
//! let mut limiter = ptr::null_mut();
//! assert_eq!(unsafe { sg_limiter_new(&config, &mut limiter) }, sg_result::SG_OK);
//!
//! let key = b"203.0.113.7";
//! let mut d = sg_decision { allowed: false, window: 0, limit: 0, remaining: 0, reset_after_us: 0, retry_after_us: 0 };
//! for now_us in [0, 1_000] {
//!     let r = unsafe { sg_limiter_check_now(limiter, key.as_ptr(), key.len(), 1, now_us, &mut d) };
//!     assert_eq!((r, d.allowed), (sg_result::SG_OK, true));
//! }
//! let r = unsafe { sg_limiter_check_now(limiter, key.as_ptr(), key.len(), 1, 2_000, &mut d) };
//! assert_eq!((r, d.allowed, d.retry_after_us), (sg_result::SG_OK, false, 59_998_000));
//!
//! // Errors are codes, with a detail for the calling thread.
//! let r = unsafe { sg_limiter_check_now(limiter, key.as_ptr(), key.len(), 0, 2_000, &mut d) };
//! assert_eq!(r, sg_result::SG_ZERO_COST);
//! unsafe { sg_limiter_free(limiter) };
//! ```

#![allow(non_camel_case_types)] // the C names, as the header spells them

mod args;
mod boundary;
mod breaker;
mod breaker_config;
mod detail;
mod events;
mod limiter;
mod permit;
mod registry;
mod result;
mod versioned;

pub use breaker::{
    sg_breaker, sg_breaker_acquire, sg_breaker_counters, sg_breaker_disable, sg_breaker_force_open,
    sg_breaker_free, sg_breaker_get_counters, sg_breaker_get_state, sg_breaker_new,
    sg_breaker_reset,
};
pub use breaker_config::sg_breaker_config;
pub use detail::sg_last_error;
pub use events::{
    sg_cause, sg_keyed_transition_listener, sg_state, sg_transition, sg_transition_listener,
};
pub use limiter::{
    sg_decision, sg_full_policy, sg_limiter, sg_limiter_check, sg_limiter_check_now,
    sg_limiter_config, sg_limiter_free, sg_limiter_get_stats, sg_limiter_len, sg_limiter_new,
    sg_limiter_peek, sg_limiter_peek_now, sg_limiter_remove, sg_limiter_reset, sg_limiter_stats,
    sg_time_base, sg_window,
};
pub use permit::{
    sg_admission, sg_outcome, sg_permit, sg_permit_free, sg_permit_record, sg_reject_reason,
};
pub use registry::{
    sg_breaker_override, sg_breakers, sg_breakers_acquire, sg_breakers_config, sg_breakers_disable,
    sg_breakers_force_open, sg_breakers_free, sg_breakers_get_counters, sg_breakers_get_state,
    sg_breakers_get_stats, sg_breakers_len, sg_breakers_new, sg_breakers_remove, sg_breakers_reset,
    sg_breakers_stats,
};
pub use result::{sg_result, sg_result_message, sg_version};
