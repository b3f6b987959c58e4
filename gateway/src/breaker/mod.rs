//! A circuit breaker per upstream, as a tower layer.
//!
//! A [`CircuitBreakerLayer`] puts one [`sluicegate::Breaker`] in front of a service. Each call
//! takes a permit; a [`Classifier`] judges the response (by default: 5xx, connect failure and
//! timeout fail, 4xx is ignored, the rest succeed), and a successful response is settled only
//! when its body has been delivered, so an upstream that resets mid-body counts as failing.
//! While the breaker is open, calls are answered at once with 503, `{"message": ...}` and a
//! `Retry-After` (whole seconds, rounded up) saying when the breaker will let a probe through.
//!
//! The breaker is shared (`Arc`): every connection and every route of a service meet the same
//! one, and its generations keep calls started before a state change from moving the state.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use http::{Request, Response, StatusCode};
//! use sluicegate::breaker::{Breaker, BreakerConfig};
//! use sluicegate_gateway::body::Body;
//! use sluicegate_gateway::breaker::CircuitBreakerLayer;
//! use tower::{Layer, Service, ServiceExt};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let breaker = Arc::new(Breaker::new(
//!     BreakerConfig::new().consecutive_failures(1).open_for(Duration::from_secs(30)),
//! )?);
//! let failing = tower::service_fn(|_req: Request<Body>| async {
//!     let mut response = Response::new(Body::empty());
//!     *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
//!     Ok::<_, std::convert::Infallible>(response)
//! });
//! let mut service = CircuitBreakerLayer::new(breaker).layer(failing);
//! let first = service.ready().await?.call(Request::new(Body::empty())).await?;
//! assert_eq!(first.status(), 500);
//! let second = service.ready().await?.call(Request::new(Body::empty())).await?;
//! assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(second.headers()["retry-after"], "30");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod classify;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderValue, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use sluicegate::breaker::{Breaker, Outcome, Permit, Rejected};

pub use classify::{Classifier, ServerErrors};

use crate::body::{Body, BoxError};
use crate::limit::period::ceil_secs;
use crate::reply;

/// A tower layer guarding a service with one breaker; see the module documentation.
pub struct CircuitBreakerLayer<C = ServerErrors> {
    breaker: Arc<Breaker>,
    classifier: Arc<C>,
}

impl<C> Clone for CircuitBreakerLayer<C> {
    fn clone(&self) -> Self {
        Self {
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl CircuitBreakerLayer<ServerErrors> {
    /// A layer judging responses with [`ServerErrors`].
    pub fn new(breaker: Arc<Breaker>) -> Self {
        Self::with_classifier(breaker, ServerErrors)
    }
}

impl<C: Classifier> CircuitBreakerLayer<C> {
    /// A layer judging responses with `classifier`.
    pub fn with_classifier(breaker: Arc<Breaker>, classifier: C) -> Self {
        Self {
            breaker,
            classifier: Arc::new(classifier),
        }
    }

    /// The breaker, for its state and counters.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }
}

impl<S, C> tower::Layer<S> for CircuitBreakerLayer<C> {
    type Service = CircuitBreaker<S, C>;

    fn layer(&self, inner: S) -> CircuitBreaker<S, C> {
        CircuitBreaker {
            inner,
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

/// The service [`CircuitBreakerLayer`] makes.
pub struct CircuitBreaker<S, C = ServerErrors> {
    inner: S,
    breaker: Arc<Breaker>,
    classifier: Arc<C>,
}

impl<S: Clone, C> Clone for CircuitBreaker<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            classifier: self.classifier.clone(),
        }
    }
}

impl<S, C, B> tower::Service<Request<B>> for CircuitBreaker<S, C>
where
    S: tower::Service<Request<B>, Response = Response<Body>>,
    C: Classifier,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let state = match self.breaker.try_acquire_owned() {
            Ok(permit) => State::Called {
                future: self.inner.call(request),
                permit: Some(permit),
                started: Instant::now(),
                classifier: self.classifier.clone(),
            },
            Err(rejected) => State::Rejected {
                response: Some(unavailable(rejected)),
            },
        };
        ResponseFuture { state }
    }
}

/// The 503 for a call the breaker turned away.
fn unavailable(rejected: Rejected) -> Response<Body> {
    tracing::debug!(%rejected, "circuit breaker rejected the call");
    let mut response = reply::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "The upstream service is temporarily unavailable",
    );
    if let Some(after) = rejected.retry_after() {
        let secs = ceil_secs(after).max(1);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

pin_project_lite::pin_project! {
    /// The future of [`CircuitBreaker`].
    pub struct ResponseFuture<F, C> {
        #[pin]
        state: State<F, C>,
    }
}

pin_project_lite::pin_project! {
    #[project = Projected]
    enum State<F, C> {
        Called {
            #[pin]
            future: F,
            permit: Option<Permit<'static>>,
            started: Instant,
            classifier: Arc<C>,
        },
        Rejected { response: Option<Response<Body>> },
    }
}

impl<F, C, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<Body>, E>>,
    C: Classifier,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projected::Called {
                future,
                permit,
                started,
                classifier,
            } => {
                let result = ready!(future.poll(cx));
                let Some(permit) = permit.take() else {
                    return Poll::Ready(result);
                };
                let response = match result {
                    Ok(response) => response,
                    Err(err) => {
                        permit.record(Outcome::Failure, started.elapsed());
                        return Poll::Ready(Err(err));
                    }
                };
                let outcome = classifier.classify(&response);
                if outcome != Outcome::Success || response.body().is_end_stream() {
                    permit.record(outcome, started.elapsed());
                    return Poll::Ready(Ok(response));
                }
                let started = *started;
                Poll::Ready(Ok(response.map(|body| {
                    Body::new(Settle {
                        inner: body,
                        permit: Some(permit),
                        started,
                    })
                })))
            }
            Projected::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .expect("a breaker future is not polled after it completes"))),
        }
    }
}

pin_project_lite::pin_project! {
    /// A successful response's body, which settles the call when it ends.
    struct Settle {
        #[pin]
        inner: Body,
        permit: Option<Permit<'static>>,
        started: Instant,
    }
}

impl HttpBody for Settle {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        // A server may stop polling once the body says it has ended, so the last data frame
        // settles the call as well as the end itself.
        let outcome = match &frame {
            None => Some(Outcome::Success),
            Some(Err(_)) => Some(Outcome::Failure),
            Some(Ok(_)) if this.inner.is_end_stream() => Some(Outcome::Success),
            Some(Ok(_)) => None,
        };
        if let Some(outcome) = outcome
            && let Some(permit) = this.permit.take()
        {
            permit.record(outcome, this.started.elapsed());
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
