//! Sluicegate's breaker beside failsafe and a naive mutex-guarded breaker, in one run.
//!
//! Every function does one call's bookkeeping on a Closed breaker with a five-consecutive-
//! failures policy: admit, then record a success. Two-thread groups report the time per call
//! per thread; `keyed_10k` walks 10,000 host-like keys round-robin, one breaker each.
//!
//! ```text
//! cargo bench --bench breaker
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::{backoff, failure_policy};
use sluicegate::breaker::{Breaker, BreakerConfig, Breakers, Outcome};

const THRESHOLD: u32 = 5;
const OPEN_FOR: Duration = Duration::from_secs(10);
const ELAPSED: Duration = Duration::from_millis(3);
const KEYS: usize = 10_000;

fn config() -> BreakerConfig {
    BreakerConfig::new()
        .consecutive_failures(THRESHOLD)
        .open_for(OPEN_FOR)
}

/// The obvious breaker: one struct behind a `std::sync::Mutex`, locked to admit and again to
/// record, keeping the same state, generation, failure run and counters as Sluicegate's.
#[derive(Debug, Default)]
struct NaiveBreaker {
    open_until: Option<Instant>,
    generation: u64,
    streak: u32,
    permitted: u64,
    rejected: u64,
    successes: u64,
    failures: u64,
    stale: u64,
}

impl NaiveBreaker {
    /// The generation admitted in, or `None` if rejected.
    fn acquire(&mut self) -> Option<u64> {
        if let Some(until) = self.open_until {
            if Instant::now() < until {
                self.rejected += 1;
                return None;
            }
            self.open_until = None;
            self.generation += 1;
        }
        self.permitted += 1;
        Some(self.generation)
    }

    fn record(&mut self, generation: u64, failed: bool) {
        if generation != self.generation {
            self.stale += 1;
        } else if failed {
            self.failures += 1;
            self.streak += 1;
            if self.streak >= THRESHOLD {
                self.open_until = Some(Instant::now() + OPEN_FOR);
                self.generation += 1;
                self.streak = 0;
            }
        } else {
            self.successes += 1;
            self.streak = 0;
        }
    }
}

/// Runs `call(i)` for `i in 0..iters` on each of `threads` threads at once; returns the longest
/// thread's wall time.
fn run(threads: usize, iters: u64, call: impl Fn(u64) + Sync) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (barrier, call) = (&barrier, &call);
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        call(i);
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

fn closed(c: &mut Criterion, name: &str, threads: usize) {
    let mut g = c.benchmark_group(name);
    let breaker = Breaker::new(config()).unwrap();
    g.bench_function("sluicegate", |b| {
        b.iter_custom(|iters| {
            run(threads, iters, |_| {
                if let Ok(permit) = breaker.try_acquire() {
                    black_box(permit.record(Outcome::Success, ELAPSED));
                }
            })
        })
    });
    let naive = Mutex::new(NaiveBreaker::default());
    g.bench_function("naive", |b| {
        b.iter_custom(|iters| {
            run(threads, iters, |_| {
                let admitted = naive.lock().unwrap().acquire();
                if let Some(generation) = black_box(admitted) {
                    naive.lock().unwrap().record(generation, false);
                }
            })
        })
    });
    if threads == 1 {
        let failsafe = failsafe::Config::new()
            .failure_policy(failure_policy::consecutive_failures(
                THRESHOLD,
                backoff::constant(OPEN_FOR),
            ))
            .build();
        g.bench_function("failsafe", |b| {
            b.iter_custom(|iters| {
                run(threads, iters, |_| {
                    if black_box(failsafe.is_call_permitted()) {
                        failsafe.on_success();
                    }
                })
            })
        });
    }
    g.finish();
}

fn keyed(c: &mut Criterion) {
    let keys: Vec<String> = (0..KEYS).map(|i| format!("svc-{i:05}.internal")).collect();
    let key = |i: u64| keys[i as usize % KEYS].as_str();
    let mut g = c.benchmark_group("keyed_10k");
    let breakers = Breakers::builder(config()).build().unwrap();
    g.bench_function("sluicegate", |b| {
        b.iter_custom(|iters| {
            run(1, iters, |i| {
                if let Ok(permit) = breakers.try_acquire(key(i)) {
                    black_box(permit.record(Outcome::Success, ELAPSED));
                }
            })
        })
    });
    let naive: Mutex<HashMap<String, NaiveBreaker>> = Mutex::default();
    g.bench_function("naive", |b| {
        b.iter_custom(|iters| {
            run(1, iters, |i| {
                let key = key(i);
                let admitted = {
                    let mut map = naive.lock().unwrap();
                    match map.get_mut(key) {
                        Some(breaker) => breaker.acquire(),
                        None => map.entry(key.to_owned()).or_default().acquire(),
                    }
                };
                if let Some(generation) = black_box(admitted) {
                    let mut map = naive.lock().unwrap();
                    if let Some(breaker) = map.get_mut(key) {
                        breaker.record(generation, false);
                    }
                }
            })
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    closed(c, "closed_1t", 1);
    closed(c, "closed_2t", 2);
    keyed(c);
}

criterion_group!(breaker, benches);
criterion_main!(breaker);
