//! One key's log of admitted requests, shared by all windows of the key.
//!
//! The log is the front (oldest) entry's tick, the back (newest) entry's tick, the total cost in
//! the log, and a [`Ring`] of packed entries. The longest window is the whole log: entries that
//! leave it are dropped. Every shorter window keeps a [`Cursor`] at its own oldest entry and the
//! sum from there on, so a check moves cursors past expired entries (amortised O(1)) and compares
//! sums; nothing is scanned.
//!
//! A log with at most one entry needs no ring at all: `front` and `total` say everything (the
//! newest entry is the oldest). Most keys of a large population are like that, and cost no
//! allocation. A ring keeps the newest entry's tick in its header, which an append reads anyway,
//! so a key's whole table slot fits one cache line.

use crate::clock::Tick;
use crate::limiter::Decision;
use crate::limiter::ring::{Cursor, Ring, words_for};
use crate::limiter::window::{MAX_WINDOWS, Span};

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

    /// A view of the windows as an array of `W`; the caller dispatches on the count.
    #[inline(always)]
    pub(crate) fn windows<const W: usize>(&self) -> Windows<'_, W> {
        Windows {
            spans: self
                .spans
                .first_chunk()
                .expect("dispatched on the window count"),
            max_words: self.max_words,
        }
    }
}

/// A limiter's windows, `W` of them (a ring then keeps `W - 1` cursors).
#[derive(Clone, Copy)]
pub(crate) struct Windows<'a, const W: usize> {
    pub(crate) spans: &'a [Span; W],
    max_words: usize,
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
    /// Cost of everything in the log; zero means empty.
    total: u32,
    /// Cost of the front entry alone, so the usual retry-after needs no walk.
    front_count: u32,
    ring: Ring,
}

impl Log {
    /// Whether nothing in the log counts any more at `now` (all of it left the longest window).
    pub(crate) fn is_idle(&self, now: Tick, longest: Tick) -> bool {
        self.total == 0 || !inside(self.back(), longest, now)
    }

    /// Tick of the newest entry; meaningless when the log is empty.
    #[inline]
    fn back(&self) -> Tick {
        if self.ring.is_allocated() {
            self.ring.back()
        } else {
            self.front
        }
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
    /// is admitted and `record` is set. With `each`, also writes every window's remaining there,
    /// at the window's index in the caller's order.
    #[inline(always)]
    pub(crate) fn decide<const W: usize>(
        &mut self,
        w: Windows<'_, W>,
        now: Tick,
        cost: u32,
        record: bool,
        each: Option<&mut [u32; MAX_WINDOWS]>,
    ) -> Decision {
        self.expire(w, now);
        let spans = w.spans;
        let mut usage = [0u32; W];
        let mut allowed = true;
        for i in 0..W {
            usage[i] = self.usage(w, i, now);
            allowed &= u64::from(usage[i]) + u64::from(cost) <= u64::from(spans[i].limit);
        }

        // The binding window: least remaining once this request counts; the first (longest)
        // wins ties.
        let counted = if allowed { cost } else { 0 };
        let mut binding = 0;
        let mut least = u32::MAX;
        for i in 0..W {
            let remaining = spans[i].limit - (usage[i] + counted);
            if remaining < least {
                (binding, least) = (i, remaining);
            }
        }
        if let Some(each) = each {
            for (i, s) in spans.iter().enumerate() {
                each[usize::from(s.index)] = s.limit - (usage[i] + counted);
            }
        }
        let span = spans[binding];
        // Recording appends the newest entry, so the oldest one a window counts is the same
        // before and after, unless the window was empty.
        let reset_after = match self.oldest(binding, usage[binding]) {
            Some(t) => leaves(t, span.ticks, now),
            None if allowed => span.ticks,
            None => 0,
        };
        let retry_after = if allowed {
            0
        } else {
            let mut wait = 0;
            for i in 0..W {
                let s = spans[i];
                let over = u64::from(usage[i]) + u64::from(cost);
                if over > u64::from(s.limit) {
                    // At most the usage, as the cost is within the limit: fits in a u32.
                    let need = (over - u64::from(s.limit)) as u32;
                    wait = wait.max(if i == 0 && need <= self.front_count {
                        // The usual case: the front entry alone frees enough.
                        leaves(self.front, s.ticks, now)
                    } else {
                        self.wait(w, i, now, need)
                    });
                }
            }
            wait
        };
        if allowed && record {
            self.record(w, now, cost);
        }
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
    fn usage<const W: usize>(&self, w: Windows<'_, W>, i: usize, now: Tick) -> u32 {
        if i == 0 {
            self.total
        } else if !self.ring.is_allocated() {
            if inside(self.front, w.spans[i].ticks, now) {
                self.total
            } else {
                0
            }
        } else {
            self.ring.cursor(i - 1).sum
        }
    }

    /// Tick of the oldest entry window `i` counts, given that it counts `usage`.
    #[inline]
    fn oldest(&self, i: usize, usage: u32) -> Option<Tick> {
        if usage == 0 {
            None
        } else if i == 0 || !self.ring.is_allocated() {
            Some(self.front)
        } else {
            Some(self.ring.cursor(i - 1).tick)
        }
    }

    /// Moves every window past the entries that have left it at `now`.
    #[inline(always)]
    fn expire<const W: usize>(&mut self, w: Windows<'_, W>, now: Tick) {
        if self.total == 0 {
            return;
        }
        let spans = w.spans;
        if !self.ring.is_allocated() {
            if !inside(self.front, spans[0].ticks, now) {
                self.total = 0;
            }
            return;
        }
        // The usual case on a busy key: nothing has left any window since the last check.
        // (Index loops over `W`: they vanish for a single window, where iterator adapters over
        // an empty slice stay behind as calls.)
        let mut moved = !inside(self.front, spans[0].ticks, now);
        for c in 0..W - 1 {
            let cur = self.ring.cursor(c);
            moved |= cur.sum > 0 && !inside(cur.tick, spans[c + 1].ticks, now);
        }
        if moved {
            self.expire_ring(w, now);
        }
    }

    /// [`expire`](Self::expire) for a log in a ring, once something has left a window.
    #[inline(never)]
    fn expire_ring<const W: usize>(&mut self, w: Windows<'_, W>, now: Tick) {
        let spans = w.spans;
        let cursors = W - 1;
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
            let (_, next) = self.ring.entry_at(cursors, self.ring.front());
            self.ring.pop_front_to(cursors, next);
            self.total -= self.front_count;
            if self.total > 0 {
                self.front += self.ring.delta_at(cursors, next);
                self.front_count = self.ring.entry_at(cursors, next).0 as u32;
            }
        }
        if self.total == 0 {
            self.ring = Ring::default();
        }
    }

    /// Records `cost` at `now`; every window admits it.
    #[inline]
    fn record<const W: usize>(&mut self, w: Windows<'_, W>, now: Tick, cost: u32) {
        let cursors = W - 1;
        if self.total == 0 {
            (self.front, self.total, self.front_count) = (now, cost, cost);
            return;
        }
        let back = self.back();
        if now == back {
            // Same tick: the newest entry grows. It is inside every window, so every sum grows.
            if self.ring.is_allocated() {
                if !self.ring.last_has_room(cursors, cost) {
                    self.ring.reserve(cursors, words_for(0, cost), w.max_words);
                }
                self.ring.add_to_last(cursors, cost);
                for c in 0..cursors {
                    let mut cur = self.ring.cursor(c);
                    cur.sum += cost;
                    self.ring.set_cursor(c, cur);
                }
            }
            if self.front == back {
                self.front_count += cost;
            }
            self.total += cost;
            return;
        }
        let delta = now - back;
        if !self.ring.is_allocated() {
            self.spill(w, now, cost);
        } else {
            self.ring
                .reserve(cursors, words_for(delta, cost), w.max_words);
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
        self.ring.set_back(now);
    }

    /// Moves a one-entry log into a ring, with a second entry of `cost` at `now`.
    fn spill<const W: usize>(&mut self, w: Windows<'_, W>, now: Tick, cost: u32) {
        let cursors = W - 1;
        let delta = now - self.front;
        let need = words_for(0, self.total) + words_for(delta, cost);
        let mut ring = Ring::with_capacity(cursors, need.max(4).min(w.max_words).max(need));
        let first = ring.push_entry(cursors, 0, self.total);
        let second = ring.push_entry(cursors, delta, cost);
        for (c, span) in w.spans[1..].iter().enumerate() {
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

    /// How long until window `i` has let `need` units leave (`need` is at most its usage).
    #[inline(never)]
    fn wait<const W: usize>(&self, w: Windows<'_, W>, i: usize, now: Tick, need: u32) -> Tick {
        let span = w.spans[i];
        if !self.ring.is_allocated() || (i == 0 && need <= self.front_count) {
            // The front entry alone frees enough (a one-entry log holds all the usage).
            return leaves(self.front, span.ticks, now);
        }
        let cursors = W - 1;
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
            if freed >= u64::from(need) || next == end {
                return leaves(tick, span.ticks, now);
            }
            tick += self.ring.delta_at(cursors, next);
            at = next;
        }
    }
}
