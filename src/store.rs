//! One limiter API over wherever the logs live.
//!
//! [`Limiter`] keeps every key's log in this process and answers at once. With the `redis`
//! feature, [`RedisLimiter`](crate::redis::RedisLimiter) keeps them on a Redis server that many
//! hosts share, and answers after one round trip. Both make the same decisions and report the
//! same numbers for the same requests at the same times; code written against [`Store`] takes
//! either.

use std::future::{Future, ready};

use crate::clock::Clock;
use crate::{CheckError, Decision, Limiter, Remaining};

/// Something that decides requests against a set of windows and records the admitted ones.
///
/// ```
/// use sluicegate::{Limiter, Store, Window};
///
/// async fn admit(store: &impl Store, client: &str) -> bool {
///     store.check_each(client.as_bytes(), 1).await.is_ok_and(|(d, _)| d.allowed())
/// }
///
/// let limiter = Limiter::builder().window(Window::per_minute(1)).build().unwrap();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert!(admit(&limiter, "alice").await);
/// assert!(!admit(&limiter, "alice").await);
/// # });
/// ```
pub trait Store: Send + Sync {
    /// Why a request could not be decided.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Checks one request of cost `cost` for `key` now, records it if admitted, and reports
    /// what every window has left (see [`Limiter::check_each`]).
    fn check_each(
        &self,
        key: &[u8],
        cost: u64,
    ) -> impl Future<Output = Result<(Decision, Remaining), Self::Error>> + Send;
}

impl<C: Clock> Store for Limiter<C> {
    type Error = CheckError;

    fn check_each(
        &self,
        key: &[u8],
        cost: u64,
    ) -> impl Future<Output = Result<(Decision, Remaining), CheckError>> + Send {
        ready(Limiter::check_each(self, key, cost))
    }
}
