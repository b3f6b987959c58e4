//! How one request of a Redis-backed limit is decided: from memory, locally, or on Redis,
//! and what happens when Redis cannot answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluicegate::redis::RedisLimiter;
use sluicegate::{ConfigError, Limiter, Remaining};

use super::connection::RedisConnection;
use super::exhausted::ExhaustedKeys;
use super::guard::{Guarded, GuardedStore, Unavailable};
use super::sync::{SyncMode, sync_once};
use crate::config::RedisConfig;
use crate::limit::Period;
use crate::limit::headers::Standing;
use crate::metrics::{DecisionSource, RedisLimitMetrics};

/// Keys remembered as exhausted, at most.
pub const EXHAUSTED_KEYS: usize = 65_536;

/// Where a Redis-backed limit keeps its counts and how it synchronises them.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// The server and credentials.
    pub server: RedisConfig,
    /// Kong's `sync_rate`: `None` decides every request on Redis; `Some(period)` admits
    /// locally and pushes usage every `period`.
    pub sync_rate: Option<Duration>,
    /// What this limit's Redis keys start with. Limits that must not share counts need
    /// different prefixes; gateway instances that must share them, the same one.
    pub prefix: String,
}

/// Why a Redis-backed limit could not be set up.
#[derive(Debug)]
pub enum SetupError {
    /// The limits themselves were refused by the engine.
    Limits(ConfigError),
    /// The Redis address cannot be connected to as given.
    Redis(redis::RedisError),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Limits(error) => error.fmt(f),
            Self::Redis(error) => write!(f, "Redis: {error}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// What became of one request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Decided; the figures go in the headers.
    Decided { standing: Standing, left: Remaining },
    /// Not decided (bad input) and let through without headers (`fault_tolerant`).
    Undecided,
    /// Not decided and refused with 500 (`fault_tolerant: false`).
    Refused,
}

/// One rate limit counted on Redis: the store behind its breaker, the local limiter it falls
/// back on (and, with `sync_rate`, admits with), and the memory of exhausted keys.
#[derive(Debug)]
pub struct RedisPolicy {
    store: GuardedStore,
    local: Limiter,
    exhausted: ExhaustedKeys,
    sync: Option<SyncMode>,
    fault_tolerant: bool,
    metrics: Arc<RedisLimitMetrics>,
}

impl RedisPolicy {
    /// A policy for `limits` on the server `settings` names; nothing is dialled yet.
    /// `fault_tolerant` is Kong's: decide locally (true) or answer 500 (false) while Redis is
    /// unavailable.
    pub fn new(
        limits: &[(Period, u64)],
        settings: &RedisSettings,
        fault_tolerant: bool,
        metrics: Arc<RedisLimitMetrics>,
    ) -> Result<Arc<Self>, SetupError> {
        let windows = || limits.iter().map(|&(period, limit)| period.window(limit));
        let local = Limiter::builder()
            .windows(windows())
            .build()
            .map_err(SetupError::Limits)?;
        let connection = RedisConnection::new(&settings.server).map_err(SetupError::Redis)?;
        let limiter = RedisLimiter::builder()
            .windows(windows())
            .prefix(settings.prefix.as_bytes())
            .build(connection)
            .map_err(SetupError::Limits)?;
        let endpoint = limiter.connection().endpoint().to_owned();
        let store = GuardedStore::new(limiter, move |transition| {
            tracing::warn!(redis = %endpoint, %transition, "Redis circuit breaker");
        });
        Ok(Arc::new(Self {
            store,
            local,
            exhausted: ExhaustedKeys::new(EXHAUSTED_KEYS),
            sync: settings.sync_rate.map(SyncMode::new),
            fault_tolerant,
            metrics,
        }))
    }

    /// The store behind its breaker.
    pub fn store(&self) -> &GuardedStore {
        &self.store
    }

    /// The memory of exhausted keys.
    pub fn exhausted(&self) -> &ExhaustedKeys {
        &self.exhausted
    }

    /// The counters.
    pub fn metrics(&self) -> &RedisLimitMetrics {
        &self.metrics
    }

    pub(crate) fn sync(&self) -> Option<&SyncMode> {
        self.sync.as_ref()
    }

    /// With `sync_rate`, pushes the usage admitted locally to Redis now, as the periodic sync
    /// does; without, does nothing.
    pub async fn sync_now(self: &Arc<Self>) {
        sync_once(self).await;
    }

    /// Decides one request of `key`; see the module documentation of [`super`].
    pub(crate) async fn decide(self: &Arc<Self>, key: &[u8]) -> Verdict {
        let now = Instant::now();
        if let Some(known) = self.exhausted.get(key, now) {
            self.metrics.decided(DecisionSource::Exhausted, false);
            return Verdict::Decided {
                standing: known.standing(now),
                left: *known.left(),
            };
        }
        if let Some(sync) = &self.sync
            && sync.ledger.has_room_for(key)
        {
            sync.start(Arc::downgrade(self));
            let verdict = self.decide_locally(key, DecisionSource::Local);
            if let Verdict::Decided { standing, .. } = &verdict
                && standing.allowed
            {
                sync.ledger.add(key, 1);
            }
            return verdict;
        }
        match self.store.check(key).await {
            Guarded::Answered((decision, left)) => {
                self.metrics
                    .decided(DecisionSource::Redis, decision.allowed());
                if !decision.allowed() {
                    self.exhausted.remember(key, &decision, &left, now);
                }
                Verdict::Decided {
                    standing: Standing::from(&decision),
                    left,
                }
            }
            Guarded::BadInput(error) => self.undecided(&error),
            Guarded::Unavailable(why) => {
                self.note_unavailable(&why);
                if self.fault_tolerant {
                    self.decide_locally(key, DecisionSource::Fallback)
                } else {
                    Verdict::Refused
                }
            }
        }
    }

    /// Decides on the local limiter, as `source`.
    fn decide_locally(&self, key: &[u8], source: DecisionSource) -> Verdict {
        match self.local.check_each(key, 1) {
            Ok((decision, left)) => {
                self.metrics.decided(source, decision.allowed());
                Verdict::Decided {
                    standing: Standing::from(&decision),
                    left,
                }
            }
            Err(error) => self.undecided(&error),
        }
    }

    /// Bad input, answered as `policy: local` answers it.
    fn undecided(&self, error: &sluicegate::CheckError) -> Verdict {
        if self.fault_tolerant {
            tracing::warn!(%error, "rate limit undecided; letting the request through");
            Verdict::Undecided
        } else {
            tracing::error!(%error, "rate limit undecided; refusing the request");
            Verdict::Refused
        }
    }

    /// Counts and logs a call Redis did not answer. An open breaker is the normal state of an
    /// outage and is not logged per request; its transitions are.
    pub(crate) fn note_unavailable(&self, why: &Unavailable) {
        if matches!(why, Unavailable::BreakerOpen) {
            return;
        }
        self.metrics.failed();
        if self.fault_tolerant {
            tracing::warn!(error = %why, "Redis unavailable; limiting locally");
        } else {
            tracing::error!(error = %why, "Redis unavailable; refusing the request");
        }
    }
}
