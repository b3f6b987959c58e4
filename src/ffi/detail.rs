//! The calling thread's detail message for its last failed call, and `sg_last_error`.

use std::cell::RefCell;
use std::ffi::c_char;

use crate::ffi::args::Out;
use crate::ffi::boundary::guard;
use crate::ffi::result::sg_result;

thread_local! {
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `detail` as the calling thread's last failure.
pub(crate) fn set(detail: &str) {
    LAST.with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            last.clear();
            last.push_str(detail);
        }
    });
}

/// The calling thread's last failure detail.
#[cfg(test)]
pub(crate) fn get() -> String {
    LAST.with(|last| last.borrow().clone())
}

/// Copies the detail message of the calling thread's most recent failed call into `buf`, as
/// `snprintf` does: at most `buf_len - 1` bytes and a terminating NUL, nothing when `buf_len`
/// is 0. `*out_len` receives the message's full length without the NUL, so a caller whose
/// buffer was too small can retry with `*out_len + 1` bytes. The message is UTF-8 English
/// prose naming the setting or argument at fault; it is empty before any call has failed.
///
/// Successful calls leave the message alone, as they leave `errno`: read it right after the
/// call that failed. Each thread has its own.
///
/// Returns `SG_OK`, or `SG_NULL_ARGUMENT` if `out_len` is NULL, or `buf` is NULL while
/// `buf_len` is not 0.
///
/// # Safety
///
/// `buf` must point to `buf_len` writable bytes (or be NULL with `buf_len` 0); `out_len` must
/// point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sg_last_error(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> sg_result {
    guard(move || {
        let out_len = unsafe { Out::new(out_len, "out_len") }?;
        let buf = match buf_len {
            0 => None,
            _ => Some(unsafe { Out::new(buf, "buf") }?),
        };
        LAST.with(|last| {
            let last = last.borrow();
            if let Some(buf) = buf {
                let copied = last.len().min(buf_len - 1);
                let dst = buf.as_ptr().cast::<u8>();
                // SAFETY: the caller gave `buf_len` writable bytes; we write `copied + 1` of them.
                unsafe {
                    std::ptr::copy_nonoverlapping(last.as_ptr(), dst, copied);
                    dst.add(copied).write(0);
                }
            }
            out_len.write(last.len());
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_like_snprintf() {
        set("window 0: the limit must be at least 1");
        let mut len = 0;
        let mut small = [1 as c_char; 8];
        let r = unsafe { sg_last_error(small.as_mut_ptr(), small.len(), &mut len) };
        assert_eq!(r, sg_result::SG_OK);
        assert_eq!(len, 38);
        let text: Vec<u8> = small.iter().map(|&c| c as u8).collect();
        assert_eq!(&text, b"window \0");
        let r = unsafe { sg_last_error(std::ptr::null_mut(), 0, &mut len) };
        assert_eq!((r, len), (sg_result::SG_OK, 38));
        let r = unsafe { sg_last_error(std::ptr::null_mut(), 4, &mut len) };
        assert_eq!(r, sg_result::SG_NULL_ARGUMENT);
    }
}
