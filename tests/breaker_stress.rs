//! Eight threads hammer one breaker with a million operations, on the real clock, and the
//! invariants are checked throughout and at the end:
//!
//! - never more than K half-open trial permits outstanding in one generation;
//! - every transition is a legal one, delivered once, in generation order, each starting
//!   where the previous one ended;
//! - the counters agree with what the threads saw, and every permit ended exactly once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sluicegate::breaker::{
    Breaker, BreakerConfig, Cause, Outcome, Permit, Recorded, RejectReason, State, Transition,
};

const THREADS: u64 = 8;
const BUDGET: Duration = Duration::from_secs(60);

/// What the threads saw, added up.
#[derive(Debug, Default)]
struct Seen {
    attempts: AtomicU64,
    admitted: AtomicU64,
    successes: AtomicU64,
    failures: AtomicU64,
    ignored: AtomicU64,
    stale: AtomicU64,
    dropped: AtomicU64,
    /// Rejections by reason: open, half-open full, forced open.
    rejections: [AtomicU64; 3],
}

/// Trial permits outstanding, by generation.
type Trials = Mutex<HashMap<u64, u32>>;

fn legal(t: &Transition) -> bool {
    use State::{Closed, Disabled, ForcedOpen, HalfOpen, Open};
    let c = t.cause;
    match (t.from, t.to) {
        (Closed, Open) => matches!(
            c,
            Cause::ConsecutiveFailures | Cause::FailureRate | Cause::SlowCallRate
        ),
        (Open, HalfOpen) => c == Cause::OpenElapsed,
        (HalfOpen, Closed) => matches!(c, Cause::TrialsSucceeded | Cause::Reset),
        (HalfOpen, Open) => matches!(c, Cause::TrialsFailed | Cause::TrialTimeout),
        (_, Closed) => c == Cause::Reset,
        (from, ForcedOpen) => from != ForcedOpen && c == Cause::Forced,
        (from, Disabled) => from != Disabled && c == Cause::Disabled,
        (_, Open | HalfOpen) => false,
    }
}

/// A small per-thread generator: xorshift64*.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % sides
    }
}

/// Ends a permit, keeping the trial ledger: a trial leaves it before its slot is freed, so the
/// ledger never runs ahead of the breaker.
/// `failing` of every 20 outcomes are failures.
fn finish(permit: Permit<'_>, failing: u64, dice: &mut Dice, trials: &Trials, seen: &Seen) {
    if permit.is_trial() {
        *trials
            .lock()
            .unwrap()
            .get_mut(&permit.generation())
            .unwrap() -= 1;
    }
    let (outcome, counter) = match dice.roll(20) {
        0 => {
            drop(permit);
            seen.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        1 => (Outcome::Ignored, &seen.ignored),
        n if n < 2 + failing => (Outcome::Failure, &seen.failures),
        _ => (Outcome::Success, &seen.successes),
    };
    let elapsed = Duration::from_micros(dice.roll(400));
    match permit.record(outcome, elapsed) {
        Recorded::Counted => counter.fetch_add(1, Ordering::Relaxed),
        Recorded::Stale => seen.stale.fetch_add(1, Ordering::Relaxed),
    };
}

fn hammer(config: BreakerConfig, permits: u32, operations: u64, failing: u64) {
    let events: Arc<Mutex<Vec<Transition>>> = Arc::default();
    let sink = Arc::clone(&events);
    let breaker = Breaker::builder(config)
        .on_transition(move |t| sink.lock().unwrap().push(*t))
        .build()
        .unwrap();
    let seen = Seen::default();
    let trials: Trials = Mutex::default();
    let started = Instant::now();
    let done = AtomicU64::new(0);
    let start = Barrier::new(THREADS as usize);
    thread::scope(|s| {
        for id in 0..THREADS {
            let (breaker, seen, trials, done, start) = (&breaker, &seen, &trials, &done, &start);
            s.spawn(move || {
                start.wait();
                let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (id + 1));
                // Permits held across operations, so that some end in a later generation.
                let mut held: Vec<Permit<'_>> = Vec::new();
                for n in 0..operations / THREADS {
                    if n % 4096 == 0 && started.elapsed() > BUDGET {
                        break;
                    }
                    match dice.roll(100_000) {
                        0..=14 => breaker.reset(),
                        15 => {
                            breaker.force_open();
                        }
                        16 => {
                            breaker.disable();
                        }
                        17..=45_000 if !held.is_empty() => {
                            let permit = held.swap_remove(dice.roll(held.len() as u64) as usize);
                            finish(permit, failing, &mut dice, trials, seen);
                        }
                        _ => {
                            seen.attempts.fetch_add(1, Ordering::Relaxed);
                            let admission = breaker.try_acquire();
                            if let Err(rejected) = &admission {
                                let reason = match rejected.reason() {
                                    RejectReason::Open => 0,
                                    RejectReason::HalfOpenFull => 1,
                                    _ => 2,
                                };
                                seen.rejections[reason].fetch_add(1, Ordering::Relaxed);
                            }
                            if let Ok(permit) = admission {
                                seen.admitted.fetch_add(1, Ordering::Relaxed);
                                if permit.is_trial() {
                                    let mut t = trials.lock().unwrap();
                                    let outstanding = t.entry(permit.generation()).or_default();
                                    *outstanding += 1;
                                    assert!(
                                        *outstanding <= permits,
                                        "{outstanding} trials outstanding in generation {}",
                                        permit.generation()
                                    );
                                }
                                held.push(permit);
                                if held.len() > 3 {
                                    finish(held.swap_remove(0), failing, &mut dice, trials, seen);
                                }
                            }
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                for permit in held {
                    finish(permit, failing, &mut dice, trials, seen);
                }
            });
        }
    });
    assert_eq!(
        done.load(Ordering::Relaxed),
        operations / THREADS * THREADS,
        "ran out of the time budget"
    );

    let events = events.lock().unwrap();
    eprintln!(
        "{} transitions, {:?}, rejections (open, full, forced) {:?}, in {:?}",
        events.len(),
        breaker.counters(),
        seen.rejections,
        started.elapsed()
    );
    assert!(
        events.len() > 20,
        "too few transitions to prove much: {}",
        events.len()
    );
    let mut state = State::Closed;
    for (i, t) in events.iter().enumerate() {
        assert!(legal(t), "illegal transition {t}");
        assert_eq!(
            t.generation,
            i as u64 + 1,
            "delivered out of order or twice: {t}"
        );
        assert_eq!(
            t.from, state,
            "{t} does not start where the previous one ended"
        );
        state = t.to;
    }
    assert_eq!(breaker.state(), state);
    assert_eq!(breaker.generation(), events.len() as u64);

    let c = breaker.counters();
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    assert_eq!(c.permitted, get(&seen.admitted));
    assert_eq!(c.permitted + c.rejected, get(&seen.attempts));
    assert_eq!(c.successes, get(&seen.successes));
    assert_eq!(c.failures, get(&seen.failures));
    // Dropped permits count as ignored, or stale if their generation had passed.
    assert_eq!(
        c.ignored + c.stale,
        get(&seen.ignored) + get(&seen.stale) + get(&seen.dropped)
    );
    assert!(c.stale >= get(&seen.stale));
    assert_eq!(c.permitted, c.successes + c.failures + c.ignored + c.stale);
    assert!(trials.lock().unwrap().values().all(|&n| n == 0));
}

#[test]
fn a_million_operations_on_the_lock_free_path_keep_every_invariant() {
    hammer(
        BreakerConfig::new()
            .consecutive_failures(3)
            .open_for(Duration::from_micros(100))
            .half_open(2, 3)
            .trial_timeout(Duration::from_secs(3_600)),
        2,
        1_000_000,
        1,
    );
}

#[test]
fn windows_and_trial_rates_under_contention_keep_every_invariant() {
    hammer(
        BreakerConfig::new()
            .failure_rate(40.0)
            .slow_call_rate(90.0, Duration::from_micros(350))
            .count_window(20)
            .min_calls(10)
            .open_for(Duration::from_micros(100))
            .half_open(3, 4)
            .half_open_failure_rate(50.0)
            .trial_timeout(Duration::from_secs(3_600)),
        3,
        400_000,
        2,
    );
}
