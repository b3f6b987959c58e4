//! The exact sliding-window-log limiter.
//!
//! A [`Limiter`] holds one log of admitted requests per key and one or more [`Window`]s. A request
//! of cost `c` at time `now` is admitted only if, in every window of length `d` and limit `L`,
//!
//! ```text
//! usage(now) + c <= L,   usage(now) = sum of costs admitted at t with now - d < t <= now
//! ```
//!
//! and an admitted request is then recorded in all windows at once (under the key's shard lock,
//! so no thread sees half of it). A rejected request records nothing: a client that keeps
//! retrying gets back in as soon as its oldest request leaves the window.
//!
//! ```
//! use sluicegate::{Limiter, Window};
//! let limiter = Limiter::builder()
//!     .window(Window::per_second(10))
//!     .window(Window::per_minute(100))
//!     .build()
//!     .unwrap();
//! let decision = limiter.check("client-42").unwrap();
//! assert!(decision.allowed());
//! assert_eq!(decision.remaining(), 9);
//! ```

mod decision;
pub(crate) mod error;
pub(crate) mod key;
mod log;
mod ring;
mod table;
pub(crate) mod window;

use std::hash::BuildHasher;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use crate::clock::{Clock, MonotonicClock, Tick};
pub use decision::{Decision, Remaining};
pub use error::{CheckError, ConfigError};
use log::Shape;
use table::{Ask, Table};
pub use window::{MAX_DURATION, MAX_LIMIT, MAX_WINDOWS, Window};

/// The most shards a limiter may have.
pub const MAX_SHARDS: usize = 1 << 12;

/// The lowest of the hash bits that pick a key's shard: the top `log2(MAX_SHARDS)` bits.
const SHARD_BITS_FROM: u32 = u64::BITS - MAX_SHARDS.trailing_zeros();

/// The longest key a limiter can be configured to accept.
pub const MAX_KEY_LEN: usize = 1 << 16;

/// What a full limiter does with a new key once no idle key can be reclaimed.
///
/// ```
/// use sluicegate::{CheckError, FullPolicy, Limiter, Window};
/// let limiter = Limiter::builder()
///     .window(Window::per_minute(10))
///     .shards(1)
///     .max_keys(1)
///     .on_full(FullPolicy::RejectNewKeys)
///     .build()
///     .unwrap();
/// limiter.check("a").unwrap();
/// assert_eq!(limiter.check("b"), Err(CheckError::KeysExhausted { max_keys: 1 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullPolicy {
    /// Evict the key seen least recently (exactly, in shards of up to 16 keys; from a sample of
    /// 16 in larger ones). The evicted key starts afresh if it comes back. The default: a flood of
    /// new keys cannot lock legitimate new clients out.
    #[default]
    EvictLeastRecent,
    /// Refuse new keys with [`CheckError::KeysExhausted`]: no key ever loses its history, at the
    /// price of turning away new clients while full.
    RejectNewKeys,
}

/// Counters and sizes of a limiter, added up over its shards.
///
/// ```
/// use sluicegate::{Limiter, Window};
/// let limiter = Limiter::builder().window(Window::per_second(1)).build().unwrap();
/// limiter.check("a").unwrap();
/// limiter.check("a").unwrap();
/// let stats = limiter.stats();
/// assert_eq!((stats.keys, stats.allowed, stats.rejected), (1, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Keys tracked now.
    pub keys: usize,
    /// Checks admitted.
    pub allowed: u64,
    /// Checks rejected.
    pub rejected: u64,
    /// Live keys evicted because the limiter was full ([`FullPolicy::EvictLeastRecent`]).
    pub evictions: u64,
    /// Idle keys (nothing left in any window) freed.
    pub reclaimed: u64,
    /// New keys refused because the limiter was full ([`FullPolicy::RejectNewKeys`]).
    pub refused_keys: u64,
    /// Bytes of memory the limiter's tables, keys and logs hold.
    pub bytes: usize,
}

/// Builds a [`Limiter`]; see [`Limiter::builder`].
#[derive(Debug, Clone)]
pub struct LimiterBuilder<C = MonotonicClock> {
    windows: Vec<Window>,
    shards: Option<usize>,
    max_keys: usize,
    max_key_len: usize,
    on_full: FullPolicy,
    clock: C,
}

impl LimiterBuilder<MonotonicClock> {
    fn new() -> Self {
        Self {
            windows: Vec::new(),
            shards: None,
            max_keys: 1 << 21,
            max_key_len: 1024,
            on_full: FullPolicy::default(),
            clock: MonotonicClock::new(),
        }
    }
}

impl<C: Clock> LimiterBuilder<C> {
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

    /// The number of shards: a power of two up to [`MAX_SHARDS`]. Default: four per available
    /// core, rounded up to a power of two.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The most keys tracked at once (default 2,097,152). The bound is split evenly over the
    /// shards and never exceeded; see [`FullPolicy`] for what happens when a shard is full.
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The longest key accepted, in bytes (default 1024).
    pub fn max_key_len(mut self, max_key_len: usize) -> Self {
        self.max_key_len = max_key_len;
        self
    }

    /// What to do with new keys when full (default [`FullPolicy::EvictLeastRecent`]).
    pub fn on_full(mut self, policy: FullPolicy) -> Self {
        self.on_full = policy;
        self
    }

    /// The clock read by [`Limiter::check`] and friends (default [`MonotonicClock`]).
    pub fn clock<D: Clock>(self, clock: D) -> LimiterBuilder<D> {
        LimiterBuilder {
            windows: self.windows,
            shards: self.shards,
            max_keys: self.max_keys,
            max_key_len: self.max_key_len,
            on_full: self.on_full,
            clock,
        }
    }

    /// Checks the configuration and builds the limiter.
    pub fn build(self) -> Result<Limiter<C>, ConfigError> {
        let spans = window::validate(&self.windows)?;
        let shards = match self.shards {
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 4)
                .next_power_of_two()
                .min(MAX_SHARDS),
        };
        if shards == 0 || !shards.is_power_of_two() || shards > MAX_SHARDS {
            return Err(ConfigError::BadShardCount {
                shards,
                max: MAX_SHARDS,
            });
        }
        let most = shards * table::MAX_SHARD_KEYS;
        if self.max_keys == 0 || self.max_keys > most {
            return Err(ConfigError::BadMaxKeys {
                max_keys: self.max_keys,
                max: most,
            });
        }
        if self.max_key_len == 0 || self.max_key_len > MAX_KEY_LEN {
            return Err(ConfigError::BadMaxKeyLen {
                max_key_len: self.max_key_len,
                max: MAX_KEY_LEN,
            });
        }
        // Fewer shards than keys would leave some shards with room for none.
        let shards = shards.min(self.max_keys.next_power_of_two());
        let shards = if shards > self.max_keys {
            shards / 2
        } else {
            shards
        };
        let per_shard = self.max_keys / shards;
        let hasher = foldhash::fast::RandomState::default();
        Ok(Limiter {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Table::new(per_shard, hasher.clone()))))
                .collect(),
            shard_mask: shards - 1,
            hasher,
            rules: Rules {
                min_limit: spans.iter().map(|s| s.limit).min().unwrap_or(0),
                shape: Shape::new(spans),
                on_full: self.on_full,
            },
            max_keys: per_shard * shards,
            max_key_len: self.max_key_len,
            clock: self.clock,
        })
    }
}

/// An exact sliding-window-log rate limiter over byte-string keys.
///
/// Thread-safe: share it by reference or in an `Arc`. Keys spread over shards, each behind its
/// own lock, so threads working on different keys rarely meet.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::{clock::ManualClock, Limiter, Window};
/// let clock = ManualClock::new(0);
/// let limiter = Limiter::builder()
///     .window(Window::per_minute(2))
///     .clock(clock.clone())
///     .build()
///     .unwrap();
/// assert!(limiter.check("alice").unwrap().allowed());
/// assert!(limiter.check("alice").unwrap().allowed());
/// let no = limiter.check("alice").unwrap();
/// assert!(!no.allowed());
/// assert_eq!(no.retry_after(), Duration::from_secs(60));
/// assert!(limiter.check("bob").unwrap().allowed()); // keys are independent
/// clock.advance(Duration::from_secs(60));
/// assert!(limiter.check("alice").unwrap().allowed());
/// ```
pub struct Limiter<C = MonotonicClock> {
    shards: Box<[CachePadded<Mutex<Table>>]>,
    /// The shard count minus one: masks a hash's top bits to a shard.
    shard_mask: usize,
    hasher: foldhash::fast::RandomState,
    rules: Rules,
    max_keys: usize,
    max_key_len: usize,
    clock: C,
}

/// What every shard needs to know to decide.
#[derive(Debug)]
pub(crate) struct Rules {
    /// The windows, longest first, and the layout of every key's log.
    pub(crate) shape: Shape,
    /// The smallest limit: no cost above it can ever be admitted.
    pub(crate) min_limit: u32,
    pub(crate) on_full: FullPolicy,
}

impl Limiter<MonotonicClock> {
    /// Starts building a limiter.
    pub fn builder() -> LimiterBuilder<MonotonicClock> {
        LimiterBuilder::new()
    }
}

impl<C: Clock> Limiter<C> {
    /// Checks one request of cost 1 for `key` now, and records it if admitted.
    #[inline]
    pub fn check(&self, key: impl AsRef<[u8]>) -> Result<Decision, CheckError> {
        self.check_at(key, 1, self.clock.now())
    }

    /// Checks one request of cost `cost` for `key` now, and records it if admitted.
    #[inline]
    pub fn check_n(&self, key: impl AsRef<[u8]>, cost: u64) -> Result<Decision, CheckError> {
        self.check_at(key, cost, self.clock.now())
    }

    /// Checks a request at a time the caller supplies (in the clock's ticks), skipping the clock.
    ///
    /// A time earlier than one the key's shard has already seen is raised to that time.
    #[inline]
    pub fn check_at(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
        now: Tick,
    ) -> Result<Decision, CheckError> {
        self.decide(key.as_ref(), cost, now, true, None)
    }

    /// What [`check_n`](Self::check_n) would decide now, without recording anything.
    ///
    /// An admissible peek reports the numbers the check would report after recording.
    pub fn peek(&self, key: impl AsRef<[u8]>, cost: u64) -> Result<Decision, CheckError> {
        self.peek_at(key, cost, self.clock.now())
    }

    /// [`peek`](Self::peek) at a time the caller supplies.
    pub fn peek_at(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
        now: Tick,
    ) -> Result<Decision, CheckError> {
        self.decide(key.as_ref(), cost, now, false, None)
    }

    /// [`check_n`](Self::check_n) that also reports what every window has left, for hosts that
    /// show one figure per window (Kong's `X-RateLimit-Remaining-Minute`, `-Hour`, ...).
    ///
    /// The decision is the one `check_n` would make; the numbers are read under the same lock,
    /// so they describe one instant.
    ///
    /// ```
    /// use sluicegate::{Limiter, Window};
    /// let limiter = Limiter::builder()
    ///     .window(Window::per_second(5))
    ///     .window(Window::per_minute(100))
    ///     .build()
    ///     .unwrap();
    /// let (decision, remaining) = limiter.check_each("client-42", 1).unwrap();
    /// assert!(decision.allowed());
    /// assert_eq!(remaining.as_slice(), &[4, 99]);
    /// assert_eq!(remaining.get(1), Some(99));
    /// ```
    #[inline]
    pub fn check_each(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
    ) -> Result<(Decision, Remaining), CheckError> {
        self.check_each_at(key, cost, self.clock.now())
    }

    /// [`check_each`](Self::check_each) at a time the caller supplies.
    #[inline]
    pub fn check_each_at(
        &self,
        key: impl AsRef<[u8]>,
        cost: u64,
        now: Tick,
    ) -> Result<(Decision, Remaining), CheckError> {
        let mut remaining = Remaining::new(self.rules.shape.spans.len());
        let decision = self.decide(key.as_ref(), cost, now, true, Some(&mut remaining.counts))?;
        Ok((decision, remaining))
    }

    /// Forgets what `key` has used, as if it had never been seen. True if it was tracked.
    pub fn reset(&self, key: impl AsRef<[u8]>) -> bool {
        let key = key.as_ref();
        let hash = self.hasher.hash_one(key);
        self.shard(hash).lock().reset(hash, key)
    }

    /// Stops tracking `key`, freeing its memory. True if it was tracked.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> bool {
        let key = key.as_ref();
        let hash = self.hasher.hash_one(key);
        self.shard(hash).lock().remove(hash, key)
    }

    /// How many keys are tracked now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The windows, in the order they were given.
    pub fn windows(&self) -> Vec<Window> {
        let mut spans = self.rules.shape.spans.to_vec();
        spans.sort_by_key(|s| s.index);
        spans
            .iter()
            .map(|s| Window::new(u64::from(s.limit), crate::clock::duration(s.ticks)))
            .collect()
    }

    /// The most keys tracked at once (the configured bound, rounded down to a multiple of the
    /// shard count).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// The clock this limiter reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Counters and sizes, added up over the shards (each locked in turn, briefly).
    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            bytes: size_of::<Self>() + self.shards.len() * size_of::<CachePadded<Mutex<Table>>>(),
            ..Stats::default()
        };
        for shard in self.shards.iter() {
            let t = shard.lock();
            stats.keys += t.len();
            stats.bytes += t.bytes();
            stats.allowed += t.counters.allowed;
            stats.rejected += t.counters.rejected;
            stats.evictions += t.counters.evicted;
            stats.reclaimed += t.counters.reclaimed;
            stats.refused_keys += t.counters.refused_keys;
        }
        stats
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Mutex<Table> {
        // The top bits pick the shard; a shard's table uses the low ones.
        &self.shards[(hash >> SHARD_BITS_FROM) as usize & self.shard_mask]
    }

    #[inline]
    fn decide(
        &self,
        key: &[u8],
        cost: u64,
        now: Tick,
        record: bool,
        each: Option<&mut [u32; MAX_WINDOWS]>,
    ) -> Result<Decision, CheckError> {
        error::vet_request(key, cost, self.rules.min_limit, self.max_key_len)?;
        let hash = self.hasher.hash_one(key);
        let mut table = self.shard(hash).lock();
        let (shape, on_full) = (&self.rules.shape, self.rules.on_full);
        let cost = cost as u32;
        // One copy of the check per window count: loops over the windows unroll, and the layout
        // of every key's ring (which depends on the count) becomes a constant.
        match shape.spans.len() {
            1 => table.decide(
                hash,
                key,
                (shape.windows::<1>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            2 => table.decide(
                hash,
                key,
                (shape.windows::<2>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            3 => table.decide(
                hash,
                key,
                (shape.windows::<3>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            4 => table.decide(
                hash,
                key,
                (shape.windows::<4>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            5 => table.decide(
                hash,
                key,
                (shape.windows::<5>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            6 => table.decide(
                hash,
                key,
                (shape.windows::<6>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            7 => table.decide(
                hash,
                key,
                (shape.windows::<7>(), on_full),
                now,
                Ask { cost, record, each },
            ),
            _ => table.decide(
                hash,
                key,
                (shape.windows::<MAX_WINDOWS>(), on_full),
                now,
                Ask { cost, record, each },
            ),
        }
    }
}

impl<C> std::fmt::Debug for Limiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rules", &self.rules)
            .field("shards", &self.shards.len())
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}
