//! Exact rate limits as a tower layer, with Kong's headers.
//!
//! A [`RateLimitLayer`] holds one [`sluicegate::Limiter`] whose windows are all the configured
//! periods: a request is admitted only if it fits every period, and is then counted in all of
//! them at once. The limiter lives in an `Arc`, so every connection and every clone of the
//! service shares one count. A rejected request is not counted, so a client that keeps retrying
//! gets back in as soon as its oldest request leaves the window.
//!
//! Rejections are answered with `error_code` (429 by default) and `{"message": error_message}`;
//! see [`headers`] for what admitted and rejected responses carry, and [`period`] for how the
//! sliding windows differ from Kong's calendar windows.
//!
//! When the limiter cannot decide (a key over its maximum length, or a full table that refuses
//! new keys), `fault_tolerant` (Kong's default) lets the request through without headers;
//! otherwise it is answered with 500.
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use sluicegate_gateway::body::Body;
//! use sluicegate_gateway::limit::{LimitBy, Period, RateLimitLayer, RateLimitSettings};
//! use tower::{Layer, Service, ServiceExt};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let layer = RateLimitLayer::new(
//!     RateLimitSettings::new(vec![(Period::Minute, 1)]),
//!     LimitBy::Header("x-api-key".parse().unwrap()),
//! )?;
//! let app = tower::service_fn(|_req: Request<Body>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(Body::from("hello")))
//! });
//! let mut service = layer.layer(app);
//! let request = || Request::builder().header("x-api-key", "k1").body(Body::empty()).unwrap();
//! let first = service.ready().await?.call(request()).await?;
//! assert_eq!(first.headers()["x-ratelimit-remaining-minute"], "0");
//! let second = service.ready().await?.call(request()).await?;
//! assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(second.headers()["retry-after"], "60");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod headers;
mod key;
pub mod period;
pub mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response, StatusCode};
use sluicegate::{ConfigError, Decision, Limiter, Remaining, Stats};

pub use headers::HeaderFamilies;
pub use key::{KeyExtractor, LimitBy, client_ip_key};
pub use period::Period;

use crate::body::Body;
use crate::reply;
use headers::{HeaderPlan, Standing};

/// What a rate limit enforces and how it answers; Kong's `rate-limiting` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// The limit per period; at least one.
    pub limits: Vec<(Period, u64)>,
    /// Which header families admitted and rejected responses carry.
    pub headers: HeaderFamilies,
    /// Kong's `hide_client_headers`: send none but `Retry-After`.
    pub hide_client_headers: bool,
    /// The status of a rejection (Kong's `error_code`, default 429).
    pub error_code: StatusCode,
    /// The message of a rejection (Kong's `error_message`).
    pub error_message: String,
    /// Kong's `fault_tolerant`: when the limiter cannot decide, let the request through.
    pub fault_tolerant: bool,
}

impl RateLimitSettings {
    /// The given limits with Kong's defaults for everything else.
    ///
    /// ```
    /// use sluicegate_gateway::limit::{Period, RateLimitSettings};
    /// let settings = RateLimitSettings::new(vec![(Period::Minute, 100)]);
    /// assert_eq!(settings.error_code, 429);
    /// assert_eq!(settings.error_message, "API rate limit exceeded");
    /// assert!(settings.fault_tolerant);
    /// ```
    pub fn new(limits: Vec<(Period, u64)>) -> Self {
        Self {
            limits,
            headers: HeaderFamilies::default(),
            hide_client_headers: false,
            error_code: StatusCode::TOO_MANY_REQUESTS,
            error_message: "API rate limit exceeded".into(),
            fault_tolerant: true,
        }
    }
}

struct Shared<K> {
    limiter: Limiter,
    extractor: K,
    plan: Arc<HeaderPlan>,
    settings: RateLimitSettings,
}

/// A tower layer enforcing one set of limits; see the module documentation.
pub struct RateLimitLayer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for RateLimitLayer<K> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<K: KeyExtractor> RateLimitLayer<K> {
    /// A layer counting requests by `extractor` (falling back to the client IP).
    pub fn new(settings: RateLimitSettings, extractor: K) -> Result<Self, ConfigError> {
        let limiter = Limiter::builder()
            .windows(settings.limits.iter().map(|&(p, limit)| p.window(limit)))
            .build()?;
        Ok(Self::with_limiter(settings, extractor, limiter))
    }

    /// A layer over a limiter built by the caller (for a custom clock or size), whose windows
    /// must be `settings.limits`, in that order.
    pub fn with_limiter(settings: RateLimitSettings, extractor: K, limiter: Limiter) -> Self {
        let plan = Arc::new(HeaderPlan::new(
            &settings.limits,
            settings.headers,
            settings.hide_client_headers,
        ));
        Self {
            shared: Arc::new(Shared {
                limiter,
                extractor,
                plan,
                settings,
            }),
        }
    }

    /// The limiter's counters: keys tracked, requests allowed and rejected.
    pub fn stats(&self) -> Stats {
        self.shared.limiter.stats()
    }
}

impl<S, K> tower::Layer<S> for RateLimitLayer<K> {
    type Service = RateLimit<S, K>;

    fn layer(&self, inner: S) -> RateLimit<S, K> {
        RateLimit {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`RateLimitLayer`] makes.
pub struct RateLimit<S, K> {
    inner: S,
    shared: Arc<Shared<K>>,
}

impl<S: Clone, K> Clone for RateLimit<S, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S, K, B> tower::Service<Request<B>> for RateLimit<S, K>
where
    S: tower::Service<Request<B>, Response = Response<Body>>,
    K: KeyExtractor,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = &*self.shared;
        let key = request_key(&shared.extractor, &request);
        let verdict = match shared.limiter.check_each(&key, 1) {
            Ok((decision, left)) if decision.allowed() => Some((decision, left)),
            Ok((decision, left)) => {
                let standing = Standing::from(&decision);
                return ResponseFuture::answered(rejection(
                    &shared.settings,
                    &shared.plan,
                    &standing,
                    &left,
                ));
            }
            Err(err) if shared.settings.fault_tolerant => {
                tracing::warn!(%err, "rate limit undecided; letting the request through");
                None
            }
            Err(err) => {
                tracing::error!(%err, "rate limit undecided; refusing the request");
                return ResponseFuture::answered(undecided_refusal());
            }
        };
        let headers = verdict.map(|(decision, left)| (shared.plan.clone(), decision, left));
        ResponseFuture::inner(self.inner.call(request), headers)
    }
}

/// The bucket a request counts in: the extractor's, else the client IP's.
pub(crate) fn request_key<K: KeyExtractor, B>(extractor: &K, request: &Request<B>) -> Vec<u8> {
    extractor
        .key(request)
        .or_else(|| client_ip_key(request))
        .unwrap_or_else(|| b"i:unknown".to_vec())
}

/// The answer to a rejected request: `error_code`, the message, and the headers.
pub(crate) fn rejection(
    settings: &RateLimitSettings,
    plan: &HeaderPlan,
    standing: &Standing,
    left: &Remaining,
) -> Response<Body> {
    let mut response = reply::message(settings.error_code, &settings.error_message);
    plan.write_standing(response.headers_mut(), standing, left);
    response
}

/// Kong's answer when a limit cannot be decided and `fault_tolerant` is off.
pub(crate) fn undecided_refusal() -> Response<Body> {
    reply::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An unexpected error occurred",
    )
}

pin_project_lite::pin_project! {
    /// The future of [`RateLimit`]: the inner service's, with the limit headers added, or the
    /// layer's own answer.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = Projected]
    enum State<F> {
        Inner { #[pin] future: F, headers: Option<(Arc<HeaderPlan>, Decision, Remaining)> },
        Answered { response: Option<Response<Body>> },
    }
}

impl<F> ResponseFuture<F> {
    fn inner(future: F, headers: Option<(Arc<HeaderPlan>, Decision, Remaining)>) -> Self {
        Self {
            state: State::Inner { future, headers },
        }
    }

    fn answered(response: Response<Body>) -> Self {
        Self {
            state: State::Answered {
                response: Some(response),
            },
        }
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projected::Inner { future, headers } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some((plan, decision, left)) = headers.take() {
                    plan.write(response.headers_mut(), &decision, &left);
                }
                Poll::Ready(Ok(response))
            }
            Projected::Answered { response } => Poll::Ready(Ok(response
                .take()
                .expect("a rate-limit future is not polled after it completes"))),
        }
    }
}
