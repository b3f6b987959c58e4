//! `policy: redis`: limits counted on one Redis server, shared by every gateway instance that
//! names it, with the same exact sliding windows as `policy: local`.
//!
//! Each request costs one round trip: the engine's atomic script
//! ([`sluicegate::redis::RedisLimiter`]) decides every window of the key at once, on the
//! server's clock, and records the request only if it fits. Instances pointed at the same
//! server and the same configuration share counts: their keys are
//! `sluicegate:<scope>:{<client>}:<windows>`, where the scope names the plugin entry (`global`,
//! `service=<name>`, `route=<name>`), so two limits never share a count by accident.
//!
//! The parts, one job each:
//!
//! - [`RedisConnection`]: one multiplexed, pipelined connection per limit, made on first use,
//!   with Kong's `timeout`, credentials and database; it reconnects by itself.
//! - [`GuardedStore`]: our own circuit breaker around Redis. While it is open no request waits
//!   for a timeout; it half-opens by itself and closes when a probe succeeds.
//! - [`ExhaustedKeys`]: keys Redis rejected, rejected again locally until their retry time.
//! - `sync`: with `sync_rate`, local admission reconciled with Redis periodically.
//! - [`RedisPolicy`] puts them together; [`RedisRateLimitLayer`] answers as Kong does.
//!
//! # When Redis is slow or down
//!
//! `fault_tolerant: true` (Kong's default): a request Redis does not answer within `timeout`,
//! or that finds the breaker open, is decided by a local [`sluicegate::Limiter`] with the same
//! windows, with the usual headers. The limits then hold per instance: with N instances a
//! client may get up to N times the limit until Redis is back (Kong, in the same situation,
//! does not limit at all). When Redis answers a probe again, requests go back to it by
//! themselves; what the local limiter counted meanwhile is not pushed to Redis.
//!
//! `fault_tolerant: false`: such requests are answered 500, as Kong does, at once while the
//! breaker is open. Bad input (a key longer than 1024 bytes) is treated as with
//! `policy: local`: let through without headers, or 500.
//!
//! # Hybrid mode: what is traded for fewer round trips
//!
//! - **Exhausted keys** (always on): a key Redis has just rejected is rejected locally, with no
//!   round trip, until the exact retry time Redis gave. This never admits what Redis would
//!   reject and never rejects what Redis would admit, except in one case: the other instances
//!   can only add usage, but an operator can delete the key on Redis, and this instance will
//!   not see that reset until the retry time. The headers of such rejections repeat Redis's
//!   figures with the wait counted down; the other windows' figures are not refreshed. The
//!   memory holds at most [`EXHAUSTED_KEYS`] keys; a flood of distinct keys costs round trips,
//!   never memory.
//! - **`sync_rate`** (Kong's field, in seconds; default -1, one round trip per request): with a
//!   period, each instance admits on its local limiter and pushes the usage it admitted to
//!   Redis every period; a key the cluster has used up is then remembered as exhausted by the
//!   instances that synced it. Faster, and not exact: within one window the instances together
//!   may admit, for a key, the limit plus what each of them admits between the moment the
//!   cluster reaches the limit and that instance's next sync, at most `limit` per instance.
//!   The response headers show the instance's own figures, and a Redis outage only delays the
//!   syncs (no request waits for Redis, whatever `fault_tolerant` says). Choose it when speed
//!   matters more than exactness.

mod connection;
mod exhausted;
mod guard;
mod layer;
mod policy;
mod sync;

pub use connection::{ConnectionError, RedisConnection};
pub use exhausted::ExhaustedKeys;
pub use guard::{FAILURES_TO_OPEN, Guarded, GuardedStore, OPEN_FIRST, OPEN_MAX, Unavailable};
pub use layer::{RedisRateLimit, RedisRateLimitLayer, RedisResponseFuture};
pub use policy::{EXHAUSTED_KEYS, RedisPolicy, RedisSettings, SetupError};
pub use sync::LEDGER_KEYS;
