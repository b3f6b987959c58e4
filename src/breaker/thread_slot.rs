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

thread_local! {
    /// This thread's slot, [`UNASKED`] until it first asks. Read on every count, so it has no
    /// destructor (a thread-local with one is checked for liveness on every access).
    static SLOT: Cell<usize> = const { Cell::new(UNASKED) };
    /// Gives the slot back when the thread exits.
    static GIVE_BACK: GiveBack = const { GiveBack };
}

struct GiveBack;

impl Drop for GiveBack {
    fn drop(&mut self) {
        let slot = SLOT.with(|slot| slot.replace(NO_SLOT));
        if slot < SLOTS {
            // Release: this thread's last plain stores to the lanes it owned happen before the
            // next holder's first loads from them.
            HELD.fetch_and(!(1 << slot), Ordering::Release);
        }
    }
}

/// This thread's slot number, below [`SLOTS`], or [`NO_SLOT`].
#[inline]
pub(crate) fn current() -> usize {
    match SLOT.with(Cell::get) {
        UNASKED => take(),
        slot => slot,
    }
}

/// Takes the lowest free slot for this thread, or none if all are held. A thread that finds
/// none keeps none: it counts in shared lanes for the rest of its life.
#[cold]
fn take() -> usize {
    // A thread already exiting, whose slot could no longer be given back, takes none.
    let slot = if GIVE_BACK.try_with(|_| ()).is_ok() {
        claim_lowest()
    } else {
        NO_SLOT
    };
    SLOT.with(|cell| cell.set(slot));
    slot
}

fn claim_lowest() -> usize {
    let mut held = HELD.load(Ordering::Relaxed);
    loop {
        if held == u64::MAX {
            return NO_SLOT;
        }
        let slot = (!held).trailing_zeros() as usize;
        // Acquire: the previous holder's stores to the lanes of this slot are visible.
        match HELD.compare_exchange_weak(
            held,
            held | 1 << slot,
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => return slot,
            Err(actual) => held = actual,
        }
    }
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
