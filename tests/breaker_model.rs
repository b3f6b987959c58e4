//! The circuit breaker against a reference model.
//!
//! The model states the semantics in the plainest code there is: windows are vectors of every
//! outcome since the last transition, answered by filtering; half-open trials are a vector of
//! `(id, admitted at)`; backoff and jitter are the formulas from the documentation in exact
//! integer arithmetic. Proptest drives random operation sequences (admissions, outcomes with
//! random latencies, dropped permits, clock steps, exact jumps to deadlines, and the manual
//! switches) through both with a deterministic clock, and compares every admission and
//! rejection (reason and retry time), every stale flag, the state and generation, all counters
//! and the whole sequence of transitions after every step.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use sluicegate::breaker::{
    Backoff, Breaker, BreakerConfig, Cause, Counters, Outcome, Permit, RandomSource, Recorded,
    RejectReason, SplitMix64, State, Transition,
};
use sluicegate::clock::{ManualClock, Tick};

/// The configuration of one scenario, in the model's terms.
#[derive(Debug, Clone)]
struct Config {
    consecutive: Option<u32>,
    /// Whole percentages.
    failure_rate: Option<u64>,
    slow: Option<(u64, Tick)>,
    window: Option<WindowKind>,
    min_calls: Option<u32>,
    /// (base, factor as num/den, cap); a fixed backoff has factor 1/1 and cap = base.
    backoff: (Tick, (u64, u64), Tick),
    /// Jitter as num/den, and the seed.
    jitter: ((u64, u64), u64),
    permits: u32,
    successes: u32,
    trial_rate: Option<u64>,
    trial_timeout: Tick,
}

#[derive(Debug, Clone, Copy)]
enum WindowKind {
    Count(u32),
    /// Bucket width in ticks, and the number of buckets.
    Time(Tick, u32),
}

impl Config {
    fn to_engine(&self) -> BreakerConfig {
        let mut c = BreakerConfig::new();
        if let Some(n) = self.consecutive {
            c = c.consecutive_failures(n);
        }
        if let Some(p) = self.failure_rate {
            c = c.failure_rate(p as f64);
        }
        if let Some((p, threshold)) = self.slow {
            c = c.slow_call_rate(p as f64, Duration::from_micros(threshold));
        }
        match self.window {
            Some(WindowKind::Count(m)) => c = c.count_window(m),
            Some(WindowKind::Time(width, buckets)) => {
                c = c.time_window(Duration::from_micros(width * u64::from(buckets)), buckets)
            }
            None => {}
        }
        if let Some(n) = self.min_calls {
            c = c.min_calls(n);
        }
        let (base, (num, den), cap) = self.backoff;
        c = if (num, den) == (1, 1) && cap == base {
            c.backoff(Backoff::fixed(Duration::from_micros(base)))
        } else {
            c.backoff(Backoff::exponential(
                Duration::from_micros(base),
                num as f64 / den as f64,
                Duration::from_micros(cap),
            ))
        };
        let ((jn, jd), _) = self.jitter;
        c = c.jitter(jn as f64 / jd as f64);
        c = c.half_open(self.permits, self.successes);
        if let Some(p) = self.trial_rate {
            c = c.half_open_failure_rate(p as f64);
        }
        c.trial_timeout(Duration::from_micros(self.trial_timeout))
    }

    fn min_calls(&self) -> u64 {
        let default = match self.window {
            Some(WindowKind::Count(m)) => m.min(10),
            _ => 10,
        };
        u64::from(self.min_calls.unwrap_or(default))
    }

    /// Failed trials that reopen: 1, or with a trial rate the fewest failures that are at
    /// least that share of the sample of `successes` trials.
    fn fail_at(&self) -> u32 {
        match self.trial_rate {
            None => 1,
            Some(p) => (1..=self.successes)
                .find(|&f| u64::from(f) * 100 >= p * u64::from(self.successes))
                .expect("f = successes is 100% of the sample"),
        }
    }
}

/// One outcome in a Closed window.
#[derive(Debug, Clone, Copy)]
struct Call {
    at: Tick,
    failed: bool,
    slow: bool,
}

/// What a model permit remembers.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    generation: u64,
    trial: Option<u64>,
}

/// The reference model.
#[derive(Debug)]
struct Model {
    cfg: Config,
    rng: SplitMix64,
    state: State,
    generation: u64,
    now: Tick,
    streak: u32,
    /// Every Closed outcome since the last transition.
    calls: Vec<Call>,
    open_until: Tick,
    open_for: Tick,
    /// Trials in flight: (id, admitted at).
    trials: Vec<(u64, Tick)>,
    next_trial: u64,
    trial_successes: u32,
    trial_failures: u32,
    counters: Counters,
    events: Vec<Event>,
}

/// The model's answer to an admission: a ticket, or (reason, retry after).
type Admission = Result<Ticket, (RejectReason, Option<Tick>)>;

impl Model {
    fn new(cfg: Config) -> Self {
        let rng = SplitMix64::new(cfg.jitter.1);
        Self {
            cfg,
            rng,
            state: State::Closed,
            generation: 0,
            now: 0,
            streak: 0,
            calls: Vec::new(),
            open_until: 0,
            open_for: 0,
            trials: Vec::new(),
            next_trial: 0,
            trial_successes: 0,
            trial_failures: 0,
            counters: Counters::default(),
            events: Vec::new(),
        }
    }

    fn acquire(&mut self) -> Admission {
        let answer = match self.state {
            State::Closed | State::Disabled => Ok(self.ticket(None)),
            State::ForcedOpen => Err((RejectReason::ForcedOpen, None)),
            State::Open if self.now < self.open_until => {
                Err((RejectReason::Open, Some(self.open_until - self.now)))
            }
            State::Open => {
                self.transition(State::HalfOpen, Cause::OpenElapsed);
                Ok(self.admit_trial())
            }
            State::HalfOpen => {
                self.expire_trials();
                if self.state == State::Open {
                    Err((RejectReason::Open, Some(self.open_until - self.now)))
                } else if self.trials.len() < self.cfg.permits as usize {
                    Ok(self.admit_trial())
                } else {
                    let oldest = self.trials.iter().map(|&(_, at)| at).min().unwrap();
                    let free_at = oldest.saturating_add(self.cfg.trial_timeout);
                    Err((RejectReason::HalfOpenFull, Some(free_at - self.now)))
                }
            }
        };
        match answer {
            Ok(_) => self.counters.permitted += 1,
            Err(_) => self.counters.rejected += 1,
        }
        answer
    }

    fn ticket(&self, trial: Option<u64>) -> Ticket {
        Ticket {
            generation: self.generation,
            trial,
        }
    }

    fn admit_trial(&mut self) -> Ticket {
        self.next_trial += 1;
        self.trials.push((self.next_trial, self.now));
        self.ticket(Some(self.next_trial))
    }

    fn is_slow(&self, elapsed: Tick) -> bool {
        self.cfg
            .slow
            .is_some_and(|(_, threshold)| elapsed >= threshold)
    }

    fn count(&mut self, outcome: Outcome, elapsed: Tick) {
        match outcome {
            Outcome::Success => self.counters.successes += 1,
            Outcome::Failure => self.counters.failures += 1,
            Outcome::Ignored => {
                self.counters.ignored += 1;
                return;
            }
        }
        if self.is_slow(elapsed) {
            self.counters.slow += 1;
        }
    }

    fn stale(&mut self) -> Recorded {
        self.counters.stale += 1;
        Recorded::Stale
    }

    fn record(&mut self, ticket: Ticket, outcome: Outcome, elapsed: Tick) -> Recorded {
        // Trial timeouts are noticed by admissions and by reports from the current generation.
        if ticket.generation == self.generation && self.state == State::HalfOpen {
            self.expire_trials();
        }
        if ticket.generation != self.generation {
            return self.stale();
        }
        match self.state {
            State::Disabled => self.count(outcome, elapsed),
            State::Closed => {
                self.count(outcome, elapsed);
                if outcome != Outcome::Ignored {
                    self.closed_outcome(outcome == Outcome::Failure, self.is_slow(elapsed));
                }
            }
            State::HalfOpen => {
                let id = ticket.trial.expect("half-open permits are trials");
                let Some(pos) = self.trials.iter().position(|&(t, _)| t == id) else {
                    return self.stale();
                };
                self.trials.remove(pos);
                self.count(outcome, elapsed);
                if outcome != Outcome::Ignored {
                    let failed = outcome == Outcome::Failure || self.is_slow(elapsed);
                    self.trial_outcome(failed);
                }
            }
            State::Open | State::ForcedOpen => {
                unreachable!("no permit is admitted in {:?}", self.state)
            }
        }
        Recorded::Counted
    }

    fn closed_outcome(&mut self, failed: bool, slow: bool) {
        self.streak = if failed { self.streak + 1 } else { 0 };
        self.calls.push(Call {
            at: self.now,
            failed,
            slow,
        });
        if self.cfg.consecutive.is_some_and(|n| self.streak >= n) {
            return self.transition(State::Open, Cause::ConsecutiveFailures);
        }
        let Some(kind) = self.cfg.window else {
            return;
        };
        let in_window: Vec<Call> = match kind {
            WindowKind::Count(m) => {
                let skip = self.calls.len().saturating_sub(m as usize);
                self.calls[skip..].to_vec()
            }
            WindowKind::Time(width, buckets) => self
                .calls
                .iter()
                .filter(|c| c.at / width + u64::from(buckets) > self.now / width)
                .copied()
                .collect(),
        };
        let calls = in_window.len() as u64;
        if calls < self.cfg.min_calls() {
            return;
        }
        let failures = in_window.iter().filter(|c| c.failed).count() as u64;
        let slow = in_window.iter().filter(|c| c.slow).count() as u64;
        if self
            .cfg
            .failure_rate
            .is_some_and(|p| failures * 100 >= p * calls)
        {
            self.transition(State::Open, Cause::FailureRate);
        } else if self.cfg.slow.is_some_and(|(p, _)| slow * 100 >= p * calls) {
            self.transition(State::Open, Cause::SlowCallRate);
        }
    }

    fn trial_outcome(&mut self, failed: bool) {
        if failed {
            self.trial_failures += 1;
        } else {
            self.trial_successes += 1;
        }
        if self.trial_failures >= self.cfg.fail_at() {
            self.transition(State::Open, Cause::TrialsFailed);
        } else if self.cfg.successes - self.trial_successes < self.cfg.fail_at() {
            // The rest of the sample can no longer fail enough to reopen.
            self.transition(State::Closed, Cause::TrialsSucceeded);
        }
    }

    fn expire_trials(&mut self) {
        let timeout = self.cfg.trial_timeout;
        let now = self.now;
        let before = self.trials.len();
        self.trials
            .retain(|&(_, at)| at.saturating_add(timeout) > now);
        let expired = (before - self.trials.len()) as u32;
        if expired > 0 {
            self.counters.trial_timeouts += u64::from(expired);
            self.trial_failures += expired;
            if self.trial_failures >= self.cfg.fail_at() {
                self.transition(State::Open, Cause::TrialTimeout);
            }
        }
    }

    fn transition(&mut self, to: State, cause: Cause) {
        if to == State::Open {
            let (base, (num, den), cap) = self.cfg.backoff;
            self.open_for = if self.state == State::HalfOpen {
                let grown = (u128::from(self.open_for) * u128::from(num)).div_ceil(u128::from(den));
                grown.min(u128::from(cap)) as Tick
            } else {
                base
            };
            let ((jn, jd), _) = self.cfg.jitter;
            let mut open_for = self.open_for;
            if jn > 0 {
                let r = u128::from(self.rng.next_u64() >> 32);
                let cut = u128::from(open_for) * u128::from(jn) * r / (u128::from(jd) << 32);
                open_for = (open_for - cut as Tick).max(1);
            }
            self.open_until = self.now.saturating_add(open_for);
        }
        self.generation += 1;
        self.events
            .push((self.state, to, cause, self.now, self.generation));
        self.state = to;
        self.streak = 0;
        self.calls.clear();
        self.trials.clear();
        self.trial_successes = 0;
        self.trial_failures = 0;
    }

    fn switch(&mut self, to: State, cause: Cause) -> bool {
        let changes = self.state != to;
        if changes {
            self.transition(to, cause);
        }
        changes
    }
}

/// A transition as compared: (from, to, cause, at, generation).
type Event = (State, State, Cause, Tick, u64);

fn event(t: &Transition) -> Event {
    (t.from, t.to, t.cause, t.at, t.generation)
}

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Record {
        permit: usize,
        outcome: Outcome,
        latency: Tick,
    },
    Drop {
        permit: usize,
    },
    Advance(Tick),
    /// Jump to the end of the open time, give or take a tick.
    ToOpenEnd(i8),
    /// Jump to the oldest trial's timeout, give or take a tick.
    ToTrialTimeout(i8),
    ForceOpen,
    Disable,
    Reset,
}

#[derive(Debug, Clone)]
struct Scenario {
    cfg: Config,
    ops: Vec<Op>,
}

const MS: Tick = 1_000;

fn percent() -> impl Strategy<Value = u64> {
    prop_oneof![Just(100u64), Just(50), 1u64..=100]
}

fn config() -> impl Strategy<Value = Config> {
    let policies = (
        proptest::option::of(1u32..=4),
        proptest::option::of(percent()),
        proptest::option::of((percent(), 1..=8 * MS)),
    );
    let window = prop_oneof![
        (1u32..=6).prop_map(WindowKind::Count),
        (1..=5 * MS, 1u32..=4).prop_map(|(w, b)| WindowKind::Time(w, b)),
    ];
    let backoff = prop_oneof![
        (1..=20 * MS).prop_map(|b| (b, (1, 1), b)),
        (
            1..=10 * MS,
            prop_oneof![Just((1u64, 1u64)), Just((3, 2)), Just((2, 1)), Just((3, 1))],
            0..=40 * MS
        )
            .prop_map(|(b, f, extra)| (b, f, b + extra)),
        Just((1, (2, 1), u64::MAX)),
    ];
    let jitter = (
        prop_oneof![Just((0u64, 1u64)), Just((1, 4)), Just((1, 2)), Just((1, 1))],
        any::<u64>(),
    );
    let half_open = (
        1u32..=3,
        1u32..=4,
        proptest::option::of(percent()),
        1..=30 * MS,
    );
    (
        policies,
        window,
        proptest::option::of(1u32..=8),
        backoff,
        jitter,
        half_open,
    )
        .prop_filter_map(
            "a breaker needs a trip policy",
            |((consecutive, failure_rate, slow), window, min_calls, backoff, jitter, ho)| {
                let rated = failure_rate.is_some() || slow.is_some();
                if consecutive.is_none() && !rated {
                    return None;
                }
                let window = rated.then_some(window);
                let min_calls = match (window, min_calls) {
                    (Some(WindowKind::Count(m)), Some(n)) => Some(n.min(m)),
                    (Some(_), n) => n,
                    (None, _) => None,
                };
                Some(Config {
                    consecutive,
                    failure_rate,
                    slow,
                    window,
                    min_calls,
                    backoff,
                    jitter,
                    permits: ho.0,
                    successes: ho.1,
                    trial_rate: ho.2,
                    trial_timeout: ho.3,
                })
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        4 => Just(Outcome::Failure),
        3 => Just(Outcome::Success),
        1 => Just(Outcome::Ignored),
    ];
    prop_oneof![
        30 => Just(Op::Acquire),
        30 => (any::<usize>(), outcome, 0..=12 * MS)
            .prop_map(|(permit, outcome, latency)| Op::Record { permit, outcome, latency }),
        5 => any::<usize>().prop_map(|permit| Op::Drop { permit }),
        15 => prop_oneof![0..=2 * MS, 0..=40 * MS].prop_map(Op::Advance),
        4 => (-1i8..=1).prop_map(Op::ToOpenEnd),
        3 => (-1i8..=1).prop_map(Op::ToTrialTimeout),
        1 => Just(Op::ForceOpen),
        1 => Just(Op::Disable),
        2 => Just(Op::Reset),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (config(), proptest::collection::vec(op(), 1..150)).prop_map(|(cfg, ops)| Scenario { cfg, ops })
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(0);
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&events);
    let breaker = Breaker::builder(s.cfg.to_engine())
        .clock(clock.clone())
        .seed(s.cfg.jitter.1)
        .on_transition(move |t| log.lock().unwrap().push(event(t)))
        .build()
        .map_err(|e| TestCaseError::fail(format!("config refused: {e}")))?;
    let mut model = Model::new(s.cfg.clone());
    let mut permits: Vec<(Permit<'_>, Ticket)> = Vec::new();
    for (step, op) in s.ops.iter().enumerate() {
        match *op {
            Op::Acquire => {
                let got = breaker.try_acquire();
                let want = model.acquire();
                match (got, want) {
                    (Ok(permit), Ok(ticket)) => {
                        prop_assert_eq!(permit.generation(), ticket.generation, "step {}", step);
                        prop_assert_eq!(permit.is_trial(), ticket.trial.is_some(), "step {}", step);
                        permits.push((permit, ticket));
                    }
                    (Err(rejected), Err((reason, retry))) => {
                        prop_assert_eq!(
                            (rejected.reason(), rejected.retry_after_ticks()),
                            (reason, retry),
                            "step {}: rejection",
                            step
                        );
                    }
                    (got, want) => prop_assert!(
                        false,
                        "step {}: engine {:?}, model {:?}",
                        step,
                        got.map(|p| p.generation()),
                        want
                    ),
                }
            }
            Op::Record {
                permit,
                outcome,
                latency,
            } => {
                if !permits.is_empty() {
                    let (permit, ticket) = permits.swap_remove(permit % permits.len());
                    let got = permit.record(outcome, Duration::from_micros(latency));
                    let want = model.record(ticket, outcome, latency);
                    prop_assert_eq!(got, want, "step {}: {:?}", step, op);
                }
            }
            Op::Drop { permit } => {
                if !permits.is_empty() {
                    let (permit, ticket) = permits.swap_remove(permit % permits.len());
                    drop(permit);
                    model.record(ticket, Outcome::Ignored, 0);
                }
            }
            Op::Advance(by) => model.now = model.now.saturating_add(by),
            Op::ToOpenEnd(offset) => {
                if model.state == State::Open {
                    let to = model.open_until.saturating_add_signed(i64::from(offset));
                    model.now = model.now.max(to);
                }
            }
            Op::ToTrialTimeout(offset) => {
                if let Some(oldest) = model.trials.iter().map(|&(_, at)| at).min() {
                    let to = oldest
                        .saturating_add(s.cfg.trial_timeout)
                        .saturating_add_signed(i64::from(offset));
                    model.now = model.now.max(to);
                }
            }
            Op::ForceOpen => {
                prop_assert_eq!(
                    breaker.force_open(),
                    model.switch(State::ForcedOpen, Cause::Forced),
                    "step {}",
                    step
                );
            }
            Op::Disable => {
                prop_assert_eq!(
                    breaker.disable(),
                    model.switch(State::Disabled, Cause::Disabled),
                    "step {}",
                    step
                );
            }
            Op::Reset => {
                breaker.reset();
                model.transition(State::Closed, Cause::Reset);
            }
        }
        clock.set(model.now);
        prop_assert_eq!(
            (breaker.state(), breaker.generation()),
            (model.state, model.generation),
            "step {}: {:?}",
            step,
            op
        );
        prop_assert_eq!(
            breaker.counters(),
            model.counters,
            "step {}: {:?}",
            step,
            op
        );
        prop_assert_eq!(
            &*events.lock().unwrap(),
            &model.events,
            "step {}: {:?}",
            step,
            op
        );
    }
    // Every permit ends exactly once.
    for (permit, ticket) in permits.drain(..) {
        drop(permit);
        model.record(ticket, Outcome::Ignored, 0);
    }
    let c = breaker.counters();
    prop_assert_eq!(c, model.counters);
    prop_assert_eq!(c.permitted, c.successes + c.failures + c.ignored + c.stale);
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn breaker_matches_the_model(s in scenario()) {
        run(&s)?;
    }
}
