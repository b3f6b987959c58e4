//! The body of the entry points that read a handle (and a key) and write one answer: every
//! pointer checked, in the order the function takes them, before the work is done, the slot
//! written only on success, all of it behind the panic boundary.

use crate::ffi::args::{Out, arg, slice};
use crate::ffi::boundary::{Reported, guard};
use crate::ffi::result::sg_result;

/// Writes to `*out` what `answer` makes of the handle behind `handle`.
///
/// # Safety
///
/// A non-NULL `handle` must point to a live `H`; a non-NULL `out` must be valid for a write of
/// one `T`.
#[inline(always)]
pub(crate) unsafe fn answer<H, T>(
    handle: *const H,
    handle_name: &'static str,
    out: *mut T,
    out_name: &'static str,
    answer: impl FnOnce(&H) -> T,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let (handle, out) = unsafe { (arg(handle, handle_name)?, Out::new(out, out_name)?) };
        out.write(answer(handle));
        Ok(())
    })
}

/// Writes to `*out` what `answer` makes of the handle behind `handle` and the `key_len` bytes
/// at `key`; a failure `answer` returns is the call's result and leaves `*out` alone.
///
/// # Safety
///
/// As for [`answer`]; a non-NULL `key` must point to `key_len` readable bytes.
#[inline(always)]
pub(crate) unsafe fn answer_keyed<H, T>(
    handle: *const H,
    handle_name: &'static str,
    key: *const u8,
    key_len: usize,
    out: *mut T,
    out_name: &'static str,
    answer: impl FnOnce(&H, &[u8]) -> Result<T, Reported>,
) -> sg_result {
    guard(move || {
        // SAFETY: the caller's contract, passed on.
        let (handle, key, out) = unsafe {
            (
                arg(handle, handle_name)?,
                slice(key, key_len, "key")?,
                Out::new(out, out_name)?,
            )
        };
        out.write(answer(handle, key)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::boundary::Failure;
    use crate::ffi::detail;

    #[test]
    fn the_answer_is_written_only_when_every_pointer_is_there() {
        let handle = 20u32;
        let mut slot = 0u64;
        let r = unsafe { answer(&handle, "handle", &mut slot, "out", |h| u64::from(*h) + 1) };
        assert_eq!((r, slot), (sg_result::SG_OK, 21));

        let r = unsafe { answer(std::ptr::null::<u32>(), "handle", &mut slot, "out", |_| 0) };
        assert_eq!((r, slot), (sg_result::SG_NULL_ARGUMENT, 21));
        assert_eq!(detail::get(), "argument `handle` is NULL");
        let r = unsafe {
            answer(
                &handle,
                "handle",
                std::ptr::null_mut::<u64>(),
                "out_x",
                |_| 0,
            )
        };
        assert_eq!(r, sg_result::SG_NULL_ARGUMENT);
        assert_eq!(detail::get(), "argument `out_x` is NULL");
    }

    #[test]
    fn a_keyed_answer_checks_the_key_and_passes_failures_on() {
        let handle = 1u8;
        let mut slot = 0usize;
        let key = b"host-a";
        let r = unsafe {
            answer_keyed(
                &handle,
                "h",
                key.as_ptr(),
                key.len(),
                &mut slot,
                "out",
                |_, k| Ok(k.len()),
            )
        };
        assert_eq!((r, slot), (sg_result::SG_OK, 6));

        let r = unsafe {
            answer_keyed(
                &handle,
                "h",
                std::ptr::null(),
                3,
                &mut slot,
                "out",
                |_, _| Ok(9),
            )
        };
        assert_eq!((r, slot), (sg_result::SG_NULL_ARGUMENT, 6));
        assert_eq!(detail::get(), "argument `key` is NULL");

        let r = unsafe {
            answer_keyed(
                &handle,
                "h",
                key.as_ptr(),
                key.len(),
                &mut slot,
                "out",
                |_, _| Err(Failure::argument("refused").into()),
            )
        };
        assert_eq!((r, slot), (sg_result::SG_INVALID_ARGUMENT, 6));
        assert_eq!(detail::get(), "refused");
    }
}
