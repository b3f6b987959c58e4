//! The tower layer of `policy: redis`: Kong's answers and headers, decided by a
//! [`RedisPolicy`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};

use super::policy::{RedisPolicy, RedisSettings, SetupError, Verdict};
use crate::body::Body;
use crate::limit::headers::HeaderPlan;
use crate::limit::{KeyExtractor, RateLimitSettings, rejection, request_key, undecided_refusal};
use crate::metrics::RedisLimitMetrics;

struct Shared<K> {
    policy: Arc<RedisPolicy>,
    extractor: K,
    plan: Arc<HeaderPlan>,
    settings: RateLimitSettings,
}

/// A tower layer enforcing one set of limits counted on Redis; see the [module
/// documentation](super).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sluicegate_gateway::config::RedisConfig;
/// use sluicegate_gateway::limit::redis::{RedisRateLimitLayer, RedisSettings};
/// use sluicegate_gateway::limit::{LimitBy, Period, RateLimitSettings};
/// use sluicegate_gateway::metrics::RedisLimitMetrics;
/// let settings = RedisSettings {
///     server: RedisConfig {
///         host: "127.0.0.1".into(),
///         port: 6379,
///         timeout: Duration::from_millis(200),
///         username: None,
///         password: None,
///         database: 0,
///     },
///     sync_rate: None,
///     prefix: "sluicegate:api:".into(),
/// };
/// // Nothing is dialled until the first request.
/// let layer = RedisRateLimitLayer::new(
///     RateLimitSettings::new(vec![(Period::Minute, 100)]),
///     LimitBy::Ip,
///     &settings,
///     Arc::new(RedisLimitMetrics::default()),
/// )?;
/// assert!(layer.policy().exhausted().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisRateLimitLayer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for RedisRateLimitLayer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<K: KeyExtractor> RedisRateLimitLayer<K> {
    /// A layer counting requests by `extractor` (falling back to the client IP) on the Redis
    /// server of `redis`.
    pub fn new(
        settings: RateLimitSettings,
        extractor: K,
        redis: &RedisSettings,
        metrics: Arc<RedisLimitMetrics>,
    ) -> Result<Self, SetupError> {
        let policy = RedisPolicy::new(&settings.limits, redis, settings.fault_tolerant, metrics)?;
        let plan = Arc::new(HeaderPlan::new(
            &settings.limits,
            settings.headers,
            settings.hide_client_headers,
        ));
        Ok(Self {
            shared: Arc::new(Shared {
                policy,
                extractor,
                plan,
                settings,
            }),
        })
    }

    /// The policy deciding requests.
    pub fn policy(&self) -> &Arc<RedisPolicy> {
        &self.shared.policy
    }
}

impl<S, K> tower::Layer<S> for RedisRateLimitLayer<K> {
    type Service = RedisRateLimit<S, K>;

    fn layer(&self, inner: S) -> RedisRateLimit<S, K> {
        RedisRateLimit {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`RedisRateLimitLayer`] makes.
pub struct RedisRateLimit<S, K> {
    inner: S,
    shared: Arc<Shared<K>>,
}

impl<S: Clone, K> Clone for RedisRateLimit<S, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

/// The future of [`RedisRateLimit`].
pub type RedisResponseFuture<E> = Pin<Box<dyn Future<Output = Result<Response<Body>, E>> + Send>>;

impl<S, K, B> tower::Service<Request<B>> for RedisRateLimit<S, K>
where
    S: tower::Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    K: KeyExtractor,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = RedisResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone takes the place of the service that was made ready, which goes with the
        // request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        let key = request_key(&shared.extractor, &request);
        Box::pin(async move {
            let (standing, left) = match shared.policy.decide(&key).await {
                Verdict::Decided { standing, left } if standing.allowed => (standing, left),
                Verdict::Decided { standing, left } => {
                    return Ok(rejection(&shared.settings, &shared.plan, &standing, &left));
                }
                Verdict::Undecided => return inner.call(request).await,
                Verdict::Refused => return Ok(undecided_refusal()),
            };
            let mut response = inner.call(request).await?;
            shared
                .plan
                .write_standing(response.headers_mut(), &standing, &left);
            Ok(response)
        })
    }
}
