//! The headers that tell a client where it stands.
//!
//! Three families, each switchable:
//!
//! - Kong's per-period `X-RateLimit-Limit-<Period>` and `X-RateLimit-Remaining-<Period>`;
//! - `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (whole seconds, at least
//!   1) for the binding period, the one with the least left, as Kong sends them;
//! - the IETF draft's structured fields (draft-ietf-httpapi-ratelimit-headers):
//!   `RateLimit-Policy: "minute";q=100;w=60` for every period and
//!   `RateLimit: "minute";r=42;t=17` for the binding one.
//!
//! A rejection adds `Retry-After`, the exact wait rounded up to whole seconds, so a client that
//! obeys it is admitted; its `RateLimit-Reset` and `t=` say the same. `hide_client_headers`
//! drops everything but `Retry-After`, which a rejected client always needs.

use std::time::Duration;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use sluicegate::{Decision, Remaining};

use crate::limit::period::{Period, ceil_secs};

/// Which header families to send; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderFamilies {
    /// `X-RateLimit-Limit-<Period>` and `X-RateLimit-Remaining-<Period>`.
    pub per_period: bool,
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`.
    pub draft: bool,
    /// `RateLimit-Policy` and `RateLimit`.
    pub ietf: bool,
}

impl Default for HeaderFamilies {
    /// Kong's two families; the IETF fields are opt-in.
    fn default() -> Self {
        Self {
            per_period: true,
            draft: true,
            ietf: false,
        }
    }
}

const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Where a client stands after one decision: what the headers report.
///
/// Usually read straight off an engine [`Decision`]; the Redis policy also builds one for a
/// key it remembers as exhausted, whose wait has shrunk since Redis gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    /// Whether the request was admitted.
    pub(crate) allowed: bool,
    /// The binding window's index.
    pub(crate) window: usize,
    /// Units left in the binding window.
    pub(crate) remaining: u64,
    /// Until the binding window frees a unit (admitted), or until the same request would be
    /// admitted (rejected).
    pub(crate) wait: Duration,
}

impl From<&Decision> for Standing {
    fn from(decision: &Decision) -> Self {
        Self {
            allowed: decision.allowed(),
            window: decision.window(),
            remaining: decision.remaining(),
            wait: if decision.allowed() {
                decision.reset_after()
            } else {
                decision.retry_after()
            },
        }
    }
}

/// The seconds a client is told: [`Standing::wait`] rounded up, at least 1.
fn wait_secs(standing: &Standing) -> u64 {
    ceil_secs(standing.wait).max(1)
}

/// Precomputed header names and constant values for one set of limits.
#[derive(Debug, Clone)]
pub(crate) struct HeaderPlan {
    families: HeaderFamilies,
    /// Per period, in the limiter's window order: (period, limit, Limit header name and value,
    /// Remaining header name).
    periods: Vec<(Period, u64, HeaderName, HeaderValue, HeaderName)>,
    policy: Option<HeaderValue>,
    /// `hide_client_headers`: only `Retry-After`, on rejections.
    hidden: bool,
}

impl HeaderPlan {
    pub(crate) fn new(limits: &[(Period, u64)], families: HeaderFamilies, hidden: bool) -> Self {
        let periods = limits
            .iter()
            .map(|&(p, limit)| {
                (
                    p,
                    limit,
                    p.limit_header(),
                    HeaderValue::from(limit),
                    p.remaining_header(),
                )
            })
            .collect();
        let policy = limits
            .iter()
            .map(|&(p, limit)| format!("\"{}\";q={limit};w={}", p.name(), p.duration().as_secs()))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            families,
            periods,
            policy: HeaderValue::try_from(policy).ok(),
            hidden,
        }
    }

    /// Adds the headers for one decision.
    pub(crate) fn write(&self, headers: &mut HeaderMap, decision: &Decision, left: &Remaining) {
        self.write_standing(headers, &Standing::from(decision), left);
    }

    /// Adds the headers for where a client stands, with what every window has left.
    pub(crate) fn write_standing(
        &self,
        headers: &mut HeaderMap,
        standing: &Standing,
        left: &Remaining,
    ) {
        if self.hidden {
            if !standing.allowed {
                headers.insert(RETRY_AFTER, HeaderValue::from(wait_secs(standing)));
            }
            return;
        }
        let families = self.families;
        if families.per_period {
            for (i, (_, _, limit_name, limit_value, remaining_name)) in
                self.periods.iter().enumerate()
            {
                headers.insert(limit_name.clone(), limit_value.clone());
                let remaining = left.get(i).unwrap_or(0);
                headers.insert(remaining_name.clone(), HeaderValue::from(remaining));
            }
        }
        let (binding, limit) = self
            .periods
            .get(standing.window)
            .map_or((Period::Second, 0), |p| (p.0, p.1));
        let wait = wait_secs(standing);
        if families.draft {
            headers.insert(RATELIMIT_LIMIT, HeaderValue::from(limit));
            headers.insert(RATELIMIT_REMAINING, HeaderValue::from(standing.remaining));
            headers.insert(RATELIMIT_RESET, HeaderValue::from(wait));
        }
        if families.ietf {
            if let Some(policy) = &self.policy {
                headers.insert(RATELIMIT_POLICY, policy.clone());
            }
            let item = format!("\"{}\";r={};t={wait}", binding.name(), standing.remaining);
            if let Ok(value) = HeaderValue::try_from(item) {
                headers.insert(RATELIMIT, value);
            }
        }
        if !standing.allowed {
            headers.insert(RETRY_AFTER, HeaderValue::from(wait));
        }
    }
}
