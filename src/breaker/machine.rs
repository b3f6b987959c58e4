//! The breaker itself: admission, outcomes and transitions.
//!
//! The Closed path never takes a lock. An admission loads the state word and bumps a counter
//! in the calling thread's lane; an outcome loads the word again, checks the permit's
//! generation against it, and, with a consecutive-failures policy alone, compare-and-swaps the
//! failure run inside it. Everything else (windows, half-open trials, opening, time) happens
//! under the breaker's lock, where every transition bumps the generation in one store.
//!
//! A failure that takes the run to its threshold freezes the word: lock-free outcomes leave a
//! word at or past the threshold alone and take the lock instead, and whoever takes the lock
//! first opens the breaker. So the breaker opens exactly at the failure that reached the
//! threshold, as if every outcome had been recorded one at a time.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::breaker::config::{Settings, reaches};
use crate::breaker::counters::{Count, Lanes, MAX_LANES, default_lanes};
use crate::breaker::events::{Events, Listener};
use crate::breaker::permit::Holder;
use crate::breaker::state::Word;
use crate::breaker::trials::{Trials, Verdict};
use crate::breaker::window::Window;
use crate::breaker::{
    BreakerConfig, Cause, ConfigError, Counters, Outcome, Permit, RandomSource, Recorded,
    RejectReason, Rejected, SplitMix64, State, Transition,
};
use crate::clock::{Clock, MonotonicClock, Tick};

/// What a call's admission decided: the generation and, for a trial, its id.
type Ticket = (u64, u64);

/// What only the lock holder touches.
struct Core {
    /// The latest time seen under the lock: earlier clock readings are raised to it.
    floor: Tick,
    window: Option<Window>,
    trials: Trials,
    /// The open time last chosen (before jitter), which the next failed probe grows.
    open_for: Tick,
    random: Box<dyn RandomSource>,
}

/// A circuit breaker for one upstream.
///
/// Share it by reference or in an [`Arc`]; every method takes `&self`. Admit a call with
/// [`try_acquire`](Self::try_acquire), then report how it went on the [`Permit`].
///
/// States: Closed (calls pass, outcomes are measured), Open (calls are rejected until the open
/// time passes), HalfOpen (a few trial calls decide between Closed and Open), and the manual
/// ForcedOpen and Disabled. Time-driven changes happen when a caller arrives: an Open breaker
/// whose time is up becomes HalfOpen at the next [`try_acquire`](Self::try_acquire), which
/// becomes the first trial; [`state`](Self::state) only reports.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome, RejectReason, State};
/// use sluicegate::clock::ManualClock;
/// let clock = ManualClock::new(0);
/// let config = BreakerConfig::new().consecutive_failures(2).open_for(Duration::from_secs(5));
/// let breaker = Breaker::builder(config).clock(clock.clone()).build().unwrap();
/// for _ in 0..2 {
///     let permit = breaker.try_acquire().unwrap();
///     permit.record(Outcome::Failure, Duration::from_millis(20));
/// }
/// assert_eq!(breaker.state(), State::Open);
/// let no = breaker.try_acquire().unwrap_err();
/// assert_eq!(no.reason(), RejectReason::Open);
/// assert_eq!(no.retry_after(), Some(Duration::from_secs(5)));
/// clock.advance(Duration::from_secs(5));
/// let trial = breaker.try_acquire().unwrap();
/// assert!(trial.is_trial());
/// trial.record(Outcome::Success, Duration::from_millis(20));
/// assert_eq!(breaker.state(), State::Closed);
/// ```
// `repr(C)` keeps every field a Closed call touches (the state word, the flags beside it, the
// lane count and the first counters of the inline lane) in the first 40 bytes, so a breaker in
// an `Arc` usually shares one cache line with its reference count.
#[repr(C)]
pub struct Breaker {
    word: AtomicU64,
    /// The consecutive-failures threshold, or 0 without one (copied from the settings for the
    /// lock-free path).
    streak_limit: u32,
    /// Whether Closed outcomes go into a window, and so through the lock.
    windowed: bool,
    counters: Lanes,
    /// When the current open time ends; meaningful while the state is Open.
    open_until: AtomicU64,
    settings: Arc<Settings>,
    core: Mutex<Core>,
    events: Events,
    clock: Arc<dyn Clock>,
}

/// Builds a [`Breaker`] with a clock, a listener or a random source; see [`Breaker::builder`].
pub struct BreakerBuilder {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    listener: Option<Listener>,
    random: Option<Box<dyn RandomSource>>,
    lanes: Option<usize>,
}

impl BreakerBuilder {
    /// The clock the breaker reads (default [`MonotonicClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Calls `listener` once for every transition, in generation order, with no lock held: it
    /// may call back into the breaker. Transitions made by different threads at once are
    /// delivered by whichever thread is delivering, so the listener may run on another thread
    /// than the one whose call caused the transition, and slightly after it.
    pub fn on_transition(mut self, listener: impl Fn(&Transition) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Seeds the built-in jitter generator ([`SplitMix64`]); by default the seed is random.
    pub fn seed(self, seed: u64) -> Self {
        self.random_source(SplitMix64::new(seed))
    }

    /// Draws jitter from `source` instead of the built-in generator.
    pub fn random_source(mut self, source: impl RandomSource + 'static) -> Self {
        self.random = Some(Box::new(source));
        self
    }

    /// Gives the counters `lanes` lanes (a power of two up to 64; default: the number of cores,
    /// rounded up): the first `lanes` threads to count in the process (while they live) each
    /// add to a lane of their own without a locked instruction, and any other thread adds to
    /// one shared lane. Several lanes take a 128-byte cache line each, plus one for the shared
    /// lane.
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = Some(lanes);
        self
    }

    /// Checks the configuration and builds the breaker.
    pub fn build(self) -> Result<Breaker, ConfigError> {
        let settings = Arc::new(self.config.settings()?);
        let lanes = self.lanes.unwrap_or_else(default_lanes);
        let random = self
            .random
            .unwrap_or_else(|| Box::new(SplitMix64::new(random_seed())));
        Breaker::from_parts(settings, self.clock, self.listener, random, lanes)
    }
}

/// A seed that differs from process to process.
pub(crate) fn random_seed() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

impl Breaker {
    /// A breaker with `config`, the monotonic clock, no listener and a random jitter seed.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig, State};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5))?;
    /// assert_eq!(breaker.state(), State::Closed);
    /// # Ok::<(), sluicegate::breaker::ConfigError>(())
    /// ```
    pub fn new(config: BreakerConfig) -> Result<Self, ConfigError> {
        Self::builder(config).build()
    }

    /// Starts building a breaker from `config`.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// use sluicegate::clock::ManualClock;
    /// let breaker = Breaker::builder(BreakerConfig::new().consecutive_failures(5))
    ///     .clock(ManualClock::new(0))
    ///     .seed(7)
    ///     .lanes(1)
    ///     .on_transition(|t| println!("{t}"))
    ///     .build()?;
    /// # Ok::<(), sluicegate::breaker::ConfigError>(())
    /// ```
    pub fn builder(config: BreakerConfig) -> BreakerBuilder {
        BreakerBuilder {
            config,
            clock: Arc::new(MonotonicClock::new()),
            listener: None,
            random: None,
            lanes: None,
        }
    }

    pub(crate) fn from_parts(
        settings: Arc<Settings>,
        clock: Arc<dyn Clock>,
        listener: Option<Listener>,
        random: Box<dyn RandomSource>,
        lanes: usize,
    ) -> Result<Self, ConfigError> {
        if lanes == 0 || !lanes.is_power_of_two() || lanes > MAX_LANES {
            return Err(ConfigError::Lanes {
                lanes,
                max: MAX_LANES,
            });
        }
        Ok(Self {
            word: AtomicU64::new(Word::new(State::Closed, 0).0),
            open_until: AtomicU64::new(0),
            counters: Lanes::new(lanes),
            streak_limit: settings.streak_limit.unwrap_or(0),
            windowed: settings.window.is_some(),
            core: Mutex::new(Core {
                floor: 0,
                window: settings.window.map(Window::new),
                trials: Trials::default(),
                open_for: settings.schedule.first(),
                random,
            }),
            settings,
            events: Events::new(listener),
            clock,
        })
    }

    /// Asks to make one call. Closed and Disabled admit; Open rejects until its time is up,
    /// then turns HalfOpen and admits this call as the first trial; HalfOpen admits while a
    /// trial slot is free; ForcedOpen rejects.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// match breaker.try_acquire() {
    ///     Ok(permit) => {
    ///         permit.record(Outcome::Success, Duration::from_millis(12));
    ///     }
    ///     Err(rejected) => println!("503, {rejected}"),
    /// }
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let (generation, trial) = self.admit()?;
        Ok(Permit::new(Holder::Borrowed(self), generation, trial))
    }

    /// [`try_acquire`](Self::try_acquire) for a breaker in an [`Arc`]: the permit holds a
    /// reference of its own, so it can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome};
    /// let breaker = Arc::new(Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap());
    /// let permit = breaker.try_acquire_owned().unwrap();
    /// std::thread::spawn(move || permit.record(Outcome::Success, Duration::ZERO))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(breaker.counters().successes, 1);
    /// ```
    #[inline]
    pub fn try_acquire_owned(self: &Arc<Self>) -> Result<Permit<'static>, Rejected> {
        let (generation, trial) = self.admit()?;
        Ok(Permit::new(
            Holder::Shared(Arc::clone(self)),
            generation,
            trial,
        ))
    }

    /// [`try_acquire_owned`](Self::try_acquire_owned) taking the caller's reference.
    #[inline]
    pub(crate) fn acquire_shared(self: Arc<Self>) -> Result<Permit<'static>, Rejected> {
        let (generation, trial) = self.admit()?;
        Ok(Permit::new(Holder::Shared(self), generation, trial))
    }

    /// The current state. It only reports: an Open breaker whose time is up still says Open
    /// until the next [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig, State};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// breaker.disable();
    /// assert_eq!(breaker.state(), State::Disabled);
    /// ```
    pub fn state(&self) -> State {
        self.word().state()
    }

    /// The current generation: 0 when built, one more after each transition.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// breaker.reset();
    /// assert_eq!(breaker.generation(), 1);
    /// ```
    pub fn generation(&self) -> u64 {
        self.word().generation()
    }

    /// The counters, added up over the lanes.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// breaker.force_open();
    /// assert!(breaker.try_acquire().is_err());
    /// assert_eq!(breaker.counters().rejected, 1);
    /// ```
    pub fn counters(&self) -> Counters {
        self.counters.snapshot()
    }

    /// Holds the breaker open, rejecting every call, until [`reset`](Self::reset) or
    /// [`disable`](Self::disable). False if it was already forced open.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// assert!(breaker.force_open());
    /// assert!(!breaker.force_open());
    /// ```
    pub fn force_open(&self) -> bool {
        self.switch(State::ForcedOpen, Cause::Forced)
    }

    /// Admits every call and keeps counting outcomes, but never trips, until
    /// [`reset`](Self::reset) or [`force_open`](Self::force_open). False if it was already
    /// disabled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{Breaker, BreakerConfig, Outcome, State};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(1)).unwrap();
    /// assert!(breaker.disable());
    /// breaker.try_acquire().unwrap().record(Outcome::Failure, Duration::ZERO);
    /// assert_eq!((breaker.state(), breaker.counters().failures), (State::Disabled, 1));
    /// ```
    pub fn disable(&self) -> bool {
        self.switch(State::Disabled, Cause::Disabled)
    }

    /// Closes the breaker afresh from any state, even Closed: a new generation (permits
    /// outstanding become stale), empty windows, no failure run, and the backoff back at its
    /// base. Counters keep their history.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig, State};
    /// let breaker = Breaker::new(BreakerConfig::new().consecutive_failures(5)).unwrap();
    /// breaker.force_open();
    /// breaker.reset();
    /// assert_eq!(breaker.state(), State::Closed);
    /// ```
    pub fn reset(&self) {
        self.locked(|s| s.transition(State::Closed, Cause::Reset));
    }

    /// The clock this breaker reads.
    ///
    /// ```
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// use sluicegate::clock::ManualClock;
    /// let breaker = Breaker::builder(BreakerConfig::new().consecutive_failures(5))
    ///     .clock(ManualClock::new(42))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(breaker.clock().now(), 42);
    /// ```
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Whether a registry may forget this breaker at `now`: Closed, no consecutive-failures
    /// trip pending, and no call in its time window. (Count windows and failure runs are not
    /// kept for breakers the registry finds idle.)
    pub(crate) fn is_quiet(&self) -> bool {
        self.locked(|s| {
            let now = s.now;
            s.word.state() == State::Closed
                && s.core.window.as_mut().is_none_or(|w| match w {
                    Window::Count(_) => true,
                    Window::Time(_) => w.tally(now).calls == 0,
                })
        })
    }

    /// Bytes this breaker occupies, not counting its listener or random source.
    pub(crate) fn bytes(&self) -> usize {
        size_of::<Self>() + self.counters.heap_bytes()
    }

    pub(crate) fn permitted(&self) -> u64 {
        self.counters.get(Count::Permitted)
    }

    #[inline]
    fn word(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    /// Decides an admission, counting it.
    // Always inlined: a Closed admission is a load, a test and a store, cheaper than a call.
    #[inline(always)]
    fn admit(&self) -> Result<Ticket, Rejected> {
        let word = self.word();
        let decided = match word.state() {
            State::Closed | State::Disabled => Ok((word.generation(), 0)),
            _ => self.admit_slow(word),
        };
        match decided {
            Ok(_) => self.counters.bump(Count::Permitted),
            Err(_) => self.counters.bump(Count::Rejected),
        }
        decided
    }

    #[inline(never)]
    fn admit_slow(&self, word: Word) -> Result<Ticket, Rejected> {
        match word.state() {
            State::ForcedOpen => return Err(Rejected::new(RejectReason::ForcedOpen, None)),
            State::Open => {
                // Rejections while open are the busy path of an outage: no lock for them.
                let now = self.clock.now();
                let until = self.open_until.load(Ordering::Acquire);
                if now < until {
                    return Err(open_rejection(until, now));
                }
            }
            _ => {}
        }
        self.locked(|s| s.admit())
    }

    /// Counts an outcome for the permit of `generation` (and `trial`, if a trial).
    #[inline]
    pub(crate) fn settle(
        &self,
        generation: u64,
        trial: u64,
        outcome: Outcome,
        elapsed: Tick,
    ) -> Recorded {
        let word = self.word();
        // The busy case, in one comparison: a success in the permit's generation, Closed, with
        // no failure run to end and no window to record into.
        if outcome == Outcome::Success
            && word == Word::new(State::Closed, generation)
            && !self.windowed
        {
            self.counters.bump(Count::Successes);
            return Recorded::Counted;
        }
        self.settle_other(word, generation, trial, outcome, elapsed)
    }

    /// [`settle`](Self::settle) for everything but the busy case.
    #[inline(never)]
    fn settle_other(
        &self,
        word: Word,
        generation: u64,
        trial: u64,
        outcome: Outcome,
        elapsed: Tick,
    ) -> Recorded {
        if word.generation() != generation {
            return self.count_stale();
        }
        match (word.state(), outcome) {
            (State::Closed | State::Disabled, Outcome::Ignored) => {
                self.counters.bump(Count::Ignored);
                Recorded::Counted
            }
            (State::Disabled, _) => {
                self.count_outcome(outcome == Outcome::Failure, elapsed);
                Recorded::Counted
            }
            (State::Closed, _) if !self.windowed => self.settle_streak(word, outcome),
            _ => self.locked(|s| s.settle(generation, trial, outcome, elapsed)),
        }
    }

    /// A Closed outcome with a consecutive-failures policy alone: compare-and-swap the run.
    fn settle_streak(&self, mut word: Word, outcome: Outcome) -> Recorded {
        let generation = word.generation();
        let failed = outcome == Outcome::Failure;
        loop {
            if word.generation() != generation {
                return self.count_stale();
            }
            let streak = word.streak();
            if streak >= self.streak_limit {
                // Frozen: a trip is due; the lock holder makes it.
                return self.locked(|s| s.settle(generation, 0, outcome, 0));
            }
            let next = if failed {
                word.with_streak(streak + 1)
            } else if streak == 0 {
                break;
            } else {
                word.with_streak(0)
            };
            match self.word.compare_exchange_weak(
                word.0,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    word = next;
                    break;
                }
                Err(actual) => word = Word(actual),
            }
        }
        // No window, so no slow-call policy: nothing to time.
        self.count_verdict(failed);
        if failed && word.streak() >= self.streak_limit {
            // Taking the lock makes the trip this failure is due.
            self.locked(|_| ());
        }
        Recorded::Counted
    }

    fn count_stale(&self) -> Recorded {
        self.counters.bump(Count::Stale);
        Recorded::Stale
    }

    fn count_outcome(&self, failed: bool, elapsed: Tick) {
        self.count_verdict(failed);
        if self.settings.is_slow(elapsed) {
            self.counters.bump(Count::Slow);
        }
    }

    #[inline]
    fn count_verdict(&self, failed: bool) {
        self.counters.bump(if failed {
            Count::Failures
        } else {
            Count::Successes
        });
    }

    fn switch(&self, to: State, cause: Cause) -> bool {
        self.locked(|s| {
            let changes = s.word.state() != to;
            if changes {
                s.transition(to, cause);
            }
            changes
        })
    }

    /// Runs `f` under the lock, then delivers any transitions it made.
    ///
    /// Before `f` runs, a consecutive-failures trip that a lock-free outcome made due is
    /// carried out, so `f` always sees a state that agrees with every outcome counted so far.
    fn locked<R>(&self, f: impl FnOnce(&mut Step<'_>) -> R) -> R {
        let mut core = self.core.lock();
        let now = self.clock.now().max(core.floor);
        core.floor = now;
        let mut step = Step {
            breaker: self,
            word: self.word(),
            core: &mut core,
            now,
            moved: false,
        };
        if step.trip_due() {
            step.transition(State::Open, Cause::ConsecutiveFailures);
        }
        let result = f(&mut step);
        let moved = step.moved;
        drop(core);
        if moved {
            self.events.deliver();
        }
        result
    }
}

fn open_rejection(until: Tick, now: Tick) -> Rejected {
    Rejected::new(RejectReason::Open, Some(until.saturating_sub(now)))
}

/// The breaker under its lock, at one instant.
struct Step<'a> {
    breaker: &'a Breaker,
    word: Word,
    core: &'a mut Core,
    now: Tick,
    /// Whether a transition was made (and queued for the listener).
    moved: bool,
}

impl Step<'_> {
    fn admit(&mut self) -> Result<Ticket, Rejected> {
        match self.word.state() {
            State::Closed | State::Disabled => Ok((self.word.generation(), 0)),
            State::ForcedOpen => Err(Rejected::new(RejectReason::ForcedOpen, None)),
            State::Open => {
                let until = self.open_until();
                if self.now < until {
                    return Err(open_rejection(until, self.now));
                }
                self.transition(State::HalfOpen, Cause::OpenElapsed);
                Ok(self.admit_trial())
            }
            State::HalfOpen => {
                self.expire_trials();
                let rules = &self.breaker.settings.trials;
                if self.word.state() == State::Open {
                    Err(open_rejection(self.open_until(), self.now))
                } else if self.core.trials.in_flight() < rules.permits {
                    Ok(self.admit_trial())
                } else {
                    let free_by = self.core.trials.next_timeout(rules.timeout);
                    Err(Rejected::new(
                        RejectReason::HalfOpenFull,
                        free_by.map(|t| t.saturating_sub(self.now)),
                    ))
                }
            }
        }
    }

    fn admit_trial(&mut self) -> Ticket {
        (self.word.generation(), self.core.trials.admit(self.now))
    }

    fn open_until(&self) -> Tick {
        self.breaker.open_until.load(Ordering::Relaxed)
    }

    fn settle(&mut self, generation: u64, trial: u64, outcome: Outcome, elapsed: Tick) -> Recorded {
        let b = self.breaker;
        if self.word.state() == State::HalfOpen {
            // Trials past their time count as failed before this report is looked at.
            self.expire_trials();
        }
        if self.word.generation() != generation {
            return b.count_stale();
        }
        match self.word.state() {
            State::Closed => self.settle_closed(outcome, elapsed),
            State::HalfOpen => {
                if !self.core.trials.finish(trial) {
                    return b.count_stale();
                }
                self.settle_trial(outcome, elapsed);
            }
            State::Disabled => match outcome {
                Outcome::Ignored => b.counters.bump(Count::Ignored),
                _ => b.count_outcome(outcome == Outcome::Failure, elapsed),
            },
            // A permit's generation is never an Open or ForcedOpen one.
            State::Open | State::ForcedOpen => return b.count_stale(),
        }
        Recorded::Counted
    }

    fn settle_closed(&mut self, outcome: Outcome, elapsed: Tick) {
        let b = self.breaker;
        let settings = &*b.settings;
        if outcome == Outcome::Ignored {
            b.counters.bump(Count::Ignored);
            return;
        }
        let failed = outcome == Outcome::Failure;
        let slow = settings.is_slow(elapsed);
        b.count_outcome(failed, elapsed);
        if b.streak_limit > 0 {
            let streak = if failed { self.word.streak() + 1 } else { 0 };
            // Lock-free writers leave the run alone while a window is configured, and with no
            // window only a due trip reaches here, which `locked` has already made.
            self.word = self.word.with_streak(streak);
            b.word.store(self.word.0, Ordering::Release);
        }
        let cause = if b.streak_limit > 0 && self.word.streak() >= b.streak_limit {
            Some(Cause::ConsecutiveFailures)
        } else if let Some(window) = &mut self.core.window {
            window.record(self.now, failed, slow);
            let tally = window.tally(self.now);
            if tally.calls < settings.min_calls {
                None
            } else if settings
                .failure_rate
                .is_some_and(|rate| reaches(tally.failures, tally.calls, rate))
            {
                Some(Cause::FailureRate)
            } else if settings
                .slow
                .is_some_and(|s| reaches(tally.slow, tally.calls, s.rate))
            {
                Some(Cause::SlowCallRate)
            } else {
                None
            }
        } else {
            None
        };
        if let Some(cause) = cause {
            self.transition(State::Open, cause);
        }
    }

    fn settle_trial(&mut self, outcome: Outcome, elapsed: Tick) {
        let b = self.breaker;
        if outcome == Outcome::Ignored {
            b.counters.bump(Count::Ignored);
            return;
        }
        let failed = outcome == Outcome::Failure;
        b.count_outcome(failed, elapsed);
        // With a slow-call policy, a slow probe is no evidence of recovery.
        self.core
            .trials
            .count(failed || b.settings.is_slow(elapsed));
        match self.core.trials.verdict(&b.settings.trials) {
            Verdict::Close => self.transition(State::Closed, Cause::TrialsSucceeded),
            Verdict::Reopen => self.transition(State::Open, Cause::TrialsFailed),
            Verdict::Undecided => {}
        }
    }

    /// Counts trials unreported past the timeout as failed, reopening if that decides it.
    fn expire_trials(&mut self) {
        let b = self.breaker;
        let rules = &b.settings.trials;
        let expired = self.core.trials.expire(self.now, rules.timeout);
        if expired > 0 {
            b.counters.add(Count::TrialTimeouts, u64::from(expired));
            if self.core.trials.verdict(rules) == Verdict::Reopen {
                self.transition(State::Open, Cause::TrialTimeout);
            }
        }
    }

    /// Whether a lock-free failure took the run to its threshold and the trip is still due.
    fn trip_due(&self) -> bool {
        let limit = self.breaker.streak_limit;
        self.word.state() == State::Closed && limit > 0 && self.word.streak() >= limit
    }

    /// Moves to `to`: a new generation with empty windows and no trials, and for Open, the
    /// next open time.
    fn transition(&mut self, to: State, cause: Cause) {
        let b = self.breaker;
        loop {
            let from = self.word;
            if let Some(window) = &mut self.core.window {
                window.clear();
            }
            self.core.trials.clear();
            if to == State::Open {
                let schedule = &b.settings.schedule;
                self.core.open_for = if from.state() == State::HalfOpen {
                    schedule.after(self.core.open_for)
                } else {
                    schedule.first()
                };
                let mut open_for = self.core.open_for;
                if schedule.jitters() {
                    open_for = schedule.jittered(open_for, self.core.random.next_u64());
                }
                b.open_until
                    .store(self.now.saturating_add(open_for), Ordering::Relaxed);
            }
            let next = from.next(to);
            // Only lock-free outcomes race with us here, changing the failure run of a Closed
            // word; if one has just made a trip due, that trip comes first.
            match b
                .word
                .compare_exchange(from.0, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    self.word = next;
                    b.events.push(Transition {
                        from: from.state(),
                        to,
                        cause,
                        at: self.now,
                        generation: next.generation(),
                    });
                    self.moved = true;
                    return;
                }
                Err(actual) => {
                    self.word = Word(actual);
                    if self.trip_due() {
                        self.transition(State::Open, Cause::ConsecutiveFailures);
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("state", &self.state())
            .field("generation", &self.generation())
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BreakerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerBuilder")
            .field("config", &self.config)
            .field("listener", &self.listener.is_some())
            .field("lanes", &self.lanes)
            .finish_non_exhaustive()
    }
}
