//! Verified tokens remembered until they stop being valid, in bounded memory.
//!
//! A client reuses its token for many requests, and checking an RS256 signature costs tens of
//! microseconds. The cache maps a token's exact bytes to the identity it verified to and the
//! second it stops verifying (`exp` plus leeway when `exp` is checked, and at most
//! [`MAX_ENTRY_LIFETIME`] after it was verified). Only tokens that fully verified are stored,
//! so an attacker cannot fill the cache without valid tokens, and a cached answer is exactly
//! the answer a fresh verification would give until that second.
//!
//! The cache is split into lock-striped shards chosen by a hash of the token (foldhash, seeded
//! per process, so which tokens share a shard cannot be predicted from outside). Each shard
//! has an equal share of the byte budget; an insert that would exceed it first drops expired
//! entries and then, if needed, an eighth of the shard's entries, so memory never exceeds the
//! budget (plus one entry per shard) and eviction work is amortised over many inserts.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use parking_lot::RwLock;

use super::Identity;

/// The longest a token stays cached, even one without `exp`: one hour.
pub const MAX_ENTRY_LIFETIME: Duration = Duration::from_secs(3_600);

/// The default memory budget: 16 MiB, about 20,000 typical RS256 tokens.
pub const DEFAULT_CACHE_BYTES: usize = 16 << 20;

const SHARDS: usize = 16;

/// Bookkeeping charged per entry on top of the token and identity bytes: the map slot, the
/// entry's fixed fields and allocator overhead, rounded up.
const ENTRY_OVERHEAD: usize = 160;

/// A bounded map from verified tokens to their identities.
///
/// ```
/// use sluicegate_gateway::jwt::{Identity, TokenCache};
/// let cache = TokenCache::new(1 << 20);
/// let identity = Identity {
///     consumer: "alice".into(),
///     credential: "alice-key".into(),
///     subject: Some("user-1".into()),
///     scopes: vec![],
///     expires_at: Some(1_000),
/// };
/// cache.insert("header.claims.signature", identity.clone(), 1_000, 900);
/// assert_eq!(cache.get("header.claims.signature", 999), Some(identity));
/// assert_eq!(cache.get("header.claims.signature", 1_000), None); // expired
/// assert_eq!(cache.get("another.token.entirely", 900), None);
/// ```
pub struct TokenCache {
    shards: Box<[CachePadded<RwLock<Shard>>]>,
    hasher: foldhash::fast::RandomState,
    shard_budget: usize,
}

#[derive(Default)]
struct Shard {
    /// By the token's 64-bit hash; a (vanishingly rare) collision just replaces the entry.
    entries: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    bytes: usize,
}

struct Entry {
    token: Box<str>,
    identity: Identity,
    /// The first second (since the Unix epoch) at which the entry must not be used.
    valid_until: u64,
}

impl Entry {
    fn cost(&self) -> usize {
        let identity = &self.identity;
        ENTRY_OVERHEAD
            + self.token.len()
            + identity.consumer.len()
            + identity.credential.len()
            + identity.subject.as_ref().map_or(0, String::len)
            + identity
                .scopes
                .iter()
                .map(|s| s.len() + size_of::<String>())
                .sum::<usize>()
    }
}

impl TokenCache {
    /// A cache holding at most about `max_bytes` of tokens and identities.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| CachePadded::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
            shard_budget: max_bytes / SHARDS,
        }
    }

    /// The identity `token` verified to, if it is cached and still valid at `now` (seconds
    /// since the Unix epoch).
    pub fn get(&self, token: &str, now: u64) -> Option<Identity> {
        let hash = self.hasher.hash_one(token);
        let shard = self.shard(hash).read();
        let entry = shard.entries.get(&hash)?;
        (now < entry.valid_until && *entry.token == *token).then(|| entry.identity.clone())
    }

    /// Remembers that `token` verified to `identity` and stays valid until `valid_until`
    /// (exclusive, seconds since the Unix epoch; capped at `now` + [`MAX_ENTRY_LIFETIME`]).
    pub fn insert(&self, token: &str, identity: Identity, valid_until: u64, now: u64) {
        let valid_until = valid_until.min(now.saturating_add(MAX_ENTRY_LIFETIME.as_secs()));
        if valid_until <= now {
            return;
        }
        let entry = Entry {
            token: token.into(),
            identity,
            valid_until,
        };
        let cost = entry.cost();
        if cost > self.shard_budget {
            return;
        }
        let hash = self.hasher.hash_one(token);
        self.shard(hash)
            .write()
            .insert(hash, entry, self.shard_budget, now);
    }

    /// How many tokens are cached (expired ones included until they are dropped).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().entries.len()).sum()
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the cache charges itself for its entries; never above the budget.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(|s| s.read().bytes).sum()
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // The high bits pick the shard; the map uses the low ones.
        &self.shards[(hash >> 60) as usize % SHARDS]
    }
}

impl Default for TokenCache {
    /// A cache with the [`DEFAULT_CACHE_BYTES`] budget.
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_BYTES)
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("entries", &self.len())
            .field("bytes", &self.bytes())
            .field("budget", &(self.shard_budget * SHARDS))
            .finish()
    }
}

impl Shard {
    /// Stores `entry` (which fits in `budget`), making room first if needed.
    fn insert(&mut self, hash: u64, entry: Entry, budget: usize, now: u64) {
        let cost = entry.cost();
        if self.bytes + cost > budget {
            self.make_room(cost, budget, now);
        }
        self.bytes += cost;
        if let Some(replaced) = self.entries.insert(hash, entry) {
            self.bytes -= replaced.cost();
        }
    }

    /// Frees room for `cost` more bytes: expired entries first, then arbitrary ones down to
    /// seven eighths of what is left, so the next inserts find room without evicting again.
    fn make_room(&mut self, cost: usize, budget: usize, now: u64) {
        self.retain(|entry| now < entry.valid_until);
        if self.bytes + cost <= budget {
            return;
        }
        let target = (budget - cost) / 8 * 7;
        let mut excess = self.bytes.saturating_sub(target);
        self.retain(|entry| {
            if excess == 0 {
                return true;
            }
            excess = excess.saturating_sub(entry.cost());
            false
        });
    }

    fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        let mut dropped = 0;
        self.entries.retain(|_, entry| {
            let kept = keep(entry);
            if !kept {
                dropped += entry.cost();
            }
            kept
        });
        self.bytes -= dropped;
    }
}

/// The map's hasher: keys are already foldhash outputs, so hashing them again is waste.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the keys are u64); fold anything else in anyway.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(consumer: &str) -> Identity {
        Identity {
            consumer: consumer.into(),
            credential: format!("{consumer}-key"),
            subject: None,
            scopes: vec!["read".into()],
            expires_at: None,
        }
    }

    #[test]
    fn an_entry_lives_until_its_deadline_and_no_longer_than_the_cap() {
        let cache = TokenCache::new(1 << 20);
        cache.insert("t1", identity("a"), 100, 10);
        assert!(cache.get("t1", 99).is_some());
        assert!(cache.get("t1", 100).is_none());
        cache.insert("t2", identity("b"), u64::MAX, 10);
        let cap = 10 + MAX_ENTRY_LIFETIME.as_secs();
        assert!(cache.get("t2", cap - 1).is_some());
        assert!(cache.get("t2", cap).is_none());
    }

    #[test]
    fn an_already_expired_token_is_not_stored() {
        let cache = TokenCache::new(1 << 20);
        cache.insert("t", identity("a"), 10, 10);
        assert!(cache.is_empty());
    }

    #[test]
    fn memory_stays_within_the_budget_under_churn() {
        let budget = 64 * 1024;
        let cache = TokenCache::new(budget);
        for i in 0..20_000 {
            let token = format!("token-{i:0>600}");
            cache.insert(&token, identity("a"), 1_000, 0);
            assert!(
                cache.bytes() <= budget,
                "{} bytes after {i} inserts",
                cache.bytes()
            );
            assert!(
                cache.get(&token, 1).is_some(),
                "the newest token is always kept"
            );
        }
        assert!(cache.len() > 10, "the cache still holds a working set");
    }

    fn entry(token: &str, valid_until: u64) -> Entry {
        Entry {
            token: token.into(),
            identity: identity("a"),
            valid_until,
        }
    }

    #[test]
    fn a_full_shard_drops_expired_entries_before_live_ones() {
        let cost = entry("token-00", 0).cost();
        let budget = cost * 10;
        let mut shard = Shard::default();
        for i in 0..5 {
            shard.insert(i, entry(&format!("token-{i:02}"), 50), budget, 0);
        }
        for i in 5..10 {
            shard.insert(i, entry(&format!("token-{i:02}"), 500), budget, 0);
        }
        assert_eq!(shard.bytes, budget);
        shard.insert(10, entry("token-10", 500), budget, 60);
        let mut kept: Vec<u64> = shard.entries.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, (5..=10).collect::<Vec<_>>());
        assert_eq!(shard.bytes, cost * 6);
    }

    #[test]
    fn a_shard_full_of_live_entries_evicts_an_eighth_at_once() {
        let cost = entry("token-00", 0).cost();
        let budget = cost * 16;
        let mut shard = Shard::default();
        for i in 0..16 {
            shard.insert(i, entry(&format!("token-{i:02}"), 500), budget, 0);
        }
        shard.insert(16, entry("token-16", 500), budget, 0);
        assert!(shard.entries.contains_key(&16));
        assert!(
            shard.bytes + cost <= budget,
            "room is left for the next insert"
        );
        assert!(
            shard.entries.len() >= 12,
            "{} entries left",
            shard.entries.len()
        );
    }

    #[test]
    fn reinserting_a_token_does_not_double_count_it() {
        let cache = TokenCache::new(1 << 20);
        cache.insert("t", identity("a"), 100, 0);
        let once = cache.bytes();
        cache.insert("t", identity("a"), 100, 0);
        assert_eq!(cache.bytes(), once);
        assert_eq!(cache.len(), 1);
    }
}
