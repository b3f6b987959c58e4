//! The limiter against a reference model.
//!
//! The model states the semantics in the plainest code there is: every key keeps a vector of
//! `(tick, cost)` for each admitted request, and every question is answered by brute force over
//! it. Proptest drives random operation sequences through both, with a deterministic clock, and
//! compares every field of every decision, every error and the counters.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use sluicegate::clock::{ManualClock, Tick};
use sluicegate::{CheckError, Decision, FullPolicy, Limiter, Window};

/// The numbers a decision reports, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answer {
    allowed: bool,
    limit: u64,
    remaining: u64,
    window: usize,
    reset_after: Tick,
    retry_after: Tick,
}

impl From<Decision> for Answer {
    fn from(d: Decision) -> Self {
        Self {
            allowed: d.allowed(),
            limit: d.limit(),
            remaining: d.remaining(),
            window: d.window(),
            reset_after: d.reset_after_ticks(),
            retry_after: d.retry_after_ticks(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ModelKey {
    /// Every admitted request, in arrival order.
    log: Vec<(Tick, u64)>,
    last_seen: Tick,
}

/// The reference model.
#[derive(Debug)]
struct Model {
    /// `(limit, duration in ticks)`, in the caller's order.
    windows: Vec<(u64, Tick)>,
    max_keys: usize,
    max_key_len: usize,
    policy: FullPolicy,
    floor: Tick,
    keys: BTreeMap<Vec<u8>, ModelKey>,
    allowed: u64,
    rejected: u64,
    evictions: u64,
    refused: u64,
}

/// Whether a request admitted at `t` still counts in a window of `d` ticks at `now`.
fn counts(t: Tick, d: Tick, now: Tick) -> bool {
    u128::from(t) + u128::from(d) > u128::from(now)
}

fn usage(log: &[(Tick, u64)], d: Tick, now: Tick) -> u64 {
    log.iter()
        .filter(|&&(t, _)| counts(t, d, now))
        .map(|&(_, c)| c)
        .sum()
}

fn saturating_tick(t: u128) -> Tick {
    Tick::try_from(t).unwrap_or(Tick::MAX)
}

impl Model {
    fn admits(&self, log: &[(Tick, u64)], cost: u64, now: Tick) -> bool {
        self.windows
            .iter()
            .all(|&(limit, d)| usage(log, d, now) + cost <= limit)
    }

    fn longest(&self) -> Tick {
        self.windows.iter().map(|&(_, d)| d).max().unwrap()
    }

    fn decide(
        &mut self,
        key: &[u8],
        cost: u64,
        now: Tick,
        record: bool,
    ) -> Result<Answer, CheckError> {
        if cost == 0 {
            return Err(CheckError::ZeroCost);
        }
        let min_limit = self.windows.iter().map(|&(l, _)| l).min().unwrap();
        if cost > min_limit {
            return Err(CheckError::CostExceedsLimit {
                cost,
                limit: min_limit,
            });
        }
        if key.len() > self.max_key_len {
            return Err(CheckError::KeyTooLong {
                len: key.len(),
                max: self.max_key_len,
            });
        }
        self.floor = self.floor.max(now);
        let now = self.floor;
        let longest = self.longest();

        if record && !self.keys.contains_key(key) && self.keys.len() >= self.max_keys {
            let before = self.keys.len();
            self.keys.retain(|_, k| usage(&k.log, longest, now) > 0);
            if self.keys.len() == before {
                match self.policy {
                    FullPolicy::RejectNewKeys => {
                        self.refused += 1;
                        return Err(CheckError::KeysExhausted {
                            max_keys: self.max_keys,
                        });
                    }
                    FullPolicy::EvictLeastRecent => {
                        let victim = self
                            .keys
                            .iter()
                            .min_by_key(|(k, s)| (s.last_seen, (*k).clone()))
                            .map(|(k, _)| k.clone())
                            .unwrap();
                        self.keys.remove(&victim);
                        self.evictions += 1;
                    }
                }
            }
        }
        if record {
            self.keys.entry(key.to_vec()).or_default();
        }
        let mut log = match self.keys.get_mut(key) {
            Some(k) => {
                k.last_seen = now;
                k.log.clone()
            }
            None => Vec::new(),
        };

        let allowed = self.admits(&log, cost, now);
        let retry_after = if allowed {
            0
        } else {
            // The earliest moment at which some entry leaves some window and the request fits.
            let mut moments: Vec<u128> = log
                .iter()
                .flat_map(|&(t, _)| {
                    self.windows
                        .iter()
                        .map(move |&(_, d)| u128::from(t) + u128::from(d))
                })
                .filter(|&m| m > u128::from(now))
                .collect();
            moments.sort_unstable();
            let at = moments
                .into_iter()
                .find(|&m| self.admits(&log, cost, saturating_tick(m)))
                .expect("an empty log admits any cost within the limits");
            saturating_tick(at - u128::from(now))
        };
        if allowed {
            // A peek reports the numbers as if it had been recorded.
            log.push((now, cost));
            if record {
                self.keys.get_mut(key).unwrap().log = log.clone();
            }
        }
        if record {
            if allowed {
                self.allowed += 1;
            } else {
                self.rejected += 1;
            }
        }

        // The binding window: least remaining, ties to the longer window.
        let (window, &(limit, d)) = self
            .windows
            .iter()
            .enumerate()
            .min_by_key(|&(_, &(limit, d))| (limit - usage(&log, d, now), std::cmp::Reverse(d)))
            .unwrap();
        let reset_after = log
            .iter()
            .filter(|&&(t, _)| counts(t, d, now))
            .map(|&(t, _)| saturating_tick(u128::from(t) + u128::from(d) - u128::from(now)))
            .min()
            .unwrap_or(0);
        Ok(Answer {
            allowed,
            limit,
            remaining: limit - usage(&log, d, now),
            window,
            reset_after,
            retry_after,
        })
    }

    fn reset(&mut self, key: &[u8]) -> bool {
        self.keys.get_mut(key).map(|k| k.log.clear()).is_some()
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        self.keys.remove(key).is_some()
    }
}

/// Durations, in ticks, that windows are drawn from: tiny ones to hit edges often, real ones, and
/// one of a year.
const DURATIONS: &[Tick] = &[
    1,
    2,
    3,
    5,
    8,
    13,
    100,
    1_000,
    1_000_000,
    60_000_000,
    365 * 86_400 * 1_000_000,
];

#[derive(Debug, Clone)]
enum Op {
    Check {
        key: usize,
        cost: u64,
        via_clock: bool,
    },
    Peek {
        key: usize,
        cost: u64,
    },
    Reset {
        key: usize,
    },
    Remove {
        key: usize,
    },
    /// Moves time forward by this many ticks (0, 1, small, huge).
    Advance(Tick),
    /// Moves time to `offset` ticks around the moment a key's newest entry leaves window `window`.
    ToEdge {
        key: usize,
        window: usize,
        offset: i8,
    },
    /// Tries to move time backwards (the engine must not follow).
    Back(Tick),
}

fn op(keys: usize, max_cost: u64) -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0..keys, 0..=max_cost + 1, any::<bool>()).prop_map(|(key, cost, via_clock)| Op::Check { key, cost, via_clock }),
        2 => (0..keys, 0..=max_cost + 1).prop_map(|(key, cost)| Op::Peek { key, cost }),
        1 => (0..keys).prop_map(|key| Op::Reset { key }),
        1 => (0..keys).prop_map(|key| Op::Remove { key }),
        4 => prop_oneof![
            2 => Just(0u64),
            3 => Just(1u64),
            4 => 0..20u64,
            1 => 0..2_000u64,
            1 => 0..2_000_000u64,
            1 => Just(40 * 60 * 1_000_000u64),
            1 => Just(400 * 86_400 * 1_000_000u64),
        ]
        .prop_map(Op::Advance),
        4 => (0..keys, 0..4usize, -1..=1i8).prop_map(|(key, window, offset)| Op::ToEdge { key, window, offset }),
        1 => (1..50u64).prop_map(Op::Back),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    windows: Vec<(u64, Tick)>,
    shards: usize,
    max_keys: usize,
    policy: FullPolicy,
    start: Tick,
    ops: Vec<Op>,
}

fn key_name(i: usize) -> Vec<u8> {
    if i % 3 == 2 {
        // Longer than the inline key storage.
        format!("a-long-key-that-lives-on-the-heap-{i}").into_bytes()
    } else {
        format!("k{i}").into_bytes()
    }
}

const KEYS: usize = 6;

fn scenario() -> impl Strategy<Value = Scenario> {
    let windows = proptest::sample::subsequence(DURATIONS.to_vec(), 1..=3)
        .prop_flat_map(|ds| {
            let n = ds.len();
            (
                Just(ds),
                proptest::collection::vec(prop_oneof![4 => 1..=6u64, 1 => 7..=40u64], n),
            )
        })
        .prop_map(|(ds, limits)| limits.into_iter().zip(ds).collect::<Vec<_>>())
        .prop_shuffle();
    let layout = prop_oneof![
        // One shard, few keys: eviction is exact and the model can predict it.
        (
            Just(1usize),
            1..=8usize,
            prop_oneof![
                Just(FullPolicy::EvictLeastRecent),
                Just(FullPolicy::RejectNewKeys)
            ]
        ),
        // Several shards and room for every key.
        (
            prop_oneof![Just(2usize), Just(4), Just(8)],
            Just(1024usize),
            Just(FullPolicy::EvictLeastRecent)
        ),
    ];
    (windows, layout, prop_oneof![Just(0u64), Just(1u64 << 40)]).prop_flat_map(
        |(windows, (shards, max_keys, policy), start)| {
            let max_cost = windows.iter().map(|&(l, _)| l).min().unwrap();
            proptest::collection::vec(op(KEYS, max_cost), 1..200).prop_map(move |ops| Scenario {
                windows: windows.clone(),
                shards,
                max_keys,
                policy,
                start,
                ops,
            })
        },
    )
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(s.start);
    let limiter = Limiter::builder()
        .windows(
            s.windows
                .iter()
                .map(|&(l, d)| Window::new(l, Duration::from_micros(d))),
        )
        .shards(s.shards)
        .max_keys(s.max_keys)
        .max_key_len(40)
        .on_full(s.policy)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut model = Model {
        windows: s.windows.clone(),
        max_keys: s.max_keys,
        max_key_len: 40,
        policy: s.policy,
        floor: 0,
        keys: BTreeMap::new(),
        allowed: 0,
        rejected: 0,
        evictions: 0,
        refused: 0,
    };
    // Several shards keep their own floors; the model keeps one, so time only moves forward there.
    let backwards_allowed = s.shards == 1;
    let mut now = s.start;
    for (step, op) in s.ops.iter().enumerate() {
        match *op {
            Op::Check {
                key,
                cost,
                via_clock,
            } => {
                let name = key_name(key);
                let got = if via_clock {
                    clock.set(now);
                    limiter.check_n(&name, cost)
                } else {
                    limiter.check_at(&name, cost, now)
                };
                let want = model.decide(&name, cost, now, true);
                prop_assert_eq!(
                    got.map(Answer::from),
                    want,
                    "step {}: {:?} at {}",
                    step,
                    op,
                    now
                );
            }
            Op::Peek { key, cost } => {
                let name = key_name(key);
                let got = limiter.peek_at(&name, cost, now).map(Answer::from);
                prop_assert_eq!(
                    got,
                    model.decide(&name, cost, now, false),
                    "step {}: {:?}",
                    step,
                    op
                );
            }
            Op::Reset { key } => {
                let name = key_name(key);
                // An idle key may have been reclaimed by the engine already: only the log matters.
                let had = model
                    .keys
                    .get(&name)
                    .is_some_and(|k| usage(&k.log, model.longest(), model.floor) > 0);
                let got = limiter.reset(&name);
                model.reset(&name);
                if had {
                    prop_assert!(got, "step {}: reset of a live key reported absent", step);
                }
            }
            Op::Remove { key } => {
                let name = key_name(key);
                let had = model
                    .keys
                    .get(&name)
                    .is_some_and(|k| usage(&k.log, model.longest(), model.floor) > 0);
                let got = limiter.remove(&name);
                model.remove(&name);
                if had {
                    prop_assert!(got, "step {}: remove of a live key reported absent", step);
                }
            }
            Op::Advance(by) => now = now.saturating_add(by),
            Op::ToEdge {
                key,
                window,
                offset,
            } => {
                let d = s.windows[window % s.windows.len()].1;
                if let Some(&(t, _)) = model.keys.get(&key_name(key)).and_then(|k| k.log.last()) {
                    let edge = t.saturating_add(d).saturating_add_signed(i64::from(offset));
                    if edge > now || backwards_allowed {
                        now = edge;
                    }
                }
            }
            Op::Back(by) => {
                if backwards_allowed {
                    now = now.saturating_sub(by);
                }
            }
        }
        let stats = limiter.stats();
        prop_assert!(
            stats.keys <= s.max_keys,
            "step {}: {} keys > max {}",
            step,
            stats.keys,
            s.max_keys
        );
        prop_assert_eq!(
            (
                stats.allowed,
                stats.rejected,
                stats.evictions,
                stats.refused_keys
            ),
            (
                model.allowed,
                model.rejected,
                model.evictions,
                model.refused
            ),
            "step {}: counters",
            step
        );
    }
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
    fn limiter_matches_the_model(s in scenario()) {
        run(&s)?;
    }
}
