//! Named regressions: each test pins down a failure that well-known breakers have shipped, or
//! one of the breaker's documented decisions.

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use sluicegate::breaker::{
    Backoff, Breaker, BreakerConfig, Cause, Outcome, Permit, Recorded, RejectReason, State,
    Transition,
};
use sluicegate::clock::ManualClock;

const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

/// Events as (from, to, cause).
type Log = Arc<Mutex<Vec<(State, State, Cause)>>>;

fn breaker(config: BreakerConfig) -> (Breaker, ManualClock, Log) {
    let clock = ManualClock::new(0);
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let breaker = Breaker::builder(config)
        .clock(clock.clone())
        .seed(1)
        .on_transition(move |t| sink.lock().unwrap().push((t.from, t.to, t.cause)))
        .build()
        .unwrap();
    (breaker, clock, log)
}

fn fail(breaker: &Breaker) -> Recorded {
    breaker.try_acquire().unwrap().record(Outcome::Failure, MS)
}

fn succeed(permit: Permit<'_>) -> Recorded {
    permit.record(Outcome::Success, MS)
}

#[test]
fn half_open_with_two_permits_admits_exactly_two_of_fifty_concurrent_callers() {
    let (b, clock, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .open_for(SECOND)
            .half_open(2, 2),
    );
    fail(&b);
    clock.advance(SECOND);
    let barrier = Barrier::new(50);
    let admitted: Vec<Permit<'_>> = thread::scope(|s| {
        let callers: Vec<_> = (0..50)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    b.try_acquire().ok()
                })
            })
            .collect();
        callers
            .into_iter()
            .filter_map(|c| c.join().unwrap())
            .collect()
    });
    assert_eq!(admitted.len(), 2);
    assert!(admitted.iter().all(Permit::is_trial));
    // Until the two finish, nobody else gets in, however long they take.
    for _ in 0..50 {
        let no = b.try_acquire().unwrap_err();
        assert_eq!(no.reason(), RejectReason::HalfOpenFull);
    }
    clock.advance(Duration::from_secs(30));
    assert!(b.try_acquire().is_err());
    for permit in admitted {
        assert_eq!(succeed(permit), Recorded::Counted);
    }
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.counters().rejected, 48 + 50 + 1);
}

#[test]
fn closed_era_failure_after_reopening_does_not_decide_the_trial() {
    let (b, clock, log) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .open_for(SECOND),
    );
    let slow_call = b.try_acquire().unwrap();
    fail(&b); // opens
    clock.advance(SECOND);
    let trial = b.try_acquire().unwrap();
    assert_eq!(b.state(), State::HalfOpen);
    // The call admitted while Closed fails only now: it must not reopen the breaker.
    assert_eq!(slow_call.record(Outcome::Failure, SECOND), Recorded::Stale);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(succeed(trial), Recorded::Counted);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        *log.lock().unwrap(),
        [
            (State::Closed, State::Open, Cause::ConsecutiveFailures),
            (State::Open, State::HalfOpen, Cause::OpenElapsed),
            (State::HalfOpen, State::Closed, Cause::TrialsSucceeded),
        ]
    );
    let c = b.counters();
    assert_eq!((c.failures, c.successes, c.stale), (1, 1, 1));
}

#[test]
fn late_success_while_open_does_not_close_it() {
    let (b, _, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(2)
            .open_for(SECOND),
    );
    let slow_call = b.try_acquire().unwrap();
    fail(&b);
    fail(&b);
    assert_eq!(b.state(), State::Open);
    assert_eq!(succeed(slow_call), Recorded::Stale);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.try_acquire().unwrap_err().reason(), RejectReason::Open);
}

#[test]
fn listener_that_calls_back_into_the_breaker_does_not_deadlock() {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let cell: Arc<OnceLock<Arc<Breaker>>> = Arc::default();
        let seen: Arc<Mutex<Vec<(Transition, State)>>> = Arc::default();
        let (me, sink) = (Arc::clone(&cell), Arc::clone(&seen));
        let b = Arc::new(
            Breaker::builder(BreakerConfig::new().consecutive_failures(1))
                .clock(ManualClock::new(0))
                .on_transition(move |t| {
                    let b = me.get().unwrap();
                    // Reading and switching from inside the callback, as dashboards and
                    // automation do.
                    sink.lock().unwrap().push((*t, b.state()));
                    let _ = b.counters();
                    if t.to == State::Open {
                        b.force_open();
                    }
                })
                .build()
                .unwrap(),
        );
        cell.set(Arc::clone(&b)).unwrap();
        fail(&b);
        let seen = seen.lock().unwrap().clone();
        let _ = done.send(seen);
    });
    let seen = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("the listener deadlocked");
    let steps: Vec<_> = seen
        .iter()
        .map(|(t, state)| (t.from, t.to, t.generation, *state))
        .collect();
    // Each delivered once, in order; the nested transition after the one that caused it.
    assert_eq!(
        steps,
        [
            (State::Closed, State::Open, 1, State::Open),
            (State::Open, State::ForcedOpen, 2, State::ForcedOpen),
        ]
    );
}

#[test]
fn backoff_doubles_to_its_cap_and_restarts_after_a_close() {
    let (b, clock, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .backoff(Backoff::exponential(SECOND, 2.0, 8 * SECOND)),
    );
    let open_time = |b: &Breaker| b.try_acquire().unwrap_err().retry_after().unwrap();
    fail(&b);
    let mut seen = vec![open_time(&b)];
    for _ in 0..4 {
        clock.advance(*seen.last().unwrap());
        assert_eq!(fail(&b), Recorded::Counted, "the trial fails");
        seen.push(open_time(&b));
    }
    let secs: Vec<u64> = seen.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [1, 2, 4, 8, 8]);
    clock.advance(8 * SECOND);
    assert_eq!(succeed(b.try_acquire().unwrap()), Recorded::Counted);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(open_time(&b), SECOND);
}

#[test]
fn time_window_rate_with_min_calls_unmet_never_trips() {
    let (b, clock, _) = breaker(
        BreakerConfig::new()
            .failure_rate(50.0)
            .time_window(10 * SECOND, 10)
            .min_calls(5),
    );
    // A failure every 2.5 s: at most four calls in any 10 s window, all of them failures.
    for _ in 0..1_000 {
        assert_eq!(fail(&b), Recorded::Counted);
        assert_eq!(b.state(), State::Closed);
        clock.advance(Duration::from_millis(2_500));
    }
    // The window now holds the failures of 2.5, 5 and 7.5 s ago. A fourth stays below
    // min_calls; a fifth reaches it, and 100% >= 50%.
    fail(&b);
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn full_failure_rate_threshold_trips_only_when_every_call_failed() {
    let (b, _, log) = breaker(
        BreakerConfig::new()
            .failure_rate(100.0)
            .count_window(4)
            .min_calls(4),
    );
    for _ in 0..100 {
        for _ in 0..3 {
            fail(&b);
        }
        succeed(b.try_acquire().unwrap());
        assert_eq!(b.state(), State::Closed, "75% is not 100%");
    }
    for _ in 0..3 {
        fail(&b);
        assert_eq!(b.state(), State::Closed);
    }
    fail(&b);
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.lock().unwrap()[0].2, Cause::FailureRate);
}

#[test]
fn trial_that_never_reports_times_out_instead_of_wedging_half_open() {
    let (b, clock, log) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .open_for(SECOND)
            .trial_timeout(5 * SECOND),
    );
    fail(&b);
    clock.advance(SECOND);
    let lost_probe = b.try_acquire().unwrap();
    let no = b.try_acquire().unwrap_err();
    assert_eq!(no.reason(), RejectReason::HalfOpenFull);
    assert_eq!(no.retry_after(), Some(5 * SECOND));
    clock.advance(5 * SECOND);
    // The probe is counted as failed: the breaker reopens, and the next wait is honest.
    let no = b.try_acquire().unwrap_err();
    assert_eq!(
        (no.reason(), no.retry_after()),
        (RejectReason::Open, Some(SECOND))
    );
    assert_eq!(log.lock().unwrap()[2].2, Cause::TrialTimeout);
    assert_eq!(b.counters().trial_timeouts, 1);
    assert_eq!(succeed(lost_probe), Recorded::Stale);
    clock.advance(SECOND);
    assert_eq!(succeed(b.try_acquire().unwrap()), Recorded::Counted);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn dropping_a_trial_permit_frees_its_slot_and_decides_nothing() {
    let (b, clock, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .open_for(SECOND),
    );
    fail(&b);
    clock.advance(SECOND);
    drop(b.try_acquire().unwrap()); // the caller went away
    assert_eq!(b.state(), State::HalfOpen);
    let trial = b.try_acquire().expect("the slot was freed");
    assert_eq!(succeed(trial), Recorded::Counted);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.counters().ignored, 1);
}

#[test]
fn ignored_outcomes_neither_trip_nor_break_a_failure_run() {
    let (b, _, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(2)
            .failure_rate(50.0)
            .count_window(2)
            .min_calls(2),
    );
    fail(&b);
    for _ in 0..100 {
        b.try_acquire().unwrap().record(Outcome::Ignored, MS);
    }
    assert_eq!(b.state(), State::Closed);
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn slow_probe_counts_as_a_failed_trial_under_a_slow_call_policy() {
    let (b, clock, log) = breaker(
        BreakerConfig::new()
            .slow_call_rate(50.0, SECOND)
            .count_window(2)
            .min_calls(2)
            .open_for(SECOND),
    );
    for _ in 0..2 {
        b.try_acquire()
            .unwrap()
            .record(Outcome::Success, 2 * SECOND);
    }
    assert_eq!(log.lock().unwrap()[0].2, Cause::SlowCallRate);
    clock.advance(SECOND);
    let trial = b.try_acquire().unwrap();
    assert_eq!(
        trial.record(Outcome::Success, 2 * SECOND),
        Recorded::Counted
    );
    assert_eq!(b.state(), State::Open);
    assert_eq!(log.lock().unwrap()[2].2, Cause::TrialsFailed);
}

#[test]
fn disabled_breaker_admits_everything_and_still_counts() {
    let (b, _, _) = breaker(BreakerConfig::new().consecutive_failures(1));
    assert!(b.disable());
    for _ in 0..10 {
        fail(&b);
    }
    let c = b.counters();
    assert_eq!(
        (b.state(), c.permitted, c.failures),
        (State::Disabled, 10, 10)
    );
    b.reset();
    fail(&b);
    assert_eq!(b.state(), State::Open);
}

#[test]
fn huge_configured_times_saturate_instead_of_overflowing() {
    let (b, clock, _) = breaker(
        BreakerConfig::new()
            .consecutive_failures(1)
            .backoff(Backoff::exponential(Duration::MAX, 1e300, Duration::MAX))
            .trial_timeout(Duration::MAX),
    );
    clock.set(u64::MAX - 5);
    fail(&b);
    let no = b.try_acquire().unwrap_err();
    assert_eq!(
        (no.reason(), no.retry_after_ticks()),
        (RejectReason::Open, Some(5))
    );
}
