//! Small numbers for live threads: each thread that asks holds one of [`SLOTS`] numbers of its
//! own until it exits, when the number goes back for the next thread to take.
//!
//! A slot number lets a thread own a counter lane outright and add to it with a plain load and
//! store instead of a locked read-modify-write, since no other live thread holds the number.
//! Numbers are handed out lowest first, so the threads that use a process's breakers first
//! (a gateway's worker threads, say) hold the lowest numbers, and a breaker with `n` lanes
//! gives the holders of the first `n` numbers a lane each.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many slot numbers there are.
pub(crate) const SLOTS: usize = 64;

/// What [`current`] returns to a thread that holds no slot: every slot was taken when it first
/// asked, or it is exiting and has already given its slot back.
pub(crate) const NO_SLOT: usize = SLOTS;

/// Bit `n` set: slot `n` is held by a live thread.
static HELD: AtomicU64 = AtomicU64::new(0);

/// A thread that has not asked yet.
const UNASKED: usize = usize::MAX;

/// This thread's slot, given back when the thread exits.
struct Claim(Cell<usize>);

impl Drop for Claim {
    fn drop(&mut self) {
        let slot = self.0.get();
        if slot < SLOTS {
            // Release: this thread's last plain stores to the lanes it owned happen before the
            // next holder's first loads from them.
            HELD.fetch_and(!(1 << slot), Ordering::Release);
        }
    }
}

thread_local! {
    static CLAIM: Claim = const { Claim(Cell::new(UNASKED)) };
}

/// This thread's slot number, below [`SLOTS`], or [`NO_SLOT`].
#[inline]
pub(crate) fn current() -> usize {
    CLAIM
        .try_with(|claim| match claim.0.get() {
            UNASKED => take(claim),
            slot => slot,
        })
        .unwrap_or(NO_SLOT)
}

/// Takes the lowest free slot for this thread, or none if all are held. A thread that finds
/// none keeps none: it counts in shared lanes for the rest of its life.
#[cold]
fn take(claim: &Claim) -> usize {
    let mut held = HELD.load(Ordering::Relaxed);
    let slot = loop {
        if held == u64::MAX {
            break NO_SLOT;
        }
        let slot = (!held).trailing_zeros() as usize;
        // Acquire: the previous holder's stores to the lanes of this slot are visible.
        match HELD.compare_exchange_weak(
            held,
            held | 1 << slot,
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => break slot,
            Err(actual) => held = actual,
        }
    };
    claim.0.set(slot);
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_threads_hold_distinct_slots_and_give_them_back() {
        let barrier = std::sync::Barrier::new(4);
        let slots: Vec<usize> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let slot = current();
                        assert_eq!(current(), slot, "a thread keeps its slot");
                        // All four hold their slots at once.
                        barrier.wait();
                        slot
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let mut distinct = slots.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), slots.len(), "slots {slots:?}");
        assert!(slots.iter().all(|&s| s < SLOTS));
        // Threads that exit give their numbers back: far more threads than there are slots,
        // one after another, all find one free.
        for _ in 0..4 * SLOTS {
            assert!(std::thread::spawn(current).join().unwrap() < SLOTS);
        }
    }
}
