//! The keyed registry of breakers' C interface: `sg_breakers`, one breaker per key (per
//! upstream host, say), created on first use and forgotten when idle.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use crate::breaker::{Breaker, Breakers, KeyedError, RegistryStats};
use crate::ffi::args::{Out, arg, slice};
use crate::ffi::boundary::{Failure, Reported, boundary, guard};
use crate::ffi::breaker::sg_breaker_counters;
use crate::ffi::breaker_config::sg_breaker_config;
use crate::ffi::events::{self, Userdata, sg_keyed_transition_listener, sg_state};
use crate::ffi::permit::sg_admission;
use crate::ffi::result::sg_result;
use crate::ffi::versioned::{self, Versioned};

/// One key whose breaker uses its own configuration instead of the registry's.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sg_breaker_override {
    /// The key's bytes.
    pub key: *const u8,
    /// The number of bytes at `key`.
    pub key_len: usize,
    /// The key's configuration. Its `seed` and `lanes` are ignored: the registry's apply.
    pub config: *const sg_breaker_config,
}

/// How to build a registry of breakers. Zero-initialise it, set `struct_size` to
/// `sizeof(sg_breakers_config)` and `breaker`; every other zero means "the default". The
/// library copies everything it points to: the memory may be freed once `sg_breakers_new`
/// returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sg_breakers_config {
    /// `sizeof(sg_breakers_config)`, so the struct can grow without breaking older callers.
    pub struct_size: u32,
    /// The number of shards, a power of two up to 4096; 0 for four per core.
    pub shards: u32,
    /// The configuration of every key's breaker (its `seed` seeds all of them, each key's
    /// generator drawn from it and the key; its `lanes` applies to each). Required.
    pub breaker: *const sg_breaker_config,
    /// Keys with a configuration of their own; may be NULL when `overrides_len` is 0.
    pub overrides: *const sg_breaker_override,
    /// The number of overrides at `overrides`.
    pub overrides_len: usize,
    /// The most breakers held at once; 0 for 65,536. A new key at a full shard reclaims an
    /// idle breaker or is refused with `SG_KEYS_EXHAUSTED`.
    pub max_keys: u64,
    /// How long, in microseconds, a breaker must go without an admission before it may be
    /// forgotten; 0 for 5 minutes. Only closed breakers with nothing outstanding are.
    pub idle_after_us: u64,
    /// The longest key accepted, in bytes (up to 65,536); 0 for 256.
    pub max_key_len: u32,
}

// SAFETY: repr(C), `struct_size` first, integers and raw pointers only.
unsafe impl Versioned for sg_breakers_config {
    const NAME: &'static str = "sg_breakers_config";
    const FIRST_SIZE: usize = 56;
}

/// A registry's counters and sizes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct sg_breakers_stats {
    /// Breakers held now.
    pub keys: u64,
    /// Idle breakers forgotten.
    pub reclaimed: u64,
    /// New keys refused because the registry was full.
    pub refused: u64,
    /// Bytes held by the registry's tables, keys and breakers.
    pub bytes: u64,
}

impl From<RegistryStats> for sg_breakers_stats {
    fn from(s: RegistryStats) -> Self {
        Self {
            keys: s.keys as u64,
            reclaimed: s.reclaimed,
            refused: s.refused,
            bytes: s.bytes as u64,
        }
    }
}

/// A registry of circuit breakers by key, reading the library's monotonic clock.
///
/// Thread-safe: every function but `sg_breakers_free` may be called on one registry from any
/// number of threads at once. Made by `sg_breakers_new`, owned by the caller, released by
/// `sg_breakers_free`; permits it handed out keep their breakers alive until they are
/// recorded or freed.
#[derive(Debug)]
pub struct sg_breakers {
    breakers: Breakers,
}

impl sg_breakers {
    fn build(
        config: &sg_breakers_config,
        listener: sg_keyed_transition_listener,
        userdata: Userdata,
    ) -> Result<Self, Reported> {
        // SAFETY: the caller of `sg_breakers_new` vouches for every pointer in the config.
        let (shared, overrides) = unsafe {
            (
                versioned::read(config.breaker, "config->breaker")?,
                slice(config.overrides, config.overrides_len, "config->overrides")?,
            )
        };
        let mut builder = Breakers::builder(shared.resolve()?);
        for (i, o) in overrides.iter().enumerate() {
            // SAFETY: as above.
            let (key, own) = unsafe {
                (
                    slice(o.key, o.key_len, "config->overrides[i].key")?,
                    versioned::read(o.config, "config->overrides[i].config")?,
                )
            };
            // Checked here, not only when the registry is built, to name the override at fault.
            let named = |reason: &dyn std::fmt::Display| {
                Failure::config(format!(
                    "override {i} (key \"{}\"): {reason}",
                    String::from_utf8_lossy(key)
                ))
            };
            let own = own.resolve().map_err(|f| named(&f.detail))?;
            own.settings().map_err(|e| named(&e))?;
            builder = builder.config_for(key, own);
        }
        if let Some(seed) = shared.seed() {
            builder = builder.seed(seed);
        }
        if let Some(lanes) = shared.lanes() {
            builder = builder.lanes(lanes);
        }
        if config.shards != 0 {
            builder = builder.shards(config.shards as usize);
        }
        if config.max_keys != 0 {
            builder = builder.max_keys(usize::try_from(config.max_keys).unwrap_or(usize::MAX));
        }
        if config.max_key_len != 0 {
            builder = builder.max_key_len(config.max_key_len as usize);
        }
        if config.idle_after_us != 0 {
            builder = builder.idle_after(Duration::from_micros(config.idle_after_us));
        }
        if let Some(listener) = listener {
            builder = builder.on_transition(events::keyed_listener(listener, userdata));
        }
        let breakers = builder.build().map_err(Failure::config)?;
        Ok(Self { breakers })
    }

    /// `key`'s breaker, created if new.
    fn breaker(&self, key: &[u8]) -> Result<Arc<Breaker>, Failure> {
        self.breakers.breaker(key).map_err(|err| {
            let code = match err {
                KeyedError::KeyTooLong { .. } => sg_result::SG_KEY_TOO_LONG,
                KeyedError::Full { .. } => sg_result::SG_KEYS_EXHAUSTED,
                KeyedError::Open(_) => unreachable!("looking a breaker up never asks its circuit"),
            };
            Failure::new(code, err.to_string())
        })
    }
}

/// Builds a registry from `config` and stores it in `*out`. `listener`, if not NULL, is called
/// with `userdata` and the key for every transition of every breaker (see
/// `sg_keyed_transition_listener`), until the registry is freed and its last permit is
/// recorded or freed; `userdata` must stay valid that long.
///
/// Returns `SG_OK`; `SG_NULL_ARGUMENT`; `SG_UNSUPPORTED_STRUCT_SIZE` (of the registry's or a
/// breaker's configuration); `SG_INVALID_ARGUMENT` for a misaligned overrides array; or
/// `SG_INVALID_CONFIG`, with `sg_last_error` naming the setting. `*out` is written only on
/// `SG_OK`.
///
/// # Safety
///
/// `config` must point to a `sg_breakers_config` whose pointers point to what its fields say;
/// `out` must point to writable storage for a pointer; `listener`, if not NULL, must be a
/// function of that type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_new(
    config: *const sg_breakers_config,
    listener: sg_keyed_transition_listener,
    userdata: *mut c_void,
    out: *mut *mut sg_breakers,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (config, out) = unsafe { (versioned::read(config, "config")?, Out::new(out, "out")?) };
        let breakers = sg_breakers::build(&config, listener, Userdata(userdata))?;
        out.write(Box::into_raw(Box::new(breakers)));
        Ok(())
    })
}

/// Releases a registry. Permits still outstanding keep their breakers alive (and may still be
/// recorded) until each is recorded or freed. NULL is allowed and does nothing.
///
/// # Safety
///
/// `breakers` must come from `sg_breakers_new`, not be freed already, and no other thread may
/// be using it or use it afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_free(breakers: *mut sg_breakers) {
    boundary((), || {
        if !breakers.is_null() {
            // SAFETY: made by `Box::into_raw` in `sg_breakers_new`, released once.
            drop(unsafe { Box::from_raw(breakers) });
        }
    })
}

/// The registry and key every keyed entry point starts from.
///
/// # Safety
///
/// `breakers` must be a live registry or NULL; `key` must point to `key_len` readable bytes or
/// be NULL.
unsafe fn keyed<'a>(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
) -> Result<(&'a sg_breakers, &'a [u8]), Reported> {
    // SAFETY: the caller's contract.
    unsafe { Ok((arg(breakers, "breakers")?, slice(key, key_len, "key")?)) }
}

/// Asks `key`'s breaker (created if new) to make one call. The answer goes to `*out`, as
/// `sg_breaker_acquire` gives it.
///
/// Returns `SG_OK` for both a permit and a rejection; `SG_NULL_ARGUMENT`; `SG_KEY_TOO_LONG`;
/// or `SG_KEYS_EXHAUSTED` when the key is new and the registry is full of busy breakers.
/// `*out` is written only on `SG_OK`. `key` may be NULL when `key_len` is 0.
///
/// # Safety
///
/// `breakers` must be a live registry; `key` must point to `key_len` readable bytes; `out`
/// must point to a writable `sg_admission`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_acquire(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out: *mut sg_admission,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let ((breakers, key), out) =
            unsafe { (keyed(breakers, key, key_len)?, Out::new(out, "out")?) };
        let breaker = breakers.breaker(key)?;
        out.write(sg_admission::new(breaker.acquire_shared()));
        Ok(())
    })
}

/// Stores the state of `key`'s breaker in `*out`; a key the registry does not hold reports
/// `SG_STATE_CLOSED`, the state its next call would find. Creates nothing. Returns `SG_OK` or
/// `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breakers` must be a live registry; `key` must point to `key_len` readable bytes; `out`
/// must point to a writable `sg_state`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_get_state(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out: *mut sg_state,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let ((breakers, key), out) =
            unsafe { (keyed(breakers, key, key_len)?, Out::new(out, "out")?) };
        let state = breakers
            .breakers
            .get(key)
            .map_or(sg_state::SG_STATE_CLOSED, |b| b.state().into());
        out.write(state);
        Ok(())
    })
}

/// Stores the counters of `key`'s breaker in `*out`; a key the registry does not hold has
/// counted nothing (all zero). Creates nothing. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breakers` must be a live registry; `key` must point to `key_len` readable bytes; `out`
/// must point to a writable `sg_breaker_counters`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_get_counters(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out: *mut sg_breaker_counters,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let ((breakers, key), out) =
            unsafe { (keyed(breakers, key, key_len)?, Out::new(out, "out")?) };
        let counters = breakers
            .breakers
            .get(key)
            .map_or_else(sg_breaker_counters::default, |b| b.counters().into());
        out.write(counters);
        Ok(())
    })
}

/// The shared body of the keyed operator switches.
///
/// # Safety
///
/// As for `sg_breakers_force_open`.
unsafe fn switch(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out_changed: *mut bool,
    how: fn(&Breaker) -> bool,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let ((breakers, key), out) = unsafe {
            (
                keyed(breakers, key, key_len)?,
                Out::new(out_changed, "out_changed")?,
            )
        };
        let breaker = breakers.breaker(key)?;
        out.write(how(&breaker));
        Ok(())
    })
}

/// `sg_breaker_force_open` on `key`'s breaker, created if new (so an operator can hold a host
/// off before its first call). Forced-open breakers are never forgotten as idle.
///
/// Returns `SG_OK`, `SG_NULL_ARGUMENT`, `SG_KEY_TOO_LONG` or `SG_KEYS_EXHAUSTED`.
///
/// # Safety
///
/// `breakers` must be a live registry; `key` must point to `key_len` readable bytes;
/// `out_changed` must point to a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_force_open(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out_changed: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { switch(breakers, key, key_len, out_changed, Breaker::force_open) }
}

/// `sg_breaker_disable` on `key`'s breaker, created if new. Disabled breakers are never
/// forgotten as idle.
///
/// Returns as `sg_breakers_force_open`.
///
/// # Safety
///
/// As for `sg_breakers_force_open`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_disable(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out_changed: *mut bool,
) -> sg_result {
    // SAFETY: the same contract.
    unsafe { switch(breakers, key, key_len, out_changed, Breaker::disable) }
}

/// `sg_breaker_reset` on `key`'s breaker, if the registry holds one; `*out_was_held` says
/// whether it did. Creates nothing. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breakers` must be a live registry; `key` must point to `key_len` readable bytes;
/// `out_was_held` must point to a writable `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_reset(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out_was_held: *mut bool,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let ((breakers, key), out) = unsafe {
            (
                keyed(breakers, key, key_len)?,
                Out::new(out_was_held, "out_was_held")?,
            )
        };
        let breaker = breakers.breakers.get(key);
        if let Some(breaker) = &breaker {
            breaker.reset();
        }
        out.write(breaker.is_some());
        Ok(())
    })
}

/// Forgets `key`'s breaker; `*out_was_held` says whether the registry held one. Permits
/// outstanding still record into the forgotten breaker; the key's next call starts a new one.
/// Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// As for `sg_breakers_reset`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_remove(
    breakers: *const sg_breakers,
    key: *const u8,
    key_len: usize,
    out_was_held: *mut bool,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let ((breakers, key), out) = unsafe {
            (
                keyed(breakers, key, key_len)?,
                Out::new(out_was_held, "out_was_held")?,
            )
        };
        out.write(breakers.breakers.remove(key));
        Ok(())
    })
}

/// Stores how many breakers the registry holds in `*out`. Returns `SG_OK` or
/// `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breakers` must be a live registry; `out` must point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_len(
    breakers: *const sg_breakers,
    out: *mut usize,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (breakers, out) = unsafe { (arg(breakers, "breakers")?, Out::new(out, "out")?) };
        out.write(breakers.breakers.len());
        Ok(())
    })
}

/// Stores the registry's counters and sizes in `*out`. Returns `SG_OK` or `SG_NULL_ARGUMENT`.
///
/// # Safety
///
/// `breakers` must be a live registry; `out` must point to a writable `sg_breakers_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_breakers_get_stats(
    breakers: *const sg_breakers,
    out: *mut sg_breakers_stats,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (breakers, out) = unsafe { (arg(breakers, "breakers")?, Out::new(out, "out")?) };
        out.write(breakers.breakers.stats().into());
        Ok(())
    })
}
