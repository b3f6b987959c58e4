//! A key's entries, packed into 32-bit words in a circular buffer.
//!
//! An entry is a tick and a count (the cost admitted in that tick). Entries are stored as
//! deltas from the entry before, so a word is enough for any two requests less than 35 minutes
//! apart:
//!
//! ```text
//! 0ddd…d  TICK   starts an entry, 31-bit delta from the previous entry's tick, count 1
//! 10cc…c  COUNT  adds a 30-bit amount to the count of the entry it follows
//! 11hh…h  HIGH   precedes a TICK whose delta needs more than 31 bits: adds h << 31 to it
//! ```
//!
//! The buffer also carries a small header: where the live words start, how many there are, the
//! newest entry's tick, and one cursor per window except the longest (whose cursor is the front of the log itself). The
//! whole state of a busy key is therefore one allocation.

use crate::clock::Tick;

const KIND: u32 = 0b11 << 30;
const COUNT: u32 = 0b10 << 30;
const HIGH: u32 = 0b11 << 30;
const DELTA_MASK: u32 = (1 << 31) - 1;
const PAYLOAD: u32 = (1 << 30) - 1;

/// Header words: start of the live words, number of live words, the newest entry's tick (two
/// words).
const HEADER: usize = 4;
/// Words per cursor: position, tick (two words), sum.
const CURSOR: usize = 4;

#[inline]
fn is_tick(word: u32) -> bool {
    word >> 31 == 0
}

#[inline]
fn is_count(word: u32) -> bool {
    word & KIND == COUNT
}

/// How many words an entry of `count` with a delta of `delta` ticks needs, with no coalescing.
pub(crate) fn words_for(delta: Tick, count: u32) -> usize {
    usize::from(delta > Tick::from(DELTA_MASK))
        + 1
        + (count as usize - 1).div_ceil(PAYLOAD as usize)
}

/// Where a window's oldest counted entry is, and how much the window holds from there on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// Physical index of the entry's first word; meaningless when `sum` is zero.
    pub(crate) at: usize,
    /// The entry's tick.
    pub(crate) tick: Tick,
    /// Cost of the entries from `at` to the end of the log.
    pub(crate) sum: u32,
}

/// The words of a log: header, cursors and the circular buffer of entries.
///
/// Empty (no allocation) while the log holds at most one entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    buf: Box<[u32]>,
}

impl Ring {
    /// A ring for `cursors` cursors and room for `capacity` words.
    pub(crate) fn with_capacity(cursors: usize, capacity: usize) -> Self {
        Self {
            buf: vec![0; HEADER + cursors * CURSOR + capacity].into_boxed_slice(),
        }
    }

    pub(crate) fn is_allocated(&self) -> bool {
        !self.buf.is_empty()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.len() * size_of::<u32>()
    }

    #[inline]
    fn data(&self, cursors: usize) -> usize {
        HEADER + cursors * CURSOR
    }

    #[inline]
    fn capacity(&self, cursors: usize) -> usize {
        self.buf.len() - self.data(cursors)
    }

    #[inline]
    fn start(&self) -> usize {
        self.buf[0] as usize
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.buf[1] as usize
    }

    /// Physical index of the first live word (the front entry).
    #[inline]
    pub(crate) fn front(&self) -> usize {
        self.start()
    }

    /// Physical index one past the last live word.
    #[inline]
    pub(crate) fn end(&self, cursors: usize) -> usize {
        self.wrap(cursors, self.start() + self.len())
    }

    #[inline]
    fn wrap(&self, cursors: usize, index: usize) -> usize {
        let cap = self.capacity(cursors);
        if index >= cap { index - cap } else { index }
    }

    #[inline]
    fn word(&self, cursors: usize, index: usize) -> u32 {
        self.buf[self.data(cursors) + index]
    }

    /// Tick of the newest entry, as last set.
    #[inline]
    pub(crate) fn back(&self) -> Tick {
        Tick::from(self.buf[2]) | Tick::from(self.buf[3]) << 32
    }

    #[inline]
    pub(crate) fn set_back(&mut self, back: Tick) {
        self.buf[2] = back as u32;
        self.buf[3] = (back >> 32) as u32;
    }

    /// Cursor `i` (0-based over the windows after the longest).
    #[inline]
    pub(crate) fn cursor(&self, i: usize) -> Cursor {
        let b = HEADER + i * CURSOR;
        Cursor {
            at: self.buf[b] as usize,
            tick: Tick::from(self.buf[b + 1]) | Tick::from(self.buf[b + 2]) << 32,
            sum: self.buf[b + 3],
        }
    }

    #[inline]
    pub(crate) fn set_cursor(&mut self, i: usize, c: Cursor) {
        let b = HEADER + i * CURSOR;
        self.buf[b] = c.at as u32;
        self.buf[b + 1] = c.tick as u32;
        self.buf[b + 2] = (c.tick >> 32) as u32;
        self.buf[b + 3] = c.sum;
    }

    /// The delta of the entry starting at `at`.
    #[inline]
    pub(crate) fn delta_at(&self, cursors: usize, at: usize) -> Tick {
        let w = self.word(cursors, at);
        if is_tick(w) {
            return Tick::from(w);
        }
        let high = Tick::from(w & PAYLOAD) << 31;
        high | Tick::from(self.word(cursors, self.wrap(cursors, at + 1)) & DELTA_MASK)
    }

    /// The count of the entry starting at `at`, and where the next entry starts.
    #[inline]
    pub(crate) fn entry_at(&self, cursors: usize, at: usize) -> (u64, usize) {
        let end = self.end(cursors);
        let mut i = at;
        if !is_tick(self.word(cursors, i)) {
            i = self.wrap(cursors, i + 1);
        }
        i = self.wrap(cursors, i + 1);
        let mut count = 1u64;
        while i != end {
            let w = self.word(cursors, i);
            if !is_count(w) {
                break;
            }
            count += u64::from(w & PAYLOAD);
            i = self.wrap(cursors, i + 1);
        }
        (count, i)
    }

    /// Drops the front entry, whose words end at `next`.
    #[inline]
    pub(crate) fn pop_front_to(&mut self, cursors: usize, next: usize) {
        let cap = self.capacity(cursors);
        let used = if next >= self.start() {
            next - self.start()
        } else {
            next + cap - self.start()
        };
        // An entry that ends at the very end of a full ring wraps `next` to `start`.
        let used = if used == 0 { self.len() } else { used };
        self.buf[0] = next as u32;
        self.buf[1] -= used as u32;
    }

    /// Appends an entry of `count` at `delta` ticks after the previous one; returns where it
    /// starts. The caller has made room with [`reserve`](Self::reserve).
    #[inline]
    pub(crate) fn push_entry(&mut self, cursors: usize, delta: Tick, count: u32) -> usize {
        let at = self.end(cursors);
        if count == 1 && delta <= Tick::from(DELTA_MASK) {
            // The usual entry: one TICK word.
            let d = self.data(cursors);
            self.buf[d + at] = delta as u32;
            self.buf[1] += 1;
            return at;
        }
        if delta > Tick::from(DELTA_MASK) {
            self.push_word(cursors, HIGH | (delta >> 31) as u32);
        }
        self.push_word(cursors, (delta as u32) & DELTA_MASK);
        self.push_count(cursors, count - 1);
        at
    }

    /// Adds `extra` to the count of the last entry, filling its last COUNT word first.
    pub(crate) fn add_to_last(&mut self, cursors: usize, mut extra: u32) {
        let end = self.end(cursors);
        let last = self.wrap(cursors, end + self.capacity(cursors) - 1);
        let d = self.data(cursors);
        let w = self.buf[d + last];
        if is_count(w) {
            let room = PAYLOAD - (w & PAYLOAD);
            let add = room.min(extra);
            self.buf[d + last] = w + add;
            extra -= add;
        }
        self.push_count(cursors, extra);
    }

    /// Whether `extra` more count fits the last entry's last COUNT word.
    pub(crate) fn last_has_room(&self, cursors: usize, extra: u32) -> bool {
        let end = self.end(cursors);
        let last = self.wrap(cursors, end + self.capacity(cursors) - 1);
        let w = self.word(cursors, last);
        is_count(w) && PAYLOAD - (w & PAYLOAD) >= extra
    }

    fn push_count(&mut self, cursors: usize, mut count: u32) {
        while count > 0 {
            let part = count.min(PAYLOAD);
            self.push_word(cursors, COUNT | part);
            count -= part;
        }
    }

    #[inline]
    fn push_word(&mut self, cursors: usize, word: u32) {
        let end = self.end(cursors);
        let d = self.data(cursors);
        self.buf[d + end] = word;
        self.buf[1] += 1;
    }

    /// Makes room for `more` words, growing to at most `bound` words (the most the log can ever
    /// need) and at least doubling, so appends stay amortised O(1).
    #[inline]
    pub(crate) fn reserve(&mut self, cursors: usize, more: usize, bound: usize) {
        if self.len() + more > self.capacity(cursors) {
            self.grow(cursors, more, bound);
        }
    }

    /// [`reserve`](Self::reserve) once the ring is full: moves the words to a larger buffer.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, cursors: usize, more: usize, bound: usize) {
        let cap = self.capacity(cursors);
        let need = self.len() + more;
        let new_cap = (cap * 2).max(4).min(bound).max(need);
        let mut grown = Self::with_capacity(cursors, new_cap);
        let (start, len) = (self.start(), self.len());
        let d = self.data(cursors);
        // The live words in order: from the start to the end of the buffer, then the wrapped
        // part from the beginning of the data.
        let head = len.min(cap - start);
        grown.buf[d..d + head].copy_from_slice(&self.buf[d + start..d + start + head]);
        grown.buf[d + head..d + len].copy_from_slice(&self.buf[d..d + len - head]);
        grown.buf[1] = len as u32;
        grown.set_back(self.back());
        // Cursors keep their offset from the start.
        for c in 0..cursors {
            let mut cur = self.cursor(c);
            cur.at = if cur.at >= start {
                cur.at - start
            } else {
                cur.at + cap - start
            };
            grown.set_cursor(c, cur);
        }
        *self = grown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads every entry of a ring back as `(delta, count)`.
    fn entries(r: &Ring, cursors: usize) -> Vec<(Tick, u64)> {
        let mut out = Vec::new();
        let mut at = r.front();
        let mut left = r.len();
        while left > 0 {
            let delta = r.delta_at(cursors, at);
            let (count, next) = r.entry_at(cursors, at);
            let used = (next + r.capacity(cursors) - at) % r.capacity(cursors);
            let used = if used == 0 { left } else { used };
            left -= used;
            out.push((delta, count));
            at = next;
        }
        out
    }

    #[test]
    fn entries_round_trip_through_wraps_growth_and_long_deltas() {
        let cursors = 1;
        let mut r = Ring::with_capacity(cursors, 4);
        let mut want = Vec::new();
        let items: &[(Tick, u32)] = &[
            (0, 1),
            (5, 3),
            (1 << 31, 1),
            (u64::from(u32::MAX) << 20, 7),
            (1, (1 << 30) + 5),
            (2, u32::MAX),
        ];
        for (round, &(delta, count)) in items.iter().cycle().take(40).enumerate() {
            r.reserve(cursors, words_for(delta, count), usize::MAX);
            r.push_entry(cursors, delta, count);
            want.push((delta, u64::from(count)));
            if round % 3 == 2 {
                let (_, next) = r.entry_at(cursors, r.front());
                r.pop_front_to(cursors, next);
                want.remove(0);
            }
            assert_eq!(entries(&r, cursors), want, "round {round}");
        }
    }

    #[test]
    fn coalescing_fills_count_words_before_adding_more() {
        let mut r = Ring::with_capacity(0, 8);
        r.push_entry(0, 0, 1);
        assert!(!r.last_has_room(0, 1));
        r.reserve(0, 1, 8);
        r.add_to_last(0, 2);
        assert!(r.last_has_room(0, PAYLOAD - 2));
        r.add_to_last(0, 5);
        assert_eq!(r.len(), 2);
        assert_eq!(r.entry_at(0, r.front()).0, 8);
    }

    #[test]
    fn a_full_ring_pops_its_only_entry() {
        let mut r = Ring::with_capacity(0, 2);
        r.push_entry(0, 0, 2);
        assert_eq!(r.len(), 2);
        let (count, next) = r.entry_at(0, r.front());
        assert_eq!(count, 2);
        r.pop_front_to(0, next);
        assert_eq!(r.len(), 0);
    }
}
