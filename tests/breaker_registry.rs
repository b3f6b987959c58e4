//! The keyed registry: one breaker per key, bounded, forgetting only what is safe to forget.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluicegate::breaker::{
    BreakerConfig, Breakers, Cause, ConfigError, KeyedError, Outcome, RejectReason, State,
};
use sluicegate::clock::ManualClock;

const MINUTE: Duration = Duration::from_secs(60);

fn config() -> BreakerConfig {
    BreakerConfig::new()
        .consecutive_failures(1)
        .open_for(Duration::from_secs(10))
}

fn registry(max_keys: usize, clock: &ManualClock) -> Breakers {
    Breakers::builder(config())
        .shards(1)
        .max_keys(max_keys)
        .idle_after(MINUTE)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn fail(breakers: &Breakers, key: &str) {
    breakers
        .try_acquire(key)
        .unwrap()
        .record(Outcome::Failure, Duration::ZERO);
}

#[test]
fn keys_have_independent_breakers() {
    let clock = ManualClock::new(0);
    let breakers = registry(16, &clock);
    fail(&breakers, "a");
    assert!(matches!(
        breakers.try_acquire("a"),
        Err(KeyedError::Open(r)) if r.reason() == RejectReason::Open
    ));
    assert!(breakers.try_acquire("b").is_ok());
    assert_eq!(breakers.get("a").unwrap().state(), State::Open);
    assert_eq!(breakers.get("b").unwrap().state(), State::Closed);
}

#[test]
fn a_full_registry_reclaims_only_idle_closed_breakers() {
    let clock = ManualClock::new(0);
    let breakers = registry(2, &clock);
    fail(&breakers, "open"); // Open: never forgotten
    drop(breakers.try_acquire("idle").unwrap());
    // Full, and nothing has been idle for a minute yet.
    assert_eq!(
        breakers.try_acquire("new").unwrap_err(),
        KeyedError::Full { max_keys: 2 }
    );
    clock.advance(MINUTE);
    assert!(breakers.try_acquire("new").is_ok());
    assert!(
        breakers.get("idle").is_none(),
        "the idle breaker was reclaimed"
    );
    assert_eq!(breakers.get("open").unwrap().state(), State::Open);
    let stats = breakers.stats();
    assert_eq!((stats.keys, stats.reclaimed, stats.refused), (2, 1, 1));
}

#[test]
fn a_breaker_with_a_permit_outstanding_is_never_reclaimed() {
    let clock = ManualClock::new(0);
    let breakers = registry(1, &clock);
    let in_flight = breakers.try_acquire("slow-upstream").unwrap();
    for _ in 0..5 {
        clock.advance(MINUTE);
        assert!(matches!(
            breakers.try_acquire("other"),
            Err(KeyedError::Full { .. })
        ));
    }
    in_flight.record(Outcome::Success, Duration::from_secs(300));
    assert_eq!(
        breakers.get("slow-upstream").unwrap().counters().successes,
        1
    );
}

#[test]
fn a_breaker_with_calls_in_its_time_window_is_not_reclaimed() {
    let clock = ManualClock::new(0);
    let breakers = Breakers::builder(
        BreakerConfig::new()
            .failure_rate(50.0)
            .time_window(Duration::from_secs(600), 10),
    )
    .shards(1)
    .max_keys(1)
    .idle_after(MINUTE)
    .clock(clock.clone())
    .build()
    .unwrap();
    breakers
        .try_acquire("a")
        .unwrap()
        .record(Outcome::Failure, Duration::ZERO);
    for _ in 0..9 {
        clock.advance(MINUTE);
        assert!(
            breakers.try_acquire("b").is_err(),
            "the failure is still in the window"
        );
    }
    clock.advance(MINUTE * 2);
    assert!(breakers.try_acquire("b").is_ok());
}

#[test]
fn keys_may_have_their_own_configuration() {
    let clock = ManualClock::new(0);
    let breakers = Breakers::builder(config())
        .config_for("tolerant", BreakerConfig::new().consecutive_failures(3))
        .clock(clock.clone())
        .build()
        .unwrap();
    fail(&breakers, "tolerant");
    fail(&breakers, "tolerant");
    assert_eq!(breakers.get("tolerant").unwrap().state(), State::Closed);
    fail(&breakers, "strict");
    assert_eq!(breakers.get("strict").unwrap().state(), State::Open);
}

#[test]
fn a_bad_per_key_configuration_is_refused() {
    let err = Breakers::builder(config())
        .config_for("x", BreakerConfig::new())
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::NoTripPolicy);
}

/// (key, state entered, cause), as the listener heard them.
type Heard = (Vec<u8>, State, Cause);

#[test]
fn the_listener_hears_which_key_changed() {
    let heard: Arc<Mutex<Vec<Heard>>> = Arc::default();
    let sink = Arc::clone(&heard);
    let breakers = Breakers::builder(config())
        .clock(ManualClock::new(0))
        .on_transition(move |key, t| sink.lock().unwrap().push((key.to_vec(), t.to, t.cause)))
        .build()
        .unwrap();
    fail(&breakers, "db-1");
    breakers.breaker("db-2").unwrap().force_open();
    assert_eq!(
        *heard.lock().unwrap(),
        [
            (b"db-1".to_vec(), State::Open, Cause::ConsecutiveFailures),
            (b"db-2".to_vec(), State::ForcedOpen, Cause::Forced),
        ]
    );
}

#[test]
fn seeded_jitter_repeats_per_key_and_differs_between_keys() {
    let open_times = |seed: u64| {
        let clock = ManualClock::new(0);
        let breakers = Breakers::builder(config().jitter(1.0))
            .seed(seed)
            .clock(clock)
            .build()
            .unwrap();
        ["a", "b", "c", "d"].map(|key| {
            fail(&breakers, key);
            breakers.try_acquire(key).unwrap_err().to_string()
        })
    };
    assert_eq!(open_times(7), open_times(7));
    let times = open_times(7);
    assert!(times.iter().any(|t| *t != times[0]), "{times:?}");
}

#[test]
fn long_keys_are_refused_before_any_work() {
    let breakers = Breakers::builder(config()).max_key_len(8).build().unwrap();
    assert_eq!(
        breakers.try_acquire("0123456789").unwrap_err(),
        KeyedError::KeyTooLong { len: 10, max: 8 }
    );
    assert!(breakers.is_empty());
}
