//! Configuration structs that carry their own size, so they can grow without breaking callers.
//!
//! Every configuration struct starts with `uint32_t struct_size`, which the caller sets to
//! `sizeof` the struct as its header declares it. The library reads what both sides know:
//!
//! - a size below the first published one is refused;
//! - a size up to the library's own is read as far as it goes, the rest taking the defaults
//!   (a caller built against an older header);
//! - a larger size (a caller built against a newer header) is accepted only if every byte
//!   past the library's own size is zero: fields this version does not know must be unset.
//!
//! New fields are only ever appended, past the previous version's `sizeof`, and zero always
//! means "the default", so a zero-initialised struct is valid in every version.

use std::mem::MaybeUninit;

use crate::ffi::boundary::Failure;
use crate::ffi::result::sg_result;

/// The largest `struct_size` considered at all; beyond it the value is taken for garbage.
const MAX_STRUCT_SIZE: usize = 1 << 12;

/// A configuration struct with a leading `struct_size`.
///
/// # Safety
///
/// The type must be `repr(C)` with a `u32` size as its first field, and every field must be
/// valid when all its bytes are zero (integers, floats, raw pointers, nullable function
/// pointers).
pub(crate) unsafe trait Versioned: Copy {
    /// The struct's name in the header, for messages.
    const NAME: &'static str;
    /// `sizeof` the struct in the first version that published it.
    const FIRST_SIZE: usize;
}

/// Reads the caller's struct at `ptr` as this version of the library knows it.
///
/// # Safety
///
/// A non-NULL `ptr` must point to at least `struct_size` readable bytes, `struct_size` being
/// the value of its first field.
pub(crate) unsafe fn read<T: Versioned>(ptr: *const T, name: &'static str) -> Result<T, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: every version of the struct starts with its size.
    let size = unsafe { ptr.cast::<u32>().read_unaligned() } as usize;
    let known = size_of::<T>();
    if !(T::FIRST_SIZE..=MAX_STRUCT_SIZE).contains(&size) {
        return Err(unsupported::<T>(format!(
            "{}.struct_size is {size}; this library reads sizes from {} (set it to sizeof({}))",
            T::NAME,
            T::FIRST_SIZE,
            T::NAME
        )));
    }
    let bytes = ptr.cast::<u8>();
    if size > known {
        // SAFETY: the caller vouches for `size` readable bytes.
        let newer = unsafe { std::slice::from_raw_parts(bytes.add(known), size - known) };
        if let Some(at) = newer.iter().position(|&b| b != 0) {
            return Err(unsupported::<T>(format!(
                "{} has {size} bytes and byte {} is set, but this library knows only the first \
                 {known}: a newer header's field is in use",
                T::NAME,
                known + at
            )));
        }
    }
    let mut config = MaybeUninit::<T>::zeroed();
    // SAFETY: both sides hold at least `size.min(known)` bytes; an all-zero `T` is valid by the
    // trait's contract, and so is one overwritten with the caller's fields.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes, config.as_mut_ptr().cast::<u8>(), size.min(known));
        Ok(config.assume_init())
    }
}

fn unsupported<T: Versioned>(detail: String) -> Failure {
    Failure::new(sg_result::SG_UNSUPPORTED_STRUCT_SIZE, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Grown {
        struct_size: u32,
        a: u32,
        b: u64,
    }

    // SAFETY: repr(C), size first, all fields integers.
    unsafe impl Versioned for Grown {
        const NAME: &'static str = "grown";
        const FIRST_SIZE: usize = 8;
    }

    #[test]
    fn older_callers_get_defaults_and_newer_ones_must_leave_unknown_fields_zero() {
        let old = [8u32, 5];
        let g = unsafe { read::<Grown>(old.as_ptr().cast(), "config") }.unwrap();
        assert_eq!(
            g,
            Grown {
                struct_size: 8,
                a: 5,
                b: 0
            }
        );

        let mut newer = [24u32, 5, 7, 0, 0, 0];
        let g = unsafe { read::<Grown>(newer.as_ptr().cast(), "config") }.unwrap();
        assert_eq!(
            g,
            Grown {
                struct_size: 24,
                a: 5,
                b: 7
            }
        );
        newer[4] = 1;
        let err = unsafe { read::<Grown>(newer.as_ptr().cast(), "config") }.unwrap_err();
        assert_eq!(err.code, sg_result::SG_UNSUPPORTED_STRUCT_SIZE);
        assert!(err.detail.contains("byte 16 is set"), "{}", err.detail);

        for size in [0u32, 4, 1 << 20] {
            let bad = [size, 0, 0, 0];
            let err = unsafe { read::<Grown>(bad.as_ptr().cast(), "config") }.unwrap_err();
            assert_eq!(err.code, sg_result::SG_UNSUPPORTED_STRUCT_SIZE);
        }
        let err = unsafe { read::<Grown>(std::ptr::null(), "config") }.unwrap_err();
        assert_eq!(err.code, sg_result::SG_NULL_ARGUMENT);
    }
}
