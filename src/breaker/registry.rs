//! Many breakers by key (one per upstream host, say), sharded like the limiter, bounded in
//! number, and forgetting breakers that have gone idle.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use crate::breaker::backoff::saturating_ticks;
use crate::breaker::config::Settings;
use crate::breaker::index::{Index, Vacant};
use crate::breaker::machine::random_seed;
use crate::breaker::{
    Breaker, BreakerConfig, ConfigError, KeyedError, Permit, SplitMix64, Transition,
};
use crate::clock::{Clock, MonotonicClock, Tick};
use crate::limiter::key::Key;

/// The most shards a registry may have.
pub const MAX_REGISTRY_SHARDS: usize = 1 << 12;

/// The longest key a registry can be configured to accept.
const MAX_KEY_LEN: usize = 1 << 16;

/// How many entries each new key's insertion examines for idle breakers to reclaim.
const SWEEP_STEP: usize = 2;

/// How many entries a full shard examines for an idle breaker before refusing a new key.
const FULL_SAMPLE: usize = 16;

type KeyedListener = Arc<dyn Fn(&[u8], &Transition) + Send + Sync>;

/// Counters and sizes of a registry.
///
/// ```
/// use sluicegate::breaker::{BreakerConfig, Breakers};
/// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(3)).build().unwrap();
/// drop(breakers.try_acquire("api.internal").unwrap());
/// assert_eq!(breakers.stats().keys, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Breakers held now.
    pub keys: usize,
    /// Idle breakers forgotten.
    pub reclaimed: u64,
    /// New keys refused because the registry was full.
    pub refused: u64,
    /// Bytes held by the registry's tables, keys and breakers (not listeners).
    pub bytes: usize,
}

/// One key and its breaker: what a lookup reads, two to a cache line.
struct Slot {
    key: Key,
    breaker: Arc<Breaker>,
}

/// What the sweep last saw of a slot's breaker, kept apart from the slots so lookups do not
/// read it.
struct Seen {
    /// The key's hash, to find its index cell when the slot moves or goes.
    hash: u64,
    /// The breaker's admission count when the sweep last saw it change, and when that was.
    permitted: u64,
    since: Tick,
}

/// One shard: its breakers in a dense list the sweep walks, and an index over them by key.
struct Shard {
    index: Index,
    slots: Vec<Slot>,
    /// One for each slot, at the same position.
    seen: Vec<Seen>,
    /// The next position the sweep examines.
    sweep: usize,
    capacity: usize,
    /// Bytes of keys too long to sit inline.
    key_heap: usize,
    reclaimed: u64,
    refused: u64,
}

impl Shard {
    fn new(capacity: usize) -> Self {
        Self {
            index: Index::new(),
            slots: Vec::new(),
            seen: Vec::new(),
            sweep: 0,
            capacity,
            key_heap: 0,
            reclaimed: 0,
            refused: 0,
        }
    }

    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Result<usize, Vacant> {
        self.index.find(hash, |pos| self.slots[pos].key.is(key))
    }

    fn push(&mut self, at: Vacant, hash: u64, slot: Slot, now: Tick) {
        self.key_heap += slot.key.heap_bytes();
        self.slots.push(slot);
        self.seen.push(Seen {
            hash,
            permitted: 0,
            since: now,
        });
        let (len, seen) = (self.seen.len(), &self.seen);
        self.index
            .insert(at, hash, len - 1, len, |pos| seen[pos].hash);
    }

    /// Removes the slot at `pos`, moving the last one into its place.
    fn remove_at(&mut self, pos: usize) -> Slot {
        self.index.remove(self.seen[pos].hash, pos);
        let last = self.slots.len() - 1;
        if pos != last {
            self.index.moved(self.seen[last].hash, last, pos);
        }
        self.seen.swap_remove(pos);
        let slot = self.slots.swap_remove(pos);
        self.key_heap -= slot.key.heap_bytes();
        slot
    }

    /// Examines up to `count` slots from the sweep cursor, forgetting idle breakers; returns
    /// how many it forgot.
    fn sweep(&mut self, now: Tick, idle_after: Tick, count: usize) -> usize {
        let mut freed = 0;
        for _ in 0..count.min(self.slots.len()) {
            if self.sweep >= self.slots.len() {
                self.sweep = 0;
            }
            let pos = self.sweep;
            let breaker = &self.slots[pos].breaker;
            let seen = &mut self.seen[pos];
            let permitted = breaker.permitted();
            if permitted != seen.permitted {
                seen.permitted = permitted;
                seen.since = now;
                self.sweep += 1;
            } else if now.saturating_sub(seen.since) >= idle_after
                // Only the shard holds it: no permit outstanding, no caller holding it.
                && Arc::strong_count(breaker) == 1
                && breaker.is_quiet()
            {
                self.remove_at(pos);
                self.reclaimed += 1;
                freed += 1;
            } else {
                self.sweep += 1;
            }
        }
        freed
    }

    fn bytes(&self) -> usize {
        self.index.bytes()
            + self.slots.capacity() * size_of::<Slot>()
            + self.seen.capacity() * size_of::<Seen>()
            + self.key_heap
            + self.slots.iter().map(|s| s.breaker.bytes()).sum::<usize>()
    }
}

/// Builds a [`Breakers`] registry; see [`Breakers::builder`].
pub struct BreakersBuilder {
    config: BreakerConfig,
    overrides: Vec<(Box<[u8]>, BreakerConfig)>,
    shards: Option<usize>,
    max_keys: usize,
    max_key_len: usize,
    idle_after: Duration,
    lanes: usize,
    seed: Option<u64>,
    clock: Arc<dyn Clock>,
    listener: Option<KeyedListener>,
}

impl BreakersBuilder {
    /// Gives `key` its own configuration instead of the shared one.
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5))
    ///     .config_for("payments.internal", BreakerConfig::new().consecutive_failures(2))
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn config_for(mut self, key: impl AsRef<[u8]>, config: BreakerConfig) -> Self {
        self.overrides.push((key.as_ref().into(), config));
        self
    }

    /// The number of shards: a power of two up to [`MAX_REGISTRY_SHARDS`]. Default: four per
    /// core, rounded up to a power of two.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The most breakers held at once (default 65,536), split evenly over the shards. A new
    /// key arriving at a full shard reclaims an idle breaker if it finds one among those it
    /// examines, or is refused with [`KeyedError::Full`].
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The longest key accepted, in bytes (default 256: a host name and port fit).
    pub fn max_key_len(mut self, max_key_len: usize) -> Self {
        self.max_key_len = max_key_len;
        self
    }

    /// How long a breaker must go without an admission before it may be forgotten (default
    /// 5 minutes). Only Closed breakers with no permit outstanding, no call in their time
    /// window and no caller holding them are forgotten; their count windows and failure runs
    /// go with them, so a host that comes back after a long silence starts with a clean
    /// record. Open, half-open, forced and disabled breakers are never forgotten.
    pub fn idle_after(mut self, idle_after: Duration) -> Self {
        self.idle_after = idle_after;
        self
    }

    /// Counter lanes per breaker (default 1: keyed breakers are many, and each is rarely hit
    /// by many threads at once). With one lane, the process's first counting thread adds to
    /// every breaker's counters with plain stores and other threads with atomic adds, both
    /// inside the breaker's first cache lines; more lanes cost a cache line each per breaker.
    /// See [`BreakerBuilder::lanes`](crate::breaker::BreakerBuilder::lanes).
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes;
        self
    }

    /// Seeds the jitter of every breaker; each key's generator is seeded from this seed and
    /// the key, so runs repeat. By default the seed is random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The clock every breaker reads (default [`MonotonicClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Calls `listener` with the key and the transition for every transition of every
    /// breaker, as [`BreakerBuilder::on_transition`](crate::breaker::BreakerBuilder::on_transition)
    /// does for one.
    pub fn on_transition(
        mut self,
        listener: impl Fn(&[u8], &Transition) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Checks every configuration and builds the registry.
    pub fn build(self) -> Result<Breakers, ConfigError> {
        let default = Arc::new(self.config.settings()?);
        let mut overrides = HashMap::with_hasher(foldhash::fast::RandomState::default());
        for (key, config) in self.overrides {
            overrides.insert(key, Arc::new(config.settings()?));
        }
        let shards = match self.shards {
            Some(n) => n,
            None => std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 4)
                .next_power_of_two()
                .min(MAX_REGISTRY_SHARDS),
        };
        if shards == 0 || !shards.is_power_of_two() || shards > MAX_REGISTRY_SHARDS {
            return Err(ConfigError::Shards {
                shards,
                max: MAX_REGISTRY_SHARDS,
            });
        }
        let most = u32::MAX as usize;
        if self.max_keys == 0 || self.max_keys > most {
            return Err(ConfigError::MaxKeys {
                max_keys: self.max_keys,
                max: most,
            });
        }
        if self.max_key_len == 0 || self.max_key_len > MAX_KEY_LEN {
            return Err(ConfigError::MaxKeyLen {
                max_key_len: self.max_key_len,
                max: MAX_KEY_LEN,
            });
        }
        if self.lanes == 0 || !self.lanes.is_power_of_two() || self.lanes > super::MAX_LANES {
            return Err(ConfigError::Lanes {
                lanes: self.lanes,
                max: super::MAX_LANES,
            });
        }
        // No more shards than keys, so every shard has room for at least one.
        let shards = shards.min(1 << self.max_keys.ilog2());
        let per_shard = self.max_keys / shards;
        Ok(Breakers {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Shard::new(per_shard))))
                .collect(),
            shift: 64 - shards.trailing_zeros(),
            hasher: foldhash::fast::RandomState::default(),
            default,
            overrides,
            max_keys: per_shard * shards,
            max_key_len: self.max_key_len,
            idle_after: saturating_ticks(self.idle_after),
            lanes: self.lanes,
            seed: self.seed.unwrap_or_else(random_seed),
            clock: self.clock,
            listener: self.listener,
        })
    }
}

/// A registry of breakers by key: one per upstream host, say.
///
/// Keys spread over shards, each behind its own lock, held only to find or create a breaker;
/// admissions and outcomes then run on the breaker alone. Permits hold their breaker, so a
/// breaker is never forgotten while a call through it is in flight.
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerConfig, Breakers, KeyedError, Outcome};
/// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(1)).build()?;
/// let permit = breakers.try_acquire("db-1:5432")?;
/// permit.record(Outcome::Failure, Duration::from_millis(3));
/// assert!(matches!(breakers.try_acquire("db-1:5432"), Err(KeyedError::Open(_))));
/// assert!(breakers.try_acquire("db-2:5432").is_ok()); // each key has its own breaker
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Breakers {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Right shift taking a hash to its shard (its high bits); 64 for one shard.
    shift: u32,
    hasher: foldhash::fast::RandomState,
    default: Arc<Settings>,
    overrides: HashMap<Box<[u8]>, Arc<Settings>, foldhash::fast::RandomState>,
    max_keys: usize,
    max_key_len: usize,
    idle_after: Tick,
    lanes: usize,
    seed: u64,
    clock: Arc<dyn Clock>,
    listener: Option<KeyedListener>,
}

impl Breakers {
    /// Starts building a registry whose breakers use `config` unless given their own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// use sluicegate::clock::ManualClock;
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5))
    ///     .max_keys(10_000)
    ///     .idle_after(Duration::from_secs(60))
    ///     .clock(ManualClock::new(0))
    ///     .on_transition(|key, t| println!("{}: {t}", String::from_utf8_lossy(key)))
    ///     .build()?;
    /// # Ok::<(), sluicegate::breaker::ConfigError>(())
    /// ```
    pub fn builder(config: BreakerConfig) -> BreakersBuilder {
        BreakersBuilder {
            config,
            overrides: Vec::new(),
            shards: None,
            max_keys: 1 << 16,
            max_key_len: 256,
            idle_after: Duration::from_secs(300),
            lanes: 1,
            seed: None,
            clock: Arc::new(MonotonicClock::new()),
            listener: None,
        }
    }

    /// Asks `key`'s breaker (created if new) to make one call.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, Breakers, KeyedError, Outcome};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// match breakers.try_acquire("search.internal") {
    ///     Ok(permit) => {
    ///         permit.record(Outcome::Success, Duration::from_millis(4));
    ///     }
    ///     Err(KeyedError::Open(rejected)) => println!("503: {rejected}"),
    ///     Err(other) => println!("500: {other}"),
    /// }
    /// ```
    #[inline]
    pub fn try_acquire(&self, key: impl AsRef<[u8]>) -> Result<Permit<'static>, KeyedError> {
        Ok(self.breaker(key)?.acquire_shared()?)
    }

    /// `key`'s breaker, created if new: to read its state or counters, or to force it open.
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers, State};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// breakers.breaker("legacy.internal").unwrap().force_open();
    /// assert_eq!(breakers.get("legacy.internal").unwrap().state(), State::ForcedOpen);
    /// ```
    pub fn breaker(&self, key: impl AsRef<[u8]>) -> Result<Arc<Breaker>, KeyedError> {
        let key = key.as_ref();
        if key.len() > self.max_key_len {
            return Err(KeyedError::KeyTooLong {
                len: key.len(),
                max: self.max_key_len,
            });
        }
        let hash = self.hasher.hash_one(key);
        let mut shard = self.shard(hash).lock();
        match shard.find(hash, key) {
            Ok(pos) => Ok(Arc::clone(&shard.slots[pos].breaker)),
            Err(_) => self.insert(&mut shard, hash, key),
        }
    }

    /// `key`'s breaker, if the registry holds one.
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// assert!(breakers.get("never-seen").is_none());
    /// ```
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<Arc<Breaker>> {
        let key = key.as_ref();
        let hash = self.hasher.hash_one(key);
        let shard = self.shard(hash).lock();
        let pos = shard.find(hash, key).ok()?;
        Some(Arc::clone(&shard.slots[pos].breaker))
    }

    /// Forgets `key`'s breaker; true if there was one. Permits outstanding still record into
    /// the forgotten breaker; a later call for the key starts a new one.
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// breakers.breaker("a").unwrap();
    /// assert!(breakers.remove("a"));
    /// assert!(!breakers.remove("a"));
    /// ```
    pub fn remove(&self, key: impl AsRef<[u8]>) -> bool {
        let key = key.as_ref();
        let hash = self.hasher.hash_one(key);
        let mut shard = self.shard(hash).lock();
        match shard.find(hash, key) {
            Ok(pos) => {
                shard.remove_at(pos);
                true
            }
            Err(_) => false,
        }
    }

    /// How many breakers the registry holds.
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// assert!(breakers.is_empty());
    /// breakers.breaker("a").unwrap();
    /// assert_eq!(breakers.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().slots.len()).sum()
    }

    /// Whether the registry holds no breaker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most breakers held at once (the configured bound, rounded down to a multiple of
    /// the shard count).
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5))
    ///     .shards(4)
    ///     .max_keys(10)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(breakers.max_keys(), 8);
    /// ```
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Counters and sizes, added up over the shards (each locked in turn, briefly).
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, Breakers};
    /// let breakers = Breakers::builder(BreakerConfig::new().consecutive_failures(5)).build().unwrap();
    /// assert_eq!(breakers.stats().reclaimed, 0);
    /// ```
    pub fn stats(&self) -> RegistryStats {
        let mut stats = RegistryStats {
            bytes: size_of::<Self>() + self.shards.len() * size_of::<CachePadded<Mutex<Shard>>>(),
            ..RegistryStats::default()
        };
        for shard in self.shards.iter() {
            let s = shard.lock();
            stats.keys += s.slots.len();
            stats.reclaimed += s.reclaimed;
            stats.refused += s.refused;
            stats.bytes += s.bytes();
        }
        stats
    }

    /// The shard for a key with `hash`: picked by the hash's high bits, while the shard's
    /// index uses its low bits.
    #[inline]
    fn shard(&self, hash: u64) -> &Mutex<Shard> {
        // `checked_shr` covers the single-shard case, where the shift is 64.
        &self.shards[hash.checked_shr(self.shift).unwrap_or(0) as usize]
    }

    #[cold]
    fn insert(&self, shard: &mut Shard, hash: u64, key: &[u8]) -> Result<Arc<Breaker>, KeyedError> {
        let now = self.clock.now();
        shard.sweep(now, self.idle_after, SWEEP_STEP);
        if shard.slots.len() >= shard.capacity
            && shard.sweep(now, self.idle_after, FULL_SAMPLE) == 0
        {
            shard.refused += 1;
            return Err(KeyedError::Full {
                max_keys: self.max_keys,
            });
        }
        // The sweep may have moved slots: look for the key's place again.
        let Err(at) = shard.find(hash, key) else {
            unreachable!("the key was absent and nothing under the lock inserted it")
        };
        let breaker = Arc::new(self.new_breaker(key));
        let slot = Slot {
            key: Key::new(key),
            breaker: Arc::clone(&breaker),
        };
        shard.push(at, hash, slot, now);
        Ok(breaker)
    }

    fn new_breaker(&self, key: &[u8]) -> Breaker {
        let settings = self.overrides.get(key).unwrap_or(&self.default).clone();
        let listener = self.listener.as_ref().map(|listener| {
            let listener = Arc::clone(listener);
            let key: Arc<[u8]> = key.into();
            Arc::new(move |t: &Transition| listener(&key, t)) as _
        });
        let seed = foldhash::fast::FixedState::with_seed(self.seed).hash_one(key);
        Breaker::from_parts(
            settings,
            Arc::clone(&self.clock),
            listener,
            Box::new(SplitMix64::new(seed)),
            self.lanes,
        )
        .expect("lanes were checked when the registry was built")
    }
}

impl fmt::Debug for Breakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakers")
            .field("shards", &self.shards.len())
            .field("max_keys", &self.max_keys)
            .field("overrides", &self.overrides.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BreakersBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakersBuilder")
            .field("config", &self.config)
            .field("max_keys", &self.max_keys)
            .field("idle_after", &self.idle_after)
            .finish_non_exhaustive()
    }
}
