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
}
