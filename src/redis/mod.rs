//! Limits shared by many hosts: the same sliding-window log, kept on a Redis server (feature
//! `redis`).
//!
//! A [`RedisLimiter`] makes the decisions a [`Limiter`](crate::Limiter) with the same windows
//! makes, and reports the same numbers ([`Decision`], [`Remaining`]), for every host that points
//! it at the same server: one host's admissions count against every other's.
//!
//! - **One atomic step per check.** A Lua script ([`SCRIPT`]) reads the client's log, decides
//!   every window at once and records the request only if it fits, so concurrent checks from any
//!   number of hosts can never admit more than the limit, and a rejected request records nothing.
//!   It is sent by digest (`EVALSHA`), and by text when the server answers `NOSCRIPT`.
//! - **The server's clock.** Times come from Redis's `TIME`, so hosts whose clocks disagree still
//!   agree on every window. [`check_each_at`](RedisLimiter::check_each_at) takes the caller's time
//!   instead (microseconds since the Unix epoch), for tests and replays; like the local limiter,
//!   a time earlier than the client's newest recorded request is raised to it.
//! - **Few commands per check, whatever the limit.** A client's state is one string: one cursor
//!   and running sum per window, and the newest entries (16 bytes each). A check reads it and an
//!   admission rewrites it with its time-to-live (`TIME`, `GET`, `SET ... PX`: three commands
//!   inside the script). Older entries move, a chunk at a time, to a hash that a check reads only
//!   when a window's oldest entry leaves from it ([`RedisLimiterBuilder::chunk_entries`]); chunks
//!   every window has passed are deleted.
//! - **Bounded by time.** A client's keys expire a key time-to-live after its last admitted
//!   request ([`RedisLimiterBuilder::key_ttl`], default the longest window): by then every entry
//!   has left every window. Memory grows with active clients only; cap it with Redis's own
//!   `maxmemory` (a policy such as `volatile-ttl` drops the clients nearest to expiry first).
//! - **Cluster-ready.** A client's keys are `prefix{client}:<windows>` and the same with `:log`,
//!   so the client is the Redis Cluster hash tag, both keys share a slot, and one script touches
//!   one slot. See [`RedisLimiter::redis_key`].
//!
//! The connection is any `redis::aio::ConnectionLike` that can be cloned to share it:
//! a `MultiplexedConnection` pipelines every check of a process over one socket, and a
//! `ConnectionManager` does too and reconnects by itself. What to do while Redis is down is the
//! host's choice ([`StoreError::is_store_failure`]): the gateway in this repository falls back to
//! a local [`Limiter`](crate::Limiter).
//!
//! ```no_run
//! use sluicegate::Window;
//! use sluicegate::redis::RedisLimiter;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let connection = client.get_multiplexed_async_connection().await?;
//! let limiter = RedisLimiter::builder()
//!     .window(Window::per_second(10))
//!     .window(Window::per_minute(100))
//!     .build(connection)?;
//! let decision = limiter.check("client-42").await?;
//! assert!(decision.allowed());
//! # Ok(())
//! # }
//! ```

mod error;
mod key;
mod reply;
mod script;

use std::sync::Arc;
use std::time::Duration;

use redis::Cmd;
use redis::aio::ConnectionLike;

use crate::clock::Tick;
use crate::limiter::error::vet_request;
use crate::limiter::window;
use crate::limiter::{ConfigError, MAX_KEY_LEN};
use crate::{Decision, Remaining, Store, Window};
pub use error::StoreError;
use key::KeyNames;
use reply::Rule;
use script::Mode;

/// The `redis` client crate this store is written against, for building its connection.
pub use ::redis as client;

/// The text of the script every check runs.
pub const SCRIPT: &str = script::SOURCE;

/// The latest time a Redis store computes with: 2^52 microseconds after the Unix epoch (the
/// year 2112). Times are doubles inside Redis's Lua, exact up to 2^53, and a time plus the
/// longest window ([`MAX_DURATION`](crate::limiter::MAX_DURATION), 2^52) must stay exact.
pub const MAX_TIME: u64 = 1 << 52;

/// The longest key time-to-live the script takes, in milliseconds: the largest whole number a
/// double holds exactly.
const MAX_TTL_MS: u64 = (1 << 53) - 1;

/// Builds a [`RedisLimiter`]; see [`RedisLimiter::builder`].
#[derive(Debug, Clone)]
pub struct RedisLimiterBuilder {
    windows: Vec<Window>,
    prefix: Vec<u8>,
    max_key_len: usize,
    key_ttl: Option<Duration>,
    chunk_entries: usize,
}

/// The most entries a chunk of a client's log may hold (see
/// [`RedisLimiterBuilder::chunk_entries`]).
pub const MAX_CHUNK_ENTRIES: usize = 4096;

impl RedisLimiterBuilder {
    /// Adds a window. A request must fit every window to be admitted.
    pub fn window(mut self, window: Window) -> Self {
        self.windows.push(window);
        self
    }

    /// Adds several windows.
    pub fn windows(mut self, windows: impl IntoIterator<Item = Window>) -> Self {
        self.windows.extend(windows);
        self
    }

    /// What every Redis key of this limiter starts with (default `sluicegate:`). Limiters that
    /// must not share counts (two routes, say) need different prefixes.
    pub fn prefix(mut self, prefix: impl Into<Vec<u8>>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest key accepted, in bytes (default 1024).
    pub fn max_key_len(mut self, max_key_len: usize) -> Self {
        self.max_key_len = max_key_len;
        self
    }

    /// How long Redis keeps a client's log after its last admitted request (default: the
    /// longest window, rounded up to a millisecond, plus one millisecond because Redis counts
    /// expiry in milliseconds and entries in microseconds). It is counted on the server's clock, so it
    /// must not be shorter than the longest window; callers who pass their own times to
    /// [`check_each_at`](RedisLimiter::check_each_at), on a clock that runs slower than the
    /// server's, set it longer. Past 2^53 - 1 milliseconds (some 285,000 years), the most the
    /// script takes, it is that.
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = Some(ttl);
        self
    }

    /// How many entries of a client's log are stored together (default 64, at most
    /// [`MAX_CHUNK_ENTRIES`]; 16 bytes each).
    ///
    /// The newest chunk lives in the client's state, which every check reads and every admitted
    /// request rewrites; full chunks move to the client's hash, where a check reads one only
    /// when a window's oldest entry leaves from it. Larger chunks mean fewer reads for long logs
    /// and more bytes copied per write; a log that fits one chunk costs no read beyond the state.
    pub fn chunk_entries(mut self, entries: usize) -> Self {
        self.chunk_entries = entries;
        self
    }

    /// Checks the configuration (as [`LimiterBuilder::build`](crate::LimiterBuilder::build)
    /// does) and builds the limiter over `connection`. Nothing is sent yet.
    pub fn build<C>(self, connection: C) -> Result<RedisLimiter<C>, ConfigError> {
        let spans = window::validate(&self.windows)?;
        if self.max_key_len == 0 || self.max_key_len > MAX_KEY_LEN {
            return Err(ConfigError::BadMaxKeyLen {
                max_key_len: self.max_key_len,
                max: MAX_KEY_LEN,
            });
        }
        let longest = self
            .windows
            .iter()
            .map(Window::duration)
            .max()
            .unwrap_or_default();
        if self.chunk_entries == 0 || self.chunk_entries > MAX_CHUNK_ENTRIES {
            return Err(ConfigError::BadChunkEntries {
                entries: self.chunk_entries,
                max: MAX_CHUNK_ENTRIES,
            });
        }
        let ttl = self.key_ttl.unwrap_or(longest);
        if ttl < longest {
            return Err(ConfigError::KeyTtlTooShort { ttl, longest });
        }
        let mut by_position = spans.clone();
        by_position.sort_by_key(|s| s.index);
        Ok(RedisLimiter {
            connection,
            shared: Arc::new(Shared {
                rules: by_position
                    .iter()
                    .map(|s| Rule {
                        limit: s.limit,
                        span: s.ticks,
                    })
                    .collect(),
                names: KeyNames::new(&self.prefix, &by_position),
                min_limit: spans.iter().map(|s| s.limit).min().unwrap_or(0),
                max_key_len: self.max_key_len,
                // Redis counts expiry in whole milliseconds from a clock it reads once per
                // script, while entries carry microseconds: one more millisecond keeps a key
                // until its newest entry has surely left.
                ttl_ms: u64::try_from(ttl.as_nanos().div_ceil(1_000_000))
                    .unwrap_or(u64::MAX)
                    .saturating_add(1)
                    .min(MAX_TTL_MS),
                chunk_entries: self.chunk_entries,
                windows: self.windows,
            }),
        })
    }
}

/// An exact sliding-window-log limiter whose logs live on a Redis server; see the
/// [module documentation](self).
///
/// Cloning is cheap (the connection's clone and a reference count), and every clone shares the
/// configuration. Every method sends at most one command, except a first check after the server
/// lost the script (two).
pub struct RedisLimiter<C> {
    connection: C,
    shared: Arc<Shared>,
}

/// What every check of one limiter needs, fixed when it is built.
#[derive(Debug)]
struct Shared {
    /// The windows as given.
    windows: Vec<Window>,
    /// The windows in engine units, in the order given.
    rules: Vec<Rule>,
    names: KeyNames,
    min_limit: u32,
    max_key_len: usize,
    ttl_ms: u64,
    chunk_entries: usize,
}

impl<C: Clone> Clone for RedisLimiter<C> {
    fn clone(&self) -> Self {
        Self {
            connection: self.connection.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<C> std::fmt::Debug for RedisLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("windows", &self.shared.windows)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter<()> {
    /// Starts building a limiter.
    ///
    /// ```
    /// use sluicegate::Window;
    /// use sluicegate::redis::RedisLimiter;
    /// let limiter = RedisLimiter::builder()
    ///     .window(Window::per_minute(100))
    ///     .prefix("api:")
    ///     .build(()) // any cloneable connection; `()` only to show the configuration
    ///     .unwrap();
    /// assert_eq!(limiter.windows(), &[Window::per_minute(100)]);
    /// ```
    pub fn builder() -> RedisLimiterBuilder {
        RedisLimiterBuilder {
            windows: Vec::new(),
            prefix: b"sluicegate:".to_vec(),
            max_key_len: 1024,
            key_ttl: None,
            chunk_entries: 64,
        }
    }
}

impl<C> RedisLimiter<C> {
    /// The windows, in the order they were given.
    pub fn windows(&self) -> &[Window] {
        &self.shared.windows
    }

    /// The Redis key that holds `key`'s state (its older entries are in the same key plus
    /// `:log`).
    ///
    /// ```
    /// use sluicegate::Window;
    /// use sluicegate::redis::RedisLimiter;
    /// let limiter = RedisLimiter::builder()
    ///     .window(Window::per_minute(100))
    ///     .prefix("api:")
    ///     .build(())
    ///     .unwrap();
    /// let name = limiter.redis_key("alice");
    /// assert!(name.starts_with(b"api:{alice}:"));
    /// ```
    pub fn redis_key(&self, key: impl AsRef<[u8]>) -> Vec<u8> {
        self.shared.names.of(key.as_ref())
    }

    /// The connection checks are sent over.
    pub fn connection(&self) -> &C {
        &self.connection
    }
}

impl<C: ConnectionLike + Clone + Send + Sync> RedisLimiter<C> {
    /// Checks one request of cost 1 for `key` now (the server's time), and records it if
    /// admitted.
    ///
    /// ```no_run
    /// # use redis::aio::MultiplexedConnection;
    /// # use sluicegate::redis::RedisLimiter;
    /// # async fn demo(limiter: RedisLimiter<MultiplexedConnection>) -> Result<(), Box<dyn std::error::Error>> {
    /// let decision = limiter.check("client-42").await?;
    /// if !decision.allowed() {
    ///     println!("over the limit; try again in {:?}", decision.retry_after());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn check(&self, key: impl AsRef<[u8]>) -> Result<Decision, StoreError> {
        self.check_n(key, 1).await
    }

    /// Checks one request of cost `cost` for `key` now, and records it if admitted.
    pub async fn check_n(&self, key: impl AsRef<[u8]>, cost: u64) -> Result<Decision, StoreError> {
        Ok(self.run(key.as_ref(), cost, None, Mode::Check).await?.0)
    }

    /// [`check_n`](Self::check_n) that also reports what every window has left.
    ///
    /// ```no_run
    /// # use redis::aio::MultiplexedConnection;
    /// # use sluicegate::redis::RedisLimiter;
    /// # async fn demo(limiter: RedisLimiter<MultiplexedConnection>) -> Result<(), Box<dyn std::error::Error>> {
    /// let (decision, remaining) = limiter.check_each("client-42", 1).await?;
    /// for (window, left) in limiter.windows().iter().zip(remaining.iter()) {
    ///     println!("{left} left of {} per {:?}", window.limit(), window.duration());
    /// }
    /// # let _ = decision;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn check_each(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
    ) -> Result<(Decision, Remaining), StoreError> {
        self.run(key.as_ref(), cost, None, Mode::Check).await
    }

    /// [`check_each`](Self::check_each) at a time the caller supplies, in microseconds since the
    /// Unix epoch, instead of the server's.
    pub async fn check_each_at(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
        unix_micros: Tick,
    ) -> Result<(Decision, Remaining), StoreError> {
        self.run(key.as_ref(), cost, Some(unix_micros), Mode::Check)
            .await
    }

    /// What [`check_n`](Self::check_n) would decide now, without recording anything. An
    /// admissible peek reports the numbers the check would report after recording.
    pub async fn peek(&self, key: impl AsRef<[u8]>, cost: u64) -> Result<Decision, StoreError> {
        Ok(self.run(key.as_ref(), cost, None, Mode::Peek).await?.0)
    }

    /// [`peek`](Self::peek) at a time the caller supplies.
    pub async fn peek_at(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
        unix_micros: Tick,
    ) -> Result<Decision, StoreError> {
        Ok(self
            .run(key.as_ref(), cost, Some(unix_micros), Mode::Peek)
            .await?
            .0)
    }

    /// Records `cost` units for `key` now whatever the limits say, and reports what every
    /// window has left afterwards; the decision says whether it fitted.
    ///
    /// For hosts that admit requests locally and push their usage to Redis from time to time:
    /// usage may then pass a limit, and a window past its limit reports 0 remaining until
    /// enough of it has left.
    pub async fn record(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
    ) -> Result<(Decision, Remaining), StoreError> {
        self.run(key.as_ref(), cost, None, Mode::Record).await
    }

    /// Forgets what `key` has used. True if Redis held anything for it.
    pub async fn reset(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        let name = self.redis_key(key);
        let removed: u64 = redis::cmd("DEL")
            .arg(&name)
            .arg(key::log_of(&name))
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(removed > 0)
    }

    async fn run(
        &self,
        key: &[u8],
        cost: u64,
        now: Option<Tick>,
        mode: Mode,
    ) -> Result<(Decision, Remaining), StoreError> {
        let shared = &*self.shared;
        vet_request(key, cost, shared.min_limit, shared.max_key_len)?;
        if let Some(now) = now.filter(|&t| t > MAX_TIME) {
            return Err(StoreError::TimeOutOfRange { now });
        }
        let name = shared.names.of(key);
        let log = key::log_of(&name);
        let args = |cmd: &mut Cmd| {
            cmd.arg(2).arg(&name).arg(&log).arg(mode as u8).arg(cost);
            match now {
                Some(t) => cmd.arg(t),
                None => cmd.arg(""),
            };
            cmd.arg(shared.ttl_ms).arg(shared.chunk_entries);
            for rule in &shared.rules {
                cmd.arg(rule.limit).arg(rule.span);
            }
        };
        let reply = script::run(&mut self.connection.clone(), args).await?;
        reply::decode(reply, &shared.rules)
    }
}

impl<C: ConnectionLike + Clone + Send + Sync> Store for RedisLimiter<C> {
    type Error = StoreError;

    async fn check_each(&self, key: &[u8], cost: u64) -> Result<(Decision, Remaining), StoreError> {
        self.run(key, cost, None, Mode::Check).await
    }
}
