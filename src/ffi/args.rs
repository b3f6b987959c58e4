//! Turning the host's raw pointers into references, slices and output slots, checking each
//! for NULL (and arrays for alignment and size) before anything is done.

use std::ptr::NonNull;

use crate::ffi::boundary::{Failure, Reported};

/// A reference to the value behind `ptr`, or the failure naming the NULL argument.
///
/// # Safety
///
/// A non-NULL `ptr` must point to a live `T` for `'a`.
#[inline(always)]
pub(crate) unsafe fn arg<'a, T>(ptr: *const T, name: &'static str) -> Result<&'a T, Reported> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| null(name))
}

/// The `len` values at `ptr`, checked for NULL, alignment and an addressable size. NULL with a
/// length of 0 is the empty slice, as C callers holding an empty buffer often pass.
///
/// # Safety
///
/// A non-NULL `ptr` must point to `len` initialised values of `T`, unchanged for `'a`.
#[inline(always)]
pub(crate) unsafe fn slice<'a, T>(
    ptr: *const T,
    len: usize,
    name: &'static str,
) -> Result<&'a [T], Reported> {
    if ptr.is_null() {
        return match len {
            0 => Ok(&[]),
            _ => Err(null(name)),
        };
    }
    if !ptr.is_aligned() {
        return Err(misaligned(name));
    }
    if len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(too_long(name, len));
    }
    // SAFETY: non-NULL, aligned, of an addressable size, and readable by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A slot the host gave for a result, checked for NULL before the work is done and written
/// only once it succeeded.
#[derive(Debug)]
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// The slot at `ptr`, or the failure naming the NULL argument.
    ///
    /// # Safety
    ///
    /// A non-NULL `ptr` must be valid for a write of one `T` until the slot is written.
    #[inline(always)]
    pub(crate) unsafe fn new(ptr: *mut T, name: &'static str) -> Result<Self, Reported> {
        NonNull::new(ptr).map(Self).ok_or_else(|| null(name))
    }

    /// Writes the result, without reading or dropping whatever the slot held.
    #[inline(always)]
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new`'s contract.
        unsafe { self.0.as_ptr().write(value) }
    }

    /// The slot's address.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

// The failures are built out of line, so the checks on the hot paths are a compare and a
// branch each and nothing of the message is prepared before it is needed.

#[cold]
#[inline(never)]
fn null(name: &'static str) -> Reported {
    Failure::null(name).into()
}

#[cold]
#[inline(never)]
fn misaligned(name: &'static str) -> Reported {
    Failure::argument(format!("argument `{name}` is not aligned for its type")).into()
}

#[cold]
#[inline(never)]
fn too_long(name: &'static str, len: usize) -> Reported {
    Failure::argument(format!(
        "argument `{name}`: length {len} is larger than any buffer can be"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::detail;
    use crate::ffi::result::sg_result;

    #[test]
    fn null_pointers_are_named_and_empty_buffers_are_allowed() {
        let err = unsafe { arg::<u32>(std::ptr::null(), "limiter") }.unwrap_err();
        assert_eq!(err.code(), sg_result::SG_NULL_ARGUMENT);
        assert_eq!(detail::get(), "argument `limiter` is NULL");
        assert_eq!(
            unsafe { slice::<u8>(std::ptr::null(), 0, "key") },
            Ok(&[][..])
        );
        let err = unsafe { slice::<u8>(std::ptr::null(), 3, "key") }.unwrap_err();
        assert_eq!(err.code(), sg_result::SG_NULL_ARGUMENT);
        unsafe { Out::<u64>::new(std::ptr::null_mut(), "out") }.unwrap_err();
        assert_eq!(detail::get(), "argument `out` is NULL");
    }

    #[test]
    fn misaligned_and_oversized_arrays_are_refused() {
        let words = [0u64; 2];
        let odd = words.as_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        let err = unsafe { slice(odd, 1, "windows") }.unwrap_err();
        assert_eq!(err.code(), sg_result::SG_INVALID_ARGUMENT);
        let err = unsafe { slice(words.as_ptr(), usize::MAX / 2, "windows") }.unwrap_err();
        assert_eq!(err.code(), sg_result::SG_INVALID_ARGUMENT);
        assert_eq!(
            unsafe { slice(words.as_ptr(), 2, "windows") },
            Ok(&words[..])
        );
    }
}
