//! Memory per key: Sluicegate beside a naive `Mutex<HashMap<Vec<u8>, VecDeque<Instant>>>` log.
//!
//! Fills each with 1,000,000 keys of 16 bytes, with 1 and with 100 entries per key (at distinct
//! times, 100 per 60 s), and counts the bytes allocated through a counting global allocator, so
//! every table, key and log is included. Prints `<impl> entries=<n> bytes_per_key=<b>`.
//!
//! ```text
//! cargo run --release --example memory
//! ```

#[path = "../benches/support/peers.rs"]
mod peers;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use peers::{NaiveLog, keys};
use sluicegate::{Limiter, Window};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with the same layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEYS: usize = 1_000_000;

/// Bytes allocated while `fill` builds a structure, per key; the structure stays alive until
/// the count is taken.
fn per_key<T>(fill: impl FnOnce() -> T) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    let built = fill();
    let after = LIVE.load(Ordering::Relaxed);
    drop(built);
    (after - before) / KEYS
}

fn main() {
    let keys = keys(KEYS);
    for entries in [1u64, 100] {
        let bytes = per_key(|| {
            let limiter = Limiter::builder()
                .window(Window::per_minute(100))
                .build()
                .unwrap();
            for round in 0..entries {
                // Rounds 100 ms apart: all 100 entries of a key stay inside the window.
                for key in &keys {
                    let d = limiter.check_at(key, 1, 1 + round * 100_000).unwrap();
                    assert!(d.allowed());
                }
            }
            limiter
        });
        println!("sluicegate entries={entries} bytes_per_key={bytes}");

        let bytes = per_key(|| {
            let naive = NaiveLog::new(100, Duration::from_secs(60));
            let start = Instant::now();
            for round in 0..entries {
                let at = start + Duration::from_millis(round * 100);
                for key in &keys {
                    naive.record(key.as_bytes(), at);
                }
            }
            naive
        });
        println!("naive_log entries={entries} bytes_per_key={bytes}");
    }
}
