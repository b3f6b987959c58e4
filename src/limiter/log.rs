//! One key's log of admitted requests, shared by all windows of the key.
//!
//! The log is the front (oldest) entry's tick, the back (newest) entry's tick, the total cost in
//! the log, and a [`Ring`] of packed entries. The longest window is the whole log: entries that
//! leave it are dropped. Every shorter window keeps a [`Cursor`] at its own oldest entry and the
//! sum from there on, so a check moves cursors past expired entries (amortised O(1)) and compares
//! sums; nothing is scanned.
//!
//! A log with at most one entry needs no ring at all: `front`, `back` and `total` say everything.
//! Most keys of a large population are like that, and cost no allocation.

use crate::clock::Tick;
use crate::limiter::Decision;
use crate::limiter::ring::{Cursor, Ring, words_for};
use crate::limiter::window::Span;

/// The shape every log of a limiter shares.
#[derive(Debug)]
pub(crate) struct Shape {
    /// The windows, longest first.
    pub(crate) spans: Box<[Span]>,
    /// The most words a log can need: every unit of the longest limit in its own entry, plus a
    /// HIGH word each when the longest window exceeds a TICK word's reach.
    pub(crate) max_words: usize,
}

impl Shape {
    pub(crate) fn new(spans: Vec<Span>) -> Self {
        let longest = spans[0];
        let per_entry = if longest.ticks > 1 << 31 { 2 } else { 1 };
        Self {
            max_words: longest.limit as usize * per_entry,
            spans: spans.into_boxed_slice(),
        }
    }

    /// Cursors a ring keeps: one per window but the longest.
    #[inline]
    fn cursors(&self) -> usize {
        self.spans.len() - 1
    }
}

/// Whether a request admitted at `t` still counts in a window of `ticks` at `now`.
#[inline]
fn inside(t: Tick, ticks: Tick, now: Tick) -> bool {
    t.saturating_add(ticks) > now
}

/// Time from `now` until an entry at `t` leaves a window of `ticks`.
#[inline]
fn leaves(t: Tick, ticks: Tick, now: Tick) -> Tick {
    t.saturating_add(ticks) - now
}

/// Admitted requests of one key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Log {
    front: Tick,
    back: Tick,
    /// Cost of everything in the log; zero means empty.
    total: u32,
    ring: Ring,
}

impl Log {
    /// Whether nothing in the log counts any more at `now` (all of it left the longest window).
    pub(crate) fn is_idle(&self, now: Tick, longest: Tick) -> bool {
        self.total == 0 || !inside(self.back, longest, now)
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Bytes this log holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.ring.heap_bytes()
    }

    /// Decides a request of `cost` at `now` (never earlier than any entry), and records it if it
    /// is admitted and `record` is set.
    #[inline]
    pub(crate) fn decide(&mut self, shape: &Shape, now: Tick, cost: u32, record: bool) -> Decision {
        self.expire(shape, now);
        let spans = &shape.spans[..];
        let allowed = spans.iter().enumerate().all(|(i, s)| {
            u64::from(self.usage(shape, i, now)) + u64::from(cost) <= u64::from(s.limit)
        });
        if allowed && record {
            self.record(shape, now, cost);
        }
        // A peek reports the numbers as if it had recorded.
        let pending = if allowed && !record { cost } else { 0 };

        // The binding window: least remaining; the first (longest) wins ties.
        let mut binding = 0;
        let mut least = u32::MAX;
        let mut binding_usage = 0;
        for (i, s) in spans.iter().enumerate() {
            let usage = self.usage(shape, i, now) + pending;
            let remaining = s.limit - usage;
            if remaining < least {
                (binding, least, binding_usage) = (i, remaining, usage);
            }
        }
        let span = spans[binding];
        let reset_after = match self.oldest(shape, binding, now) {
            Some(t) => leaves(t, span.ticks, now),
            None if binding_usage > 0 => span.ticks,
            None => 0,
        };
        let retry_after = if allowed {
            0
        } else {
            (0..spans.len())
                .map(|i| self.wait(shape, i, now, cost))
                .max()
                .unwrap_or(0)
        };
        Decision {
            allowed,
            window: span.index,
            limit: span.limit,
            remaining: least,
            reset_after,
            retry_after,
        }
    }

    /// Cost counted by window `i` at `now`; [`expire`](Self::expire) has run.
    #[inline]
    fn usage(&self, shape: &Shape, i: usize, now: Tick) -> u32 {
        if i == 0 {
            self.total
        } else if !self.ring.is_allocated() {
            if inside(self.front, shape.spans[i].ticks, now) {
                self.total
            } else {
                0
            }
        } else {
            self.ring.cursor(i - 1).sum
        }
    }

    /// Tick of the oldest entry window `i` counts, if any.
    #[inline]
    fn oldest(&self, shape: &Shape, i: usize, now: Tick) -> Option<Tick> {
        if self.usage(shape, i, now) == 0 {
            None
        } else if i == 0 || !self.ring.is_allocated() {
            Some(self.front)
        } else {
            Some(self.ring.cursor(i - 1).tick)
        }
    }

    /// Moves every window past the entries that have left it at `now`.
    #[inline]
    fn expire(&mut self, shape: &Shape, now: Tick) {
        if self.total == 0 {
            return;
        }
        let spans = &shape.spans[..];
        if !self.ring.is_allocated() {
            if !inside(self.front, spans[0].ticks, now) {
                self.total = 0;
            }
            return;
        }
        let cursors = shape.cursors();
        // Shorter windows first: whatever left the longest window left them too, so after this
        // no cursor points into the part of the ring the front is about to drop.
        for (c, span) in spans[1..].iter().enumerate() {
            let mut cur = self.ring.cursor(c);
            if cur.sum == 0 || inside(cur.tick, span.ticks, now) {
                continue;
            }
            while cur.sum > 0 && !inside(cur.tick, span.ticks, now) {
                let (count, next) = self.ring.entry_at(cursors, cur.at);
                cur.sum -= count as u32;
                cur.at = next;
                if cur.sum > 0 {
                    cur.tick += self.ring.delta_at(cursors, next);
                }
            }
            self.ring.set_cursor(c, cur);
        }
        while self.total > 0 && !inside(self.front, spans[0].ticks, now) {
            let (count, next) = self.ring.entry_at(cursors, self.ring.front());
            self.ring.pop_front_to(cursors, next);
            self.total -= count as u32;
            if self.total > 0 {
                self.front += self.ring.delta_at(cursors, next);
            }
        }
        if self.total == 0 {
            self.ring = Ring::default();
        }
    }

    /// Records `cost` at `now`; every window admits it.
    #[inline]
    fn record(&mut self, shape: &Shape, now: Tick, cost: u32) {
        let cursors = shape.cursors();
        if self.total == 0 {
            (self.front, self.back, self.total) = (now, now, cost);
            return;
        }
        if now == self.back {
            // Same tick: the newest entry grows. It is inside every window, so every sum grows.
            if self.ring.is_allocated() {
                if !self.ring.last_has_room(cursors, cost) {
                    self.ring
                        .reserve(cursors, words_for(0, cost), shape.max_words);
                }
                self.ring.add_to_last(cursors, cost);
                for c in 0..cursors {
                    let mut cur = self.ring.cursor(c);
                    cur.sum += cost;
                    self.ring.set_cursor(c, cur);
                }
            }
            self.total += cost;
            return;
        }
        let delta = now - self.back;
        if !self.ring.is_allocated() {
            self.spill(shape, now, cost);
        } else {
            self.ring
                .reserve(cursors, words_for(delta, cost), shape.max_words);
            let at = self.ring.push_entry(cursors, delta, cost);
            for c in 0..cursors {
                let mut cur = self.ring.cursor(c);
                if cur.sum == 0 {
                    (cur.at, cur.tick) = (at, now);
                }
                cur.sum += cost;
                self.ring.set_cursor(c, cur);
            }
        }
        self.total += cost;
        self.back = now;
    }

    /// Moves a one-entry log into a ring, with a second entry of `cost` at `now`.
    fn spill(&mut self, shape: &Shape, now: Tick, cost: u32) {
        let cursors = shape.cursors();
        let delta = now - self.back;
        let need = words_for(0, self.total) + words_for(delta, cost);
        let mut ring = Ring::with_capacity(cursors, need.max(4).min(shape.max_words).max(need));
        let first = ring.push_entry(cursors, 0, self.total);
        let second = ring.push_entry(cursors, delta, cost);
        for (c, span) in shape.spans[1..].iter().enumerate() {
            let cur = if inside(self.front, span.ticks, now) {
                Cursor {
                    at: first,
                    tick: self.front,
                    sum: self.total + cost,
                }
            } else {
                Cursor {
                    at: second,
                    tick: now,
                    sum: cost,
                }
            };
            ring.set_cursor(c, cur);
        }
        self.ring = ring;
    }

    /// How long until window `i` admits `cost` if nothing else arrives.
    fn wait(&self, shape: &Shape, i: usize, now: Tick, cost: u32) -> Tick {
        let span = shape.spans[i];
        let usage = u64::from(self.usage(shape, i, now));
        let Some(need) = (usage + u64::from(cost)).checked_sub(u64::from(span.limit)) else {
            return 0;
        };
        if need == 0 {
            return 0;
        }
        if !self.ring.is_allocated() {
            // One entry holds all the usage, and the cost fits an empty window.
            return leaves(self.front, span.ticks, now);
        }
        let cursors = shape.cursors();
        let (mut at, mut tick) = if i == 0 {
            (self.ring.front(), self.front)
        } else {
            let c = self.ring.cursor(i - 1);
            (c.at, c.tick)
        };
        let end = self.ring.end(cursors);
        let mut freed = 0;
        loop {
            let (count, next) = self.ring.entry_at(cursors, at);
            freed += count;
            // `need` never exceeds the usage, so the walk stops by the newest entry at the latest.
            if freed >= need || next == end {
                return leaves(tick, span.ticks, now);
            }
            tick += self.ring.delta_at(cursors, next);
            at = next;
        }
    }
}
