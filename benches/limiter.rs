//! Sluicegate's limiter beside governor and a naive exact log, in one run.
//!
//! Every group checks at 100 requests per 60 s with 16-byte string keys; each implementation
//! reads its own default clock. Two-thread groups report the time per check per thread.
//!
//! ```text
//! cargo bench --bench limiter
//! ```

#[path = "support/peers.rs"]
mod peers;

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use peers::{NaiveLog, keys};
use sluicegate::{Limiter, Window};

const LIMIT: u32 = 100;
const WINDOW: Duration = Duration::from_secs(60);
const MANY: usize = 1_000_000;

/// One implementation under test: a check of one key.
trait Check: Sync {
    // governor is keyed by `String` and takes `&String`; everyone gets the same argument.
    #[allow(clippy::ptr_arg)]
    fn check(&self, key: &String) -> bool;
}

impl Check for Limiter {
    #[inline]
    fn check(&self, key: &String) -> bool {
        Limiter::check(self, key).is_ok_and(|d| d.allowed())
    }
}

impl Check for DefaultKeyedRateLimiter<String> {
    #[inline]
    fn check(&self, key: &String) -> bool {
        self.check_key(key).is_ok()
    }
}

impl Check for NaiveLog {
    #[inline]
    fn check(&self, key: &String) -> bool {
        NaiveLog::check(self, key.as_bytes())
    }
}

fn sluicegate() -> Limiter {
    Limiter::builder()
        .window(Window::new(u64::from(LIMIT), WINDOW))
        .build()
        .unwrap()
}

fn governor() -> DefaultKeyedRateLimiter<String> {
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(LIMIT).unwrap()))
}

fn naive() -> NaiveLog {
    NaiveLog::new(LIMIT as usize, WINDOW)
}

/// Runs `iters` checks on each of `threads` threads, each walking its own slice of `keys`
/// round-robin, and returns the wall time.
fn run(
    limiter: &impl Check,
    keys: &[String],
    threads: usize,
    shared: bool,
    iters: u64,
) -> Duration {
    let barrier = Barrier::new(threads + 1);
    let per_thread = if shared {
        keys.len()
    } else {
        keys.len() / threads
    };
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let mine = if shared {
                    keys
                } else {
                    &keys[t * per_thread..(t + 1) * per_thread]
                };
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let mut i = 0;
                    for _ in 0..iters {
                        black_box(limiter.check(&mine[i]));
                        i += 1;
                        if i == mine.len() {
                            i = 0;
                        }
                    }
                    start.elapsed()
                })
            })
            .collect();
        barrier.wait();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .max()
            .unwrap()
    })
}

fn group(c: &mut Criterion, name: &str, keys: &[String], threads: usize, shared: bool) {
    let mut g = c.benchmark_group(name);
    let s = sluicegate();
    g.bench_function("sluicegate", |b| {
        b.iter_custom(|iters| run(&s, keys, threads, shared, iters))
    });
    drop(s);
    let gov = governor();
    g.bench_function("governor", |b| {
        b.iter_custom(|iters| run(&gov, keys, threads, shared, iters))
    });
    drop(gov);
    let n = naive();
    g.bench_function("naive_log", |b| {
        b.iter_custom(|iters| run(&n, keys, threads, shared, iters))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let one = keys(1);
    let many = keys(MANY);
    group(c, "hot_key", &one, 1, true);
    group(c, "keys_1m", &many, 1, true);
    group(c, "shared_key_2t", &one, 2, true);
    group(c, "distinct_keys_2t", &many, 2, false);
}

criterion_group!(limiter, benches);
criterion_main!(limiter);
