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
//! The buffer also carries a small header: where the live words start, the front entry's count,
//! and when the key was last checked; then one cursor per window except the longest (whose cursor
//! is the front of the log itself). Where the live words end is the caller's to keep (the log
//! keeps it in the key's table slot, with the newest entry's tick), so an append that needs no
//! growth reads nothing from the header and writes only the words it appends. The whole state of
//! a busy key is one allocation.
//!
//! A ring is never empty: an emptied log drops its ring. So a ring whose end meets its start is
//! full.

use crate::clock::Tick;

const KIND: u32 = 0b11 << 30;
const COUNT: u32 = 0b10 << 30;
const HIGH: u32 = 0b11 << 30;
const DELTA_MASK: u32 = (1 << 31) - 1;
const PAYLOAD: u32 = (1 << 30) - 1;

/// Header words: start of the live words, the front entry's count, the time the key was last
/// checked (two words).
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

    /// Words the ring can hold.
    #[inline]
    pub(crate) fn capacity(&self, cursors: usize) -> usize {
        self.buf.len() - self.data(cursors)
    }

    /// The header words, behind one bounds check. Only an allocated ring has them.
    #[inline(always)]
    fn header(&self) -> &[u32; HEADER] {
        self.buf.first_chunk().expect("an allocated ring")
    }

    #[inline(always)]
    fn header_mut(&mut self) -> &mut [u32; HEADER] {
        self.buf.first_chunk_mut().expect("an allocated ring")
    }

    #[inline]
    fn start(&self) -> usize {
        self.header()[0] as usize
    }

    /// Live words, given where they end.
    #[inline]
    pub(crate) fn len(&self, cursors: usize, end: usize) -> usize {
        let start = self.start();
        if end > start {
            end - start
        } else {
            // Ending where it starts, a ring (never empty) is full.
            end + self.capacity(cursors) - start
        }
    }

    /// Physical index of the first live word (the front entry).
    #[inline]
    pub(crate) fn front(&self) -> usize {
        self.start()
    }

    /// Cost of the front entry alone.
    #[inline]
    pub(crate) fn front_count(&self) -> u32 {
        self.header()[1]
    }

    #[inline]
    pub(crate) fn set_front_count(&mut self, count: u32) {
        self.header_mut()[1] = count;
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

    /// When the key was last checked, as last set.
    #[inline]
    pub(crate) fn last_seen(&self) -> Tick {
        let h = self.header();
        Tick::from(h[2]) | Tick::from(h[3]) << 32
    }

    #[inline]
    pub(crate) fn set_last_seen(&mut self, seen: Tick) {
        let h = self.header_mut();
        h[2] = seen as u32;
        h[3] = (seen >> 32) as u32;
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

    /// The count of the entry starting at `at`, and where the next entry starts, in a ring whose
    /// live words end at `end`.
    #[inline]
    pub(crate) fn entry_at(&self, cursors: usize, end: usize, at: usize) -> (u64, usize) {
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
    pub(crate) fn pop_front_to(&mut self, next: usize) {
        self.header_mut()[0] = next as u32;
    }

    /// Appends an entry of `count` at `delta` ticks after the previous one, at `end`; returns
    /// the new end. The caller has made room with [`reserve`](Self::reserve).
    #[inline(always)]
    pub(crate) fn push_entry(
        &mut self,
        cursors: usize,
        end: usize,
        delta: Tick,
        count: u32,
    ) -> usize {
        if count == 1 && delta <= Tick::from(DELTA_MASK) {
            // The usual entry: one TICK word.
            let d = self.data(cursors);
            self.buf[d + end] = delta as u32;
            return self.wrap(cursors, end + 1);
        }
        self.push_wide_entry(cursors, end, delta, count)
    }

    /// [`push_entry`](Self::push_entry) for an entry of more than one word.
    #[inline(never)]
    fn push_wide_entry(
        &mut self,
        cursors: usize,
        mut end: usize,
        delta: Tick,
        count: u32,
    ) -> usize {
        if delta > Tick::from(DELTA_MASK) {
            end = self.push_word(cursors, end, HIGH | (delta >> 31) as u32);
        }
        end = self.push_word(cursors, end, (delta as u32) & DELTA_MASK);
        self.push_count(cursors, end, count - 1)
    }

    /// Adds `extra` to the count of the last entry (ending at `end`), filling its last COUNT
    /// word first; returns the new end.
    pub(crate) fn add_to_last(&mut self, cursors: usize, end: usize, mut extra: u32) -> usize {
        let last = self.wrap(cursors, end + self.capacity(cursors) - 1);
        let d = self.data(cursors);
        let w = self.buf[d + last];
        if is_count(w) {
            let room = PAYLOAD - (w & PAYLOAD);
            let add = room.min(extra);
            self.buf[d + last] = w + add;
            extra -= add;
        }
        self.push_count(cursors, end, extra)
    }

    /// Whether `extra` more count fits the last entry's last COUNT word.
    pub(crate) fn last_has_room(&self, cursors: usize, end: usize, extra: u32) -> bool {
        let last = self.wrap(cursors, end + self.capacity(cursors) - 1);
        let w = self.word(cursors, last);
        is_count(w) && PAYLOAD - (w & PAYLOAD) >= extra
    }

    fn push_count(&mut self, cursors: usize, mut end: usize, mut count: u32) -> usize {
        while count > 0 {
            let part = count.min(PAYLOAD);
            end = self.push_word(cursors, end, COUNT | part);
            count -= part;
        }
        end
    }

    #[inline]
    fn push_word(&mut self, cursors: usize, end: usize, word: u32) -> usize {
        let d = self.data(cursors);
        self.buf[d + end] = word;
        self.wrap(cursors, end + 1)
    }

    /// Makes room for `more` words after `end`, growing to at most `bound` words (the most the
    /// log can ever need) and at least doubling, so appends stay amortised O(1). Returns where
    /// the live words end afterwards.
    ///
    /// `at_most` bounds the live words from what the caller knows (its cost units, each in at
    /// most so many words): when that fits, the header is not read.
    #[inline]
    pub(crate) fn reserve(
        &mut self,
        cursors: usize,
        end: usize,
        more: usize,
        at_most: usize,
        bound: usize,
    ) -> usize {
        let cap = self.capacity(cursors);
        if at_most + more <= cap || self.len(cursors, end) + more <= cap {
            return end;
        }
        self.grow(cursors, end, more, bound)
    }

    /// [`reserve`](Self::reserve) once the ring is full: moves the words to a larger buffer.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, cursors: usize, end: usize, more: usize, bound: usize) -> usize {
        let cap = self.capacity(cursors);
        let (start, len) = (self.start(), self.len(cursors, end));
        let need = len + more;
        let new_cap = (cap * 2).max(4).min(bound).max(need);
        let mut grown = Self::with_capacity(cursors, new_cap);
        let d = self.data(cursors);
        // The live words in order: from the start to the end of the buffer, then the wrapped
        // part from the beginning of the data.
        let head = len.min(cap - start);
        grown.buf[d..d + head].copy_from_slice(&self.buf[d + start..d + start + head]);
        grown.buf[d + head..d + len].copy_from_slice(&self.buf[d..d + len - head]);
        grown.set_front_count(self.front_count());
        grown.set_last_seen(self.last_seen());
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
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bound on live words that never holds, so `reserve` measures the ring.
    const UNKNOWN: usize = usize::MAX / 2;

    /// Reads every entry of a ring whose live words end at `end` back as `(delta, count)`.
    fn entries(r: &Ring, cursors: usize, end: usize) -> Vec<(Tick, u64)> {
        let mut out = Vec::new();
        let mut at = r.front();
        let mut left = r.len(cursors, end);
        while left > 0 {
            let delta = r.delta_at(cursors, at);
            let (count, next) = r.entry_at(cursors, end, at);
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
        let mut end = r.push_entry(cursors, 0, 9, 1);
        let mut want = vec![(9, 1)];
        let items: &[(Tick, u32)] = &[
            (0, 1),
            (5, 3),
            (1 << 31, 1),
            (u64::from(u32::MAX) << 20, 7),
            (1, (1 << 30) + 5),
            (2, u32::MAX),
        ];
        for (round, &(delta, count)) in items.iter().cycle().take(40).enumerate() {
            end = r.reserve(cursors, end, words_for(delta, count), UNKNOWN, usize::MAX);
            end = r.push_entry(cursors, end, delta, count);
            want.push((delta, u64::from(count)));
            if round % 3 == 2 {
                let (_, next) = r.entry_at(cursors, end, r.front());
                r.pop_front_to(next);
                want.remove(0);
            }
            assert_eq!(entries(&r, cursors, end), want, "round {round}");
        }
    }

    #[test]
    fn a_bound_on_live_words_spares_the_measure_but_not_the_growth() {
        let mut r = Ring::with_capacity(0, 2);
        let end = r.push_entry(0, 0, 0, 1);
        // One live word: a bound of one lets the append through without growing.
        assert_eq!(r.reserve(0, end, 1, 1, 8), end);
        let end = r.push_entry(0, end, 3, 1);
        assert_eq!(r.capacity(0), 2);
        // Full: even a loose bound leads to the measure, which grows the ring.
        let end = r.reserve(0, end, 1, UNKNOWN, 8);
        assert_eq!(r.capacity(0), 4);
        assert_eq!(entries(&r, 0, end), [(0, 1), (3, 1)]);
    }

    #[test]
    fn coalescing_fills_count_words_before_adding_more() {
        let mut r = Ring::with_capacity(0, 8);
        let end = r.push_entry(0, 0, 0, 1);
        assert!(!r.last_has_room(0, end, 1));
        let end = r.reserve(0, end, 1, UNKNOWN, 8);
        let end = r.add_to_last(0, end, 2);
        assert!(r.last_has_room(0, end, PAYLOAD - 2));
        let end = r.add_to_last(0, end, 5);
        assert_eq!(r.len(0, end), 2);
        assert_eq!(r.entry_at(0, end, r.front()).0, 8);
    }

    #[test]
    fn a_full_ring_pops_its_only_entry() {
        let mut r = Ring::with_capacity(0, 2);
        let end = r.push_entry(0, 0, 0, 2);
        assert_eq!(end, 0, "two words fill the ring and wrap the end");
        assert_eq!(r.len(0, end), 2);
        let (count, next) = r.entry_at(0, end, r.front());
        assert_eq!(count, 2);
        assert_eq!(next, end);
    }
}
