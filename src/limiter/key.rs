//! Keys as the tables store them: short keys inline, long ones on the heap.

/// The longest key stored inline, without an allocation of its own.
pub(crate) const INLINE: usize = 22;

/// A key's bytes, owned by a table slot.
#[derive(Clone)]
pub(crate) enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut inline = [0; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Self::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            Self::Heap(bytes.into())
        }
    }

    /// Whether this key is `other`.
    #[inline(always)]
    pub(crate) fn is(&self, other: &[u8]) -> bool {
        match self {
            Self::Inline { len, bytes } => {
                usize::from(*len) == other.len() && short_eq(&bytes[..other.len()], other)
            }
            Self::Heap(bytes) => **bytes == *other,
        }
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(bytes) => bytes,
        }
    }

    /// Bytes allocated on the heap for this key.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Inline { .. } => 0,
            Self::Heap(bytes) => bytes.len(),
        }
    }
}

/// Equality of two slices of the same length, at most 24 bytes, in a few word compares instead
/// of a call to `memcmp`: overlapping loads from both ends cover every byte.
#[inline(always)]
fn short_eq(a: &[u8], b: &[u8]) -> bool {
    debug_assert!(a.len() == b.len() && a.len() <= 24);
    let n = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        0 => true,
        1..=3 => a == b,
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => {
            word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, n - 8) == word(b, n - 8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_inline_and_on_the_heap() {
        for len in [0, 1, INLINE, INLINE + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let key = Key::new(&bytes);
            assert_eq!(key.as_bytes(), &bytes[..]);
            assert_eq!(key.heap_bytes(), if len > INLINE { len } else { 0 });
        }
        assert_eq!(std::mem::size_of::<Key>(), 24);
    }

    #[test]
    fn short_keys_compare_byte_for_byte() {
        for len in 0..=INLINE {
            let a: Vec<u8> = (0..len as u8).collect();
            let key = Key::new(&a);
            assert!(key.is(&a));
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x40;
                assert!(!key.is(&b), "len {len}, byte {i} differs");
            }
            assert!(!key.is(&a[..len.saturating_sub(1)]) || len == 0);
        }
    }
}
