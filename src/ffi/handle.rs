//! The handles the host owns: each built from a versioned configuration into a box whose
//! pointer goes to the host, and freed from that pointer exactly once.

use crate::ffi::args::Out;
use crate::ffi::boundary::{Reported, boundary, guard};
use crate::ffi::result::sg_result;
use crate::ffi::versioned::{self, Versioned};

/// Reads the configuration at `config`, builds a handle from it with `build` and stores the
/// handle's pointer in `*out`, which is written only on success.
///
/// # Safety
///
/// `config` must point to a `C` or be NULL; a non-NULL `out` must be valid for a write of one
/// pointer.
pub(crate) unsafe fn new<C: Versioned, H>(
    config: *const C,
    out: *mut *mut H,
    build: impl FnOnce(&C) -> Result<H, Reported>,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract.
        let (config, out) = unsafe { (versioned::read(config, "config")?, Out::new(out, "out")?) };
        out.write(Box::into_raw(Box::new(build(&config)?)));
        Ok(())
    })
}

/// Drops the handle behind `handle`, a pointer made by boxing it; NULL does nothing.
///
/// # Safety
///
/// `handle` must be NULL or come from `Box::into_raw`, not be freed already, and no other
/// thread may be using it or use it afterwards.
pub(crate) unsafe fn free<H>(handle: *mut H) {
    boundary((), || {
        if !handle.is_null() {
            // SAFETY: the caller's contract: boxed, and released here once.
            drop(unsafe { Box::from_raw(handle) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::detail;
    use crate::ffi::limiter::sg_limiter_config;

    fn config() -> sg_limiter_config {
        sg_limiter_config {
            struct_size: size_of::<sg_limiter_config>() as u32,
            time_base: 0,
            windows: std::ptr::null(),
            windows_len: 0,
            max_keys: 0,
            shards: 0,
            max_key_len: 9,
            on_full: 0,
        }
    }

    #[test]
    fn a_built_handle_reaches_the_host_and_is_freed_from_its_pointer() {
        let mut out = std::ptr::null_mut::<u32>();
        let r = unsafe { new(&config(), &mut out, |c| Ok(c.max_key_len + 1)) };
        assert_eq!(r, sg_result::SG_OK);
        assert_eq!(unsafe { *out }, 10);
        unsafe { free(out) };
        unsafe { free(std::ptr::null_mut::<u32>()) };
    }

    #[test]
    fn nothing_is_written_when_the_configuration_is_missing_or_refused() {
        let mut out = std::ptr::null_mut::<u32>();
        let r = unsafe { new(std::ptr::null::<sg_limiter_config>(), &mut out, |_| Ok(1)) };
        assert_eq!(r, sg_result::SG_NULL_ARGUMENT);
        assert_eq!(detail::get(), "argument `config` is NULL");
        let r = unsafe {
            new(&config(), &mut out, |_| {
                Err(crate::ffi::boundary::Failure::config("refused").into())
            })
        };
        assert_eq!(
            (r, out),
            (sg_result::SG_INVALID_CONFIG, std::ptr::null_mut())
        );
    }
}
