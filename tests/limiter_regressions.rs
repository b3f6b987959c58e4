//! Named cases: behaviours users rely on, each stated once in plain numbers.

use std::sync::Barrier;
use std::time::Duration;

use sluicegate::clock::{Clock, ManualClock, MonotonicClock, TICKS_PER_SECOND, Tick};
use sluicegate::{CheckError, Limiter, Window};

const MS: Tick = 1_000;

fn limiter(windows: &[Window], clock: &ManualClock) -> Limiter<ManualClock> {
    Limiter::builder()
        .windows(windows.iter().copied())
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn a_burst_straddling_a_minute_boundary_is_not_admitted_twice() {
    // A fixed-window limiter resets at t = 1 s and lets 200 through in 200 ms.
    let clock = ManualClock::new(0);
    let l = limiter(&[Window::per_minute(100)], &clock);
    clock.set(900 * MS);
    for _ in 0..100 {
        assert!(l.check("k").unwrap().allowed());
    }
    clock.set(1_100 * MS);
    for _ in 0..100 {
        let d = l.check("k").unwrap();
        assert!(!d.allowed());
        assert_eq!(d.retry_after(), Duration::from_millis(59_800));
    }
}

#[test]
fn retry_after_is_exact_to_the_tick() {
    let clock = ManualClock::new(0);
    let l = limiter(&[Window::per_second(3), Window::per_minute(5)], &clock);
    for step in 0..5 {
        clock.set(step * 400 * MS);
        assert!(l.check("k").unwrap().allowed(), "request {step}");
    }
    for _ in 0..20 {
        let now = clock.now();
        let d = l.peek("k", 1).unwrap();
        if d.allowed() {
            assert!(l.check("k").unwrap().allowed());
            clock.advance_ticks(137 * MS);
            continue;
        }
        let wait = d.retry_after_ticks();
        assert!(wait > 0);
        clock.set(now + wait - 1);
        assert!(
            !l.peek("k", 1).unwrap().allowed(),
            "one tick early must still be refused"
        );
        clock.set(now + wait);
        assert!(
            l.check("k").unwrap().allowed(),
            "exactly retry_after later must succeed"
        );
    }
}

#[test]
fn a_cost_above_the_limit_is_an_error_not_a_rejection() {
    let clock = ManualClock::new(0);
    let l = limiter(&[Window::per_minute(5)], &clock);
    assert_eq!(
        l.check_n("k", 10),
        Err(CheckError::CostExceedsLimit { cost: 10, limit: 5 })
    );
    assert_eq!(l.check_n("k", 0), Err(CheckError::ZeroCost));
    // Nothing was recorded by either.
    assert_eq!(l.check_n("k", 5).unwrap().remaining(), 0);
}

#[test]
fn a_retrying_client_gets_back_in_when_its_oldest_request_leaves() {
    let clock = ManualClock::new(0);
    let l = limiter(&[Window::per_second(5)], &clock);
    let mut admitted = Vec::new();
    for attempt in 0..300u64 {
        let now = attempt * 10 * MS;
        clock.set(now);
        if l.check("client").unwrap().allowed() {
            admitted.push(now);
        }
    }
    // 5 at 0..40 ms, then each one exactly when the one five places earlier has left.
    assert_eq!(&admitted[..5], &[0, 10 * MS, 20 * MS, 30 * MS, 40 * MS]);
    for pair in admitted.windows(6) {
        assert_eq!(pair[5], pair[0] + TICKS_PER_SECOND, "{admitted:?}");
    }
    assert_eq!(admitted.len(), 15);
}

#[test]
fn a_365_day_window_counts_the_whole_year() {
    let day = 86_400 * TICKS_PER_SECOND;
    let clock = ManualClock::new(0);
    let l = limiter(
        &[
            Window::new(3, Duration::from_secs(365 * 86_400)),
            Window::per_hour(2),
        ],
        &clock,
    );
    for d in [0, 100, 200] {
        clock.set(d * day);
        assert!(l.check("k").unwrap().allowed());
    }
    clock.set(364 * day);
    let no = l.check("k").unwrap();
    assert!(!no.allowed());
    assert_eq!(no.retry_after_ticks(), day);
    clock.set(365 * day);
    assert!(l.check("k").unwrap().allowed());
}

#[test]
fn eight_threads_on_one_key_with_a_frozen_clock_admit_exactly_the_limit() {
    let clock = ManualClock::new(42);
    let l = limiter(&[Window::per_minute(1_000)], &clock);
    let barrier = Barrier::new(8);
    let admitted: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    (0..10_000)
                        .filter(|_| l.check("hot").unwrap().allowed())
                        .count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert_eq!(admitted, 1_000);
    let stats = l.stats();
    assert_eq!((stats.allowed, stats.rejected), (1_000, 79_000));
}

#[test]
fn with_the_real_clock_no_window_ever_holds_more_than_the_limit() {
    // Each admission happened somewhere between the clock readings taken around its check; if
    // LIMIT + 1 admissions fit in less than a window even at their most spread out, the limiter
    // over-admitted.
    const LIMIT: usize = 50;
    let window = 20 * MS;
    let l = Limiter::builder()
        .window(Window::new(LIMIT as u64, Duration::from_micros(window)))
        .build()
        .unwrap();
    let clock: &MonotonicClock = l.clock();
    let deadline = clock.now() + 300 * MS;
    let mut spans: Vec<(Tick, Tick)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    while clock.now() < deadline {
                        let before = clock.now();
                        if l.check("shared").unwrap().allowed() {
                            mine.push((before, clock.now()));
                        }
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    spans.sort_unstable();
    assert!(
        spans.len() > LIMIT,
        "the run was too short to fill a window"
    );
    for (i, &(earliest, _)) in spans.iter().enumerate() {
        let surely_inside = spans[i..]
            .iter()
            .filter(|&&(_, latest)| latest < earliest + window)
            .count();
        assert!(
            surely_inside <= LIMIT,
            "{surely_inside} admissions within one window"
        );
    }
}

#[test]
fn time_never_goes_backwards_inside_the_engine() {
    let clock = ManualClock::new(10 * TICKS_PER_SECOND);
    let l = limiter(&[Window::per_second(1)], &clock);
    assert!(l.check("k").unwrap().allowed());
    // The clock jumps back five seconds: the engine keeps counting from where it was.
    clock.set(5 * TICKS_PER_SECOND);
    let d = l.check("k").unwrap();
    assert!(!d.allowed());
    assert_eq!(d.retry_after(), Duration::from_secs(1));
}
