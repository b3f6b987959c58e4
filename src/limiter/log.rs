//! One key's log of admitted requests, shared by all windows of the key.

use std::collections::VecDeque;

use crate::clock::Tick;
use crate::limiter::Decision;
use crate::limiter::window::Span;

/// Admitted requests of one key, oldest first, as `(tick, cost)`; requests admitted in the same
/// tick share one entry.
#[derive(Clone, Default)]
pub(crate) struct Log {
    entries: VecDeque<(Tick, u32)>,
}

/// Whether `t` is still inside a window of `ticks` at time `now`: `now - ticks < t`.
#[inline]
fn inside(t: Tick, ticks: Tick, now: Tick) -> bool {
    t.saturating_add(ticks) > now
}

impl Log {
    /// The tick of the newest entry, if any.
    pub(crate) fn newest(&self) -> Option<Tick> {
        self.entries.back().map(|&(t, _)| t)
    }

    /// Whether nothing in the log counts any more at `now` (all of it has left the longest window).
    pub(crate) fn is_idle(&self, now: Tick, longest: Tick) -> bool {
        self.newest().is_none_or(|t| !inside(t, longest, now))
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.entries = VecDeque::new();
    }

    /// Bytes this log holds on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<(Tick, u32)>()
    }

    /// Decides a request of `cost` at `now` against `spans` (longest first), and records it if
    /// it is admitted and `record` is set.
    pub(crate) fn decide(
        &mut self,
        spans: &[Span],
        now: Tick,
        cost: u32,
        record: bool,
    ) -> Decision {
        let longest = spans[0].ticks;
        while let Some(&(t, _)) = self.entries.front() {
            if inside(t, longest, now) {
                break;
            }
            self.entries.pop_front();
        }
        let usage = |span: &Span, entries: &VecDeque<(Tick, u32)>| -> u64 {
            entries
                .iter()
                .rev()
                .take_while(|&&(t, _)| inside(t, span.ticks, now))
                .map(|&(_, c)| u64::from(c))
                .sum()
        };
        let allowed = spans
            .iter()
            .all(|s| usage(s, &self.entries) + u64::from(cost) <= u64::from(s.limit));
        if allowed && record {
            match self.entries.back_mut() {
                Some((t, c)) if *t == now => *c += cost,
                _ => self.entries.push_back((now, cost)),
            }
        }
        let counted = if allowed && !record {
            u64::from(cost)
        } else {
            0
        };

        let mut binding = 0;
        let mut least = u64::MAX;
        for (i, s) in spans.iter().enumerate() {
            let remaining = u64::from(s.limit).saturating_sub(usage(s, &self.entries) + counted);
            if remaining < least {
                least = remaining;
                binding = i;
            }
        }
        let span = &spans[binding];
        let reset_after = match self
            .entries
            .iter()
            .find(|&&(t, _)| inside(t, span.ticks, now))
        {
            Some(&(t, _)) => t.saturating_add(span.ticks) - now,
            // Nothing recorded yet: a peek that would admit reports the window it would open.
            None if counted > 0 => span.ticks,
            None => 0,
        };
        let retry_after = if allowed {
            0
        } else {
            spans
                .iter()
                .map(|s| self.wait_for(s, now, cost))
                .max()
                .unwrap_or(0)
        };
        Decision {
            allowed,
            window: span.index,
            limit: span.limit,
            remaining: least as u32,
            reset_after,
            retry_after,
        }
    }

    /// How long until window `span` admits `cost` if nothing else arrives.
    fn wait_for(&self, span: &Span, now: Tick, cost: u32) -> Tick {
        let mut usage: u64 = self
            .entries
            .iter()
            .filter(|&&(t, _)| inside(t, span.ticks, now))
            .map(|&(_, c)| u64::from(c))
            .sum();
        let limit = u64::from(span.limit);
        if usage + u64::from(cost) <= limit {
            return 0;
        }
        for &(t, c) in self
            .entries
            .iter()
            .filter(|&&(t, _)| inside(t, span.ticks, now))
        {
            usage -= u64::from(c);
            if usage + u64::from(cost) <= limit {
                return t.saturating_add(span.ticks) - now;
            }
        }
        unreachable!("a cost within every limit fits an empty window")
    }
}
