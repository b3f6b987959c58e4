//! # Sluicegate
//!
//! An embeddable, exact rate limiter and circuit breaker for API gateways: no network hop on
//! the hot path, exact limits, and numbers (remaining, reset, retry-after) a client can trust.
//!
//! - [`Limiter`]: a lock-sharded sliding-window log. "At most N in any window of length W",
//!   for one or several windows at once, per byte-string key.
//! - [`Breaker`]: a circuit breaker with generation-safe outcomes, rate and slow-call windows
//!   and bounded half-open probing; [`Breakers`] keeps one per key.
//! - [`clock`]: the time source limiters read, with a manual clock for tests.
//!
//! ```
//! use sluicegate::{Limiter, Window};
//! let limiter = Limiter::builder().window(Window::per_minute(100)).build()?;
//! let d = limiter.check(b"203.0.113.7")?;
//! assert!(d.allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod breaker;
pub mod clock;
pub mod ffi;
mod index;
pub mod limiter;
#[cfg(feature = "redis")]
pub mod redis;
pub mod store;

pub use breaker::{Breaker, BreakerConfig, Breakers, Outcome, Permit, Rejected};
pub use limiter::{
    CheckError, ConfigError, Decision, FullPolicy, Limiter, LimiterBuilder, Remaining, Stats,
    Window,
};
pub use store::Store;
