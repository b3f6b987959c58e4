//! A circuit breaker that gateways can trust: generation-safe outcomes, rate and slow-call
//! windows, bounded half-open probing, and a keyed registry.
//!
//! A [`Breaker`] stands between a gateway and one upstream. Each call asks for a [`Permit`]
//! and reports its [`Outcome`] on it; when the upstream keeps failing, the breaker opens and
//! rejects calls for a while, then lets a few trial calls through to decide whether to close.
//!
//! The rules, precisely:
//!
//! - **Generations.** Every transition starts a new generation. A permit remembers the one it
//!   was admitted in, and an outcome reported in a later one is *stale*: it changes no counter
//!   but `stale`, moves no state, and [`Permit::record`] says so. A slow call that started
//!   before the breaker opened cannot close it or reopen it when it finally returns.
//! - **Closed.** Trip policies combine; the first to fire opens the breaker: `n` consecutive
//!   failures; a failure rate of `p`% or more; a slow-call rate of `q`% or more (slow: took at
//!   least the threshold). Rates are judged over the last M calls or the last T of time (in
//!   buckets), once the window holds `min_calls` calls. [`Outcome::Ignored`] counts for
//!   nothing, so classify client errors as successes or ignored, never as failures.
//! - **Open.** Rejects with [`RejectReason::Open`] and the time left, for a fixed time or an
//!   exponential [`Backoff`] that grows with each failed probe and resets on close, optionally
//!   shortened by seeded jitter. All deadline arithmetic saturates.
//! - **HalfOpen.** Entered by the first call after the open time, which becomes the first
//!   trial. At most K trials are in flight; S successes close; a failure (or, if configured, a
//!   trial failure rate) reopens. A trial unreported after the trial timeout counts as failed
//!   and its slot frees, so half-open cannot wedge. A permit dropped unrecorded frees its slot.
//! - **Manual.** [`Breaker::force_open`] rejects everything; [`Breaker::disable`] admits
//!   everything and still counts; [`Breaker::reset`] closes afresh. Each is a transition.
//! - **Events.** A listener sees every transition exactly once, in generation order, with no
//!   lock held, so it may call back into the breaker.
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::breaker::{Breaker, BreakerConfig, Outcome};
//! let breaker = Breaker::new(
//!     BreakerConfig::new()
//!         .failure_rate(50.0)
//!         .count_window(20)
//!         .open_for(Duration::from_secs(10)),
//! )?;
//! match breaker.try_acquire() {
//!     Ok(permit) => {
//!         permit.record(Outcome::Success, Duration::from_millis(8));
//!     }
//!     Err(rejected) => eprintln!("503 Service Unavailable: {rejected}"),
//! }
//! # Ok::<(), sluicegate::breaker::ConfigError>(())
//! ```

mod backoff;
mod config;
mod counters;
mod error;
mod events;
mod index;
mod machine;
mod permit;
mod registry;
mod state;
mod thread_slot;
mod trials;
mod window;

pub use backoff::{Backoff, RandomSource, SplitMix64};
pub use config::{BreakerConfig, MAX_BUCKETS, MAX_COUNT_WINDOW};
pub use counters::{Counters, MAX_LANES};
pub use error::{ConfigError, KeyedError};
pub use events::{Cause, Transition};
pub use machine::{Breaker, BreakerBuilder};
pub use permit::{Outcome, Permit, Recorded, RejectReason, Rejected};
pub use registry::{Breakers, BreakersBuilder, MAX_REGISTRY_SHARDS, RegistryStats};
pub use state::{MAX_CONSECUTIVE_FAILURES, State};
pub use trials::MAX_HALF_OPEN_PERMITS;
