//! The counters of one rate limit counted on Redis (`policy: redis`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use sluicegate::Stats;

/// Who decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionSource {
    /// Redis, in one round trip.
    Redis,
    /// The memory of keys Redis said are exhausted: a rejection without a round trip.
    Exhausted,
    /// The local limiter, while Redis was unavailable.
    Fallback,
    /// The local limiter, admitting locally between syncs (`sync_rate`).
    Local,
}

const SOURCES: [(DecisionSource, &str); 4] = [
    (DecisionSource::Redis, "redis"),
    (DecisionSource::Exhausted, "exhausted"),
    (DecisionSource::Fallback, "fallback"),
    (DecisionSource::Local, "local"),
];

/// The counters of one Redis-backed rate limit, rendered as:
///
/// - `sluicegate_ratelimit_redis_decisions_total{plugin, source, decision}`: who decided each
///   request, `allowed` or `rejected`: `redis` (a round trip), `exhausted` (a key Redis had
///   rejected, rejected again from memory without one), `fallback` (the local limiter, while
///   Redis was unavailable), `local` (local admission with `sync_rate`);
/// - `sluicegate_ratelimit_redis_failures_total{plugin}`: calls to Redis that failed or timed
///   out;
/// - `sluicegate_ratelimit_redis_syncs_total{plugin, result}`: with `sync_rate`, keys whose
///   usage was pushed to Redis (`ok`) or kept for the next sync (`failed`);
/// - `sluicegate_ratelimit_redis_breaker_state{plugin, state}`: 1 for the state of the breaker
///   around Redis, 0 for the others.
///
/// ```
/// use sluicegate_gateway::metrics::{DecisionSource, RedisLimitMetrics};
/// let counters = RedisLimitMetrics::default();
/// counters.decided(DecisionSource::Redis, true);
/// counters.decided(DecisionSource::Exhausted, false);
/// let stats = counters.stats();
/// assert_eq!((stats.allowed, stats.rejected), (1, 1));
/// ```
#[derive(Debug, Default)]
pub struct RedisLimitMetrics {
    /// Per source, in [`SOURCES`] order: allowed, then rejected.
    decisions: [[AtomicU64; 2]; SOURCES.len()],
    failures: AtomicU64,
    synced: AtomicU64,
    sync_failed: AtomicU64,
}

impl RedisLimitMetrics {
    /// Counts a request `source` decided.
    pub fn decided(&self, source: DecisionSource, allowed: bool) {
        if let Some(i) = SOURCES.iter().position(|(s, _)| *s == source) {
            self.decisions[i][usize::from(!allowed)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a call to Redis that failed or timed out.
    pub fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a key whose usage was pushed to Redis (`ok`) or kept for later.
    pub fn synced(&self, ok: bool) {
        let counter = if ok { &self.synced } else { &self.sync_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests `source` admitted and rejected.
    pub fn decisions(&self, source: DecisionSource) -> (u64, u64) {
        SOURCES
            .iter()
            .position(|(s, _)| *s == source)
            .map_or((0, 0), |i| {
                let [allowed, rejected] = &self.decisions[i];
                (
                    allowed.load(Ordering::Relaxed),
                    rejected.load(Ordering::Relaxed),
                )
            })
    }

    /// Calls to Redis that failed or timed out.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Every decision, whoever made it, as the limiter counters every rate limit reports.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for (source, _) in SOURCES {
            let (allowed, rejected) = self.decisions(source);
            stats.allowed += allowed;
            stats.rejected += rejected;
        }
        stats
    }

    /// Appends this limit's samples of the decision, failure and sync families.
    pub(crate) fn render_counters(&self, plugin: &str, out: &mut Families<'_>) {
        for (source, name) in SOURCES {
            let (allowed, rejected) = self.decisions(source);
            for (decision, n) in [("allowed", allowed), ("rejected", rejected)] {
                let _ = writeln!(
                    out.decisions,
                    "sluicegate_ratelimit_redis_decisions_total{{plugin=\"{plugin}\",source=\"{name}\",decision=\"{decision}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out.failures,
            "sluicegate_ratelimit_redis_failures_total{{plugin=\"{plugin}\"}} {}",
            self.failures()
        );
        for (result, counter) in [("ok", &self.synced), ("failed", &self.sync_failed)] {
            let _ = writeln!(
                out.syncs,
                "sluicegate_ratelimit_redis_syncs_total{{plugin=\"{plugin}\",result=\"{result}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
    }
}

/// The three counter families being rendered, each gathered apart so each is one block.
pub(crate) struct Families<'a> {
    pub(crate) decisions: &'a mut String,
    pub(crate) failures: &'a mut String,
    pub(crate) syncs: &'a mut String,
}
