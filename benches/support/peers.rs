//! The peers the limiter is measured against, fed the same keys as Sluicegate.
//!
//! Shared by the benchmarks and the memory example through `#[path]`, so both measure the same
//! naive log.

// Each user takes only what it needs.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The obvious exact sliding-window log: a mutex over a map of timestamp queues.
pub struct NaiveLog {
    limit: usize,
    window: Duration,
    keys: Mutex<HashMap<Vec<u8>, VecDeque<Instant>>>,
}

impl NaiveLog {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Admits and records one request for `key` if fewer than `limit` arrived in the window.
    pub fn check(&self, key: &[u8]) -> bool {
        let now = Instant::now();
        let mut keys = self.keys.lock().unwrap();
        let log = match keys.get_mut(key) {
            Some(log) => log,
            None => keys.entry(key.to_vec()).or_default(),
        };
        while log
            .front()
            .is_some_and(|&t| now.duration_since(t) >= self.window)
        {
            log.pop_front();
        }
        let allowed = log.len() < self.limit;
        if allowed {
            log.push_back(now);
        }
        allowed
    }

    /// Records one request for `key` at `now`, regardless of the limit (for filling memory).
    pub fn record(&self, key: &[u8], now: Instant) {
        let mut keys = self.keys.lock().unwrap();
        match keys.get_mut(key) {
            Some(log) => log.push_back(now),
            None => {
                keys.insert(key.to_vec(), VecDeque::from([now]));
            }
        }
    }
}

/// `n` distinct keys of exactly 16 bytes.
pub fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("client-{i:09}")).collect()
}
