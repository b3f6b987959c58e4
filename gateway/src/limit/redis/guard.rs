//! Redis behind a circuit breaker and a deadline: a call either gets Redis's answer within
//! `timeout`, or is told at once that Redis is unavailable.
//!
//! Every call asks the breaker first. While it is open, no call reaches Redis and none waits:
//! the caller learns [`Unavailable::BreakerOpen`] in nanoseconds and decides without Redis.
//! A call that does reach Redis is bounded by Kong's `timeout` (connecting included), and its
//! outcome feeds the breaker:
//!
//! - [`FAILURES_TO_OPEN`] failures in a row (errors, or no answer within `timeout`) open it;
//! - it stays open [`OPEN_FIRST`], doubling after every failed probe up to [`OPEN_MAX`];
//! - then the next call is a probe (one at a time; the others keep deciding without Redis),
//!   and its success closes the breaker: Redis is used again with no operator action.
//!
//! Bad input (a key longer than the store takes) never reaches Redis and counts for nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluicegate::breaker::{Backoff, Breaker, BreakerConfig, Outcome, Transition};
use sluicegate::redis::{RedisLimiter, StoreError};
use sluicegate::{CheckError, Decision, Remaining};

use super::connection::{ConnectionError, RedisConnection};

/// Failures in a row that open the breaker.
pub const FAILURES_TO_OPEN: u32 = 3;
/// How long the breaker first stays open.
pub const OPEN_FIRST: Duration = Duration::from_secs(1);
/// The longest it stays open between probes.
pub const OPEN_MAX: Duration = Duration::from_secs(30);

/// Why a call got no answer from Redis.
#[derive(Debug)]
pub enum Unavailable {
    /// The breaker is open (or its probe slot is taken): Redis was not asked.
    BreakerOpen,
    /// Redis did not answer within the timeout.
    TimedOut(Duration),
    /// Redis failed: connection, credentials, or an error reply.
    Failed(ConnectionError),
    /// Redis answered something the store cannot read (another program wrote its keys?).
    Store(StoreError),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BreakerOpen => f.write_str("Redis circuit open; not asked"),
            Self::TimedOut(after) => write!(f, "no answer from Redis within {after:?}"),
            Self::Failed(error) => error.fmt(f),
            Self::Store(error) => write!(f, "Redis store: {error}"),
        }
    }
}

/// What a guarded call came to.
#[derive(Debug)]
pub enum Guarded<T> {
    /// Redis answered.
    Answered(T),
    /// The request itself is unacceptable (a key too long): Redis was not asked.
    BadInput(CheckError),
    /// Redis could not be used.
    Unavailable(Unavailable),
}

/// A Redis-backed limiter behind its breaker and deadline; see the module documentation.
#[derive(Debug, Clone)]
pub struct GuardedStore {
    limiter: RedisLimiter<RedisConnection>,
    breaker: Arc<Breaker>,
    timeout: Duration,
}

impl GuardedStore {
    /// Guards `limiter`, whose connection's timeout bounds every call; `on_transition` hears
    /// every change of the breaker's state.
    pub fn new(
        limiter: RedisLimiter<RedisConnection>,
        on_transition: impl Fn(&Transition) + Send + Sync + 'static,
    ) -> Self {
        let timeout = limiter.connection().timeout();
        let config = BreakerConfig::new()
            .consecutive_failures(FAILURES_TO_OPEN)
            .backoff(Backoff::exponential(OPEN_FIRST, 2.0, OPEN_MAX))
            .half_open(1, 1)
            // A probe that outlives its own deadline has failed.
            .trial_timeout(timeout.saturating_mul(2));
        let breaker = Breaker::builder(config)
            .on_transition(on_transition)
            .build()
            .expect("the Redis breaker's fixed settings are valid");
        Self {
            limiter,
            breaker: Arc::new(breaker),
            timeout,
        }
    }

    /// The breaker, for metrics.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }

    /// The limiter on Redis.
    pub fn limiter(&self) -> &RedisLimiter<RedisConnection> {
        &self.limiter
    }

    /// Checks one request of `key` on Redis, recording it if admitted.
    pub async fn check(&self, key: &[u8]) -> Guarded<(Decision, Remaining)> {
        self.call(self.limiter.check_each(key, 1)).await
    }

    /// Records `cost` units of `key` on Redis whatever the limits say.
    pub async fn record(&self, key: &[u8], cost: u64) -> Guarded<(Decision, Remaining)> {
        self.call(self.limiter.record(key, cost)).await
    }

    /// What a request of `key` would be told now, recording nothing.
    pub async fn peek(&self, key: &[u8]) -> Guarded<Decision> {
        self.call(self.limiter.peek(key, 1)).await
    }

    async fn call<T>(&self, request: impl Future<Output = Result<T, StoreError>>) -> Guarded<T> {
        let Ok(permit) = self.breaker.try_acquire() else {
            return Guarded::Unavailable(Unavailable::BreakerOpen);
        };
        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, request).await;
        let elapsed = started.elapsed();
        match result {
            Ok(Ok(answer)) => {
                permit.record(Outcome::Success, elapsed);
                Guarded::Answered(answer)
            }
            Ok(Err(StoreError::Check(error))) => {
                permit.record(Outcome::Ignored, elapsed);
                Guarded::BadInput(error)
            }
            Ok(Err(StoreError::Redis(error))) => {
                permit.record(Outcome::Failure, elapsed);
                Guarded::Unavailable(Unavailable::Failed(self.limiter.connection().error(error)))
            }
            Ok(Err(error)) => {
                permit.record(Outcome::Failure, elapsed);
                Guarded::Unavailable(Unavailable::Store(error))
            }
            Err(_) => {
                permit.record(Outcome::Failure, elapsed);
                Guarded::Unavailable(Unavailable::TimedOut(self.timeout))
            }
        }
    }
}
