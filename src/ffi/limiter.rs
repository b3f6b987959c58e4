//! The limiter's C interface: `sg_limiter` and its configuration, decisions and statistics.

use std::time::Duration;

use crate::clock::Tick;
use crate::ffi::args::{Out, arg, slice};
use crate::ffi::boundary::{Failure, Reported, guard};
use crate::ffi::result::sg_result;
use crate::ffi::versioned::{self, Versioned};
use crate::limiter::{ConfigError, MAX_WINDOWS};
use crate::{CheckError, Decision, FullPolicy, Limiter, Stats, Window};

/// Where a limiter's time comes from. One limiter must be driven by one time base: the
/// library refuses calls of the other kind with `SG_WRONG_TIME_BASE` rather than mix two
/// clocks whose origins differ.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_time_base {
    /// The library reads its own monotonic clock: use `sg_limiter_check` and `sg_limiter_peek`.
    SG_TIME_BASE_LIBRARY = 0,
    /// The caller passes the time with every call, in microseconds of its own monotonic
    /// clock (for hosts that already hold the time, as nginx caches it per event-loop
    /// iteration): use `sg_limiter_check_now` and `sg_limiter_peek_now`. Any origin will do;
    /// a time earlier than one already seen is taken as that time.
    SG_TIME_BASE_CALLER = 1,
}

/// What a full limiter does with a new key once no idle key can be reclaimed.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sg_full_policy {
    /// Evict the key seen least recently; it starts afresh if it comes back. The default: a
    /// flood of new keys cannot lock legitimate new clients out.
    SG_FULL_EVICT_LEAST_RECENT = 0,
    /// Refuse new keys with `SG_KEYS_EXHAUSTED`; no key ever loses its history.
    SG_FULL_REJECT_NEW_KEYS = 1,
}

/// One sliding window: at most `limit` cost units in any span of `duration_us` microseconds.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct sg_window {
    /// The most cost units admitted in any span of the window's length (1 to 4,294,967,295).
    pub limit: u64,
    /// The window's length in microseconds (1 to 2^52).
    pub duration_us: u64,
}

/// How to build a limiter. Zero-initialise it, set `struct_size` to
/// `sizeof(sg_limiter_config)` and the windows; every other zero means "the default".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sg_limiter_config {
    /// `sizeof(sg_limiter_config)`, so the struct can grow without breaking older callers.
    pub struct_size: u32,
    /// One of `sg_time_base`; 0 is `SG_TIME_BASE_LIBRARY`.
    pub time_base: u32,
    /// The windows a request must fit, all at once (1 to 8, no two of the same length). The
    /// library copies them: the array may be freed once `sg_limiter_new` returns.
    pub windows: *const sg_window,
    /// The number of windows at `windows`.
    pub windows_len: usize,
    /// The most keys tracked at once; 0 for 2,097,152. Split evenly over the shards.
    pub max_keys: u64,
    /// The number of shards, a power of two up to 4096; 0 for four per core.
    pub shards: u32,
    /// The longest key accepted, in bytes (up to 65,536); 0 for 1024.
    pub max_key_len: u32,
    /// One of `sg_full_policy`; 0 is `SG_FULL_EVICT_LEAST_RECENT`.
    pub on_full: u32,
}

// SAFETY: repr(C), `struct_size` first, integers and a raw pointer only.
unsafe impl Versioned for sg_limiter_config {
    const NAME: &'static str = "sg_limiter_config";
    const FIRST_SIZE: usize = 48;
}

/// What the limiter decided for one request, and what a client needs to behave well. The
/// numbers describe the binding window: the one with the least remaining (ties go to the
/// longer window); an admitted request is already counted in them.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct sg_decision {
    /// Whether the request was admitted (and, for a check, recorded).
    pub allowed: bool,
    /// The binding window's index in the configuration's `windows`.
    pub window: u32,
    /// The binding window's limit.
    pub limit: u64,
    /// Units still available in the binding window, after this request if admitted.
    pub remaining: u64,
    /// Microseconds until the binding window's `remaining` next grows; 0 if it is empty.
    pub reset_after_us: u64,
    /// For a rejection, the exact wait in microseconds after which the same request is
    /// admitted if nothing else arrives; 0 when admitted.
    pub retry_after_us: u64,
}

impl From<Decision> for sg_decision {
    #[inline(always)]
    fn from(d: Decision) -> Self {
        Self {
            allowed: d.allowed(),
            window: d.window() as u32,
            limit: d.limit(),
            remaining: d.remaining(),
            reset_after_us: d.reset_after_ticks(),
            retry_after_us: d.retry_after_ticks(),
        }
    }
}

/// A limiter's counters and sizes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct sg_limiter_stats {
    /// Keys tracked now.
    pub keys: u64,
    /// Checks admitted.
    pub allowed: u64,
    /// Checks rejected.
    pub rejected: u64,
    /// Live keys evicted because the limiter was full (`SG_FULL_EVICT_LEAST_RECENT`).
    pub evictions: u64,
    /// Idle keys (nothing left in any window) freed.
    pub reclaimed: u64,
    /// New keys refused because the limiter was full (`SG_FULL_REJECT_NEW_KEYS`).
    pub refused_keys: u64,
    /// Bytes of memory the limiter's tables, keys and logs hold.
    pub bytes: u64,
}

impl From<Stats> for sg_limiter_stats {
    fn from(s: Stats) -> Self {
        Self {
            keys: s.keys as u64,
            allowed: s.allowed,
            rejected: s.rejected,
            evictions: s.evictions,
            reclaimed: s.reclaimed,
            refused_keys: s.refused_keys,
            bytes: s.bytes as u64,
        }
    }
}

/// An exact sliding-window-log rate limiter over byte-string keys.
///
/// Thread-safe: every function but `sg_limiter_free` may be called on one limiter from any
/// number of threads at once. Made by `sg_limiter_new`, owned by the caller, released by
/// `sg_limiter_free`.
#[derive(Debug)]
pub struct sg_limiter {
    limiter: Limiter,
    time_base: sg_time_base,
}

impl sg_limiter {
    fn build(config: &sg_limiter_config) -> Result<Self, Reported> {
        let time_base = match config.time_base {
            0 => sg_time_base::SG_TIME_BASE_LIBRARY,
            1 => sg_time_base::SG_TIME_BASE_CALLER,
            other => {
                return Err(Failure::config(format!(
                    "time_base {other} is not SG_TIME_BASE_LIBRARY (0) or SG_TIME_BASE_CALLER (1)"
                ))
                .into());
            }
        };
        let on_full = match config.on_full {
            0 => FullPolicy::EvictLeastRecent,
            1 => FullPolicy::RejectNewKeys,
            other => {
                return Err(Failure::config(format!(
                    "on_full {other} is not SG_FULL_EVICT_LEAST_RECENT (0) or \
                     SG_FULL_REJECT_NEW_KEYS (1)"
                ))
                .into());
            }
        };
        if config.windows_len > MAX_WINDOWS {
            return Err(Failure::config(ConfigError::TooManyWindows {
                count: config.windows_len,
                max: MAX_WINDOWS,
            })
            .into());
        }
        // SAFETY: the caller vouches for `windows_len` windows at `windows`.
        let windows = unsafe { slice(config.windows, config.windows_len, "config->windows") }?;
        let mut builder = Limiter::builder()
            .windows(
                windows
                    .iter()
                    .map(|w| Window::new(w.limit, Duration::from_micros(w.duration_us))),
            )
            .on_full(on_full);
        if config.shards != 0 {
            builder = builder.shards(config.shards as usize);
        }
        if config.max_keys != 0 {
            builder = builder.max_keys(usize::try_from(config.max_keys).unwrap_or(usize::MAX));
        }
        if config.max_key_len != 0 {
            builder = builder.max_key_len(config.max_key_len as usize);
        }
        let limiter = builder.build().map_err(Failure::config)?;
        Ok(Self { limiter, time_base })
    }

    /// Decides one request, recording it if `RECORD`: at the caller's time `now` if
    /// `CALLER_TIME`, otherwise at the library's (and `now` is unused). Generic, so that each
    /// entry point compiles to exactly its own path.
    #[inline(always)]
    fn decide<const RECORD: bool, const CALLER_TIME: bool>(
        &self,
        key: &[u8],
        cost: u64,
        now: Tick,
    ) -> Result<sg_decision, Reported> {
        let wanted = if CALLER_TIME {
            sg_time_base::SG_TIME_BASE_CALLER
        } else {
            sg_time_base::SG_TIME_BASE_LIBRARY
        };
        if self.time_base != wanted {
            return Err(wrong_time_base(self.time_base).into());
        }
        let decided = match (RECORD, CALLER_TIME) {
            (true, true) => self.limiter.check_at(key, cost, now),
            (true, false) => self.limiter.check_n(key, cost),
            (false, true) => self.limiter.peek_at(key, cost, now),
            (false, false) => self.limiter.peek(key, cost),
        };
        match decided {
            Ok(decision) => Ok(decision.into()),
            Err(err) => Err(check_failure(err).into()),
        }
    }
}

#[cold]
fn wrong_time_base(base: sg_time_base) -> Failure {
    Failure::new(
        sg_result::SG_WRONG_TIME_BASE,
        match base {
            sg_time_base::SG_TIME_BASE_LIBRARY => {
                "this limiter reads the library's clock (SG_TIME_BASE_LIBRARY): call \
                 sg_limiter_check or sg_limiter_peek, without a time"
            }
            sg_time_base::SG_TIME_BASE_CALLER => {
                "this limiter takes the caller's time (SG_TIME_BASE_CALLER): call \
                 sg_limiter_check_now or sg_limiter_peek_now"
            }
        },
    )
}

#[cold]
fn check_failure(err: CheckError) -> Failure {
    let code = match err {
        CheckError::ZeroCost => sg_result::SG_ZERO_COST,
        CheckError::CostExceedsLimit { .. } => sg_result::SG_COST_EXCEEDS_LIMIT,
        CheckError::KeyTooLong { .. } => sg_result::SG_KEY_TOO_LONG,
        CheckError::KeysExhausted { .. } => sg_result::SG_KEYS_EXHAUSTED,
    };
    Failure::new(code, err.to_string())
}

/// The body of the four check and peek entry points, behind the panic boundary.
///
/// Specialised per entry point by the const parameters, the body is small enough for the
/// compiler to fold the boundary into the entry point: one function, its arguments in
/// registers. (One body serving all four came out as a second function reading its arguments
/// from memory, some 50 instructions on top of the ~330 of a check.)
///
/// # Safety
///
/// As for `sg_limiter_check`.
#[inline(always)]
unsafe fn decide<const RECORD: bool, const CALLER_TIME: bool>(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    cost: u64,
    now: Tick,
    out: *mut sg_decision,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let (limiter, key, out) = unsafe {
            (
                arg(limiter, "limiter")?,
                slice(key, key_len, "key")?,
                Out::new(out, "out")?,
            )
        };
        out.write(limiter.decide::<RECORD, CALLER_TIME>(key, cost, now)?);
        Ok(())
    })
}

/// Builds a limiter from `config` and stores it in `*out`.
///
/// Returns `SG_OK`; `SG_NULL_ARGUMENT`; `SG_UNSUPPORTED_STRUCT_SIZE`; or `SG_INVALID_CONFIG`,
/// with `sg_last_error` naming the setting. `*out` is written only on `SG_OK`.
///
/// # Safety
///
/// `config` must point to a `sg_limiter_config` whose `windows` points to `windows_len`
/// windows; `out` must point to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_new(
    config: *const sg_limiter_config,
    out: *mut *mut sg_limiter,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (config, out) = unsafe { (versioned::read(config, "config")?, Out::new(out, "out")?) };
        let limiter = sg_limiter::build(&config)?;
        out.write(Box::into_raw(Box::new(limiter)));
        Ok(())
    })
}

/// Releases a limiter. NULL is allowed and does nothing.
///
/// # Safety
///
/// `limiter` must come from `sg_limiter_new`, not be freed already, and no other thread may be
/// using it or use it afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_free(limiter: *mut sg_limiter) {
    crate::ffi::boundary::boundary((), || {
        if !limiter.is_null() {
            // SAFETY: made by `Box::into_raw` in `sg_limiter_new`, released once.
            drop(unsafe { Box::from_raw(limiter) });
        }
    })
}

/// Checks one request of cost `cost` for the `key_len` bytes at `key` now, by the library's
/// clock, and records it if admitted. The decision, admitted or not, goes to `*out`.
///
/// Returns `SG_OK` with the decision (a rejection is `out->allowed == false`, not an error);
/// `SG_NULL_ARGUMENT`; `SG_ZERO_COST`; `SG_COST_EXCEEDS_LIMIT`; `SG_KEY_TOO_LONG`;
/// `SG_KEYS_EXHAUSTED`; or `SG_WRONG_TIME_BASE` on a limiter built with `SG_TIME_BASE_CALLER`.
/// `*out` is written only on `SG_OK`. `key` may be NULL when `key_len` is 0 (the empty key).
///
/// # Safety
///
/// `limiter` must be a live limiter; `key` must point to `key_len` readable bytes; `out` must
/// point to a writable `sg_decision`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_check(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    cost: u64,
    out: *mut sg_decision,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { decide::<true, false>(limiter, key, key_len, cost, 0, out) }
}

/// `sg_limiter_check` at the caller's time `now_us`, in microseconds of the caller's own
/// monotonic clock, for a limiter built with `SG_TIME_BASE_CALLER`. Every call on one limiter
/// must use the same clock; a time earlier than one the limiter has seen counts as that time.
///
/// Returns as `sg_limiter_check`, and `SG_WRONG_TIME_BASE` on a limiter built with
/// `SG_TIME_BASE_LIBRARY`.
///
/// # Safety
///
/// As for `sg_limiter_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_check_now(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    cost: u64,
    now_us: u64,
    out: *mut sg_decision,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { decide::<true, true>(limiter, key, key_len, cost, now_us, out) }
}

/// What `sg_limiter_check` would decide now, recording nothing. An admissible peek reports
/// the numbers the check would report after recording.
///
/// Returns as `sg_limiter_check`.
///
/// # Safety
///
/// As for `sg_limiter_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_peek(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    cost: u64,
    out: *mut sg_decision,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { decide::<false, false>(limiter, key, key_len, cost, 0, out) }
}

/// `sg_limiter_peek` at the caller's time `now_us`; see `sg_limiter_check_now`.
///
/// Returns as `sg_limiter_check_now`.
///
/// # Safety
///
/// As for `sg_limiter_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_peek_now(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    cost: u64,
    now_us: u64,
    out: *mut sg_decision,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { decide::<false, true>(limiter, key, key_len, cost, now_us, out) }
}

/// The shared body of `sg_limiter_reset` and `sg_limiter_remove`.
///
/// # Safety
///
/// As for `sg_limiter_reset`.
unsafe fn forget(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    out_was_tracked: *mut bool,
    how: fn(&Limiter, &[u8]) -> bool,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let (limiter, key, out) = unsafe {
            (
                arg(limiter, "limiter")?,
                slice(key, key_len, "key")?,
                Out::new(out_was_tracked, "out_was_tracked")?,
            )
        };
        out.write(how(&limiter.limiter, key));
        Ok(())
    })
}

/// Forgets what `key` has used, as if it had never been seen; `*out_was_tracked` says whether
/// it was tracked. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `limiter` must be a live limiter; `key` must point to `key_len` readable bytes;
/// `out_was_tracked` must point to a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_reset(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    out_was_tracked: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { forget(limiter, key, key_len, out_was_tracked, |l, k| l.reset(k)) }
}

/// Stops tracking `key` and frees its memory; `*out_was_tracked` says whether it was tracked.
/// Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// As for `sg_limiter_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_remove(
    limiter: *const sg_limiter,
    key: *const u8,
    key_len: usize,
    out_was_tracked: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { forget(limiter, key, key_len, out_was_tracked, |l, k| l.remove(k)) }
}

/// Stores how many keys the limiter tracks in `*out`. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `limiter` must be a live limiter; `out` must point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_len(limiter: *const sg_limiter, out: *mut usize) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (limiter, out) = unsafe { (arg(limiter, "limiter")?, Out::new(out, "out")?) };
        out.write(limiter.limiter.len());
        Ok(())
    })
}

/// Stores the limiter's counters and sizes in `*out`. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `limiter` must be a live limiter; `out` must point to a writable `sg_limiter_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_limiter_get_stats(
    limiter: *const sg_limiter,
    out: *mut sg_limiter_stats,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (limiter, out) = unsafe { (arg(limiter, "limiter")?, Out::new(out, "out")?) };
        out.write(limiter.limiter.stats().into());
        Ok(())
    })
}
