//! Correlation ids: one id per request, kept if the client sent one, else made here; forwarded
//! upstream, optionally echoed to the client, and carried by every log line of the request.
//!
//! Kong's `correlation-id` plugin configures the header and generator. Without the plugin the
//! gateway still tags every request, under [`CorrelationId::DEFAULT_HEADER`]
//! (`x-correlation-id`), and echoes it back, so a client can quote it when reporting a problem.
//!
//! ```
//! use http::{Request, Response};
//! use sluicegate_gateway::body::Body;
//! use sluicegate_gateway::correlation::CorrelationLayer;
//! use tower::{Layer, Service, ServiceExt};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let app = tower::service_fn(|req: Request<Body>| async move {
//!     assert!(req.headers().contains_key("x-correlation-id"));
//!     Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
//! });
//! let mut service = CorrelationLayer::default().layer(app);
//! let sent = Request::builder().header("x-correlation-id", "abc-1").body(Body::empty())?;
//! let response = service.ready().await?.call(sent).await?;
//! assert_eq!(response.headers()["x-correlation-id"], "abc-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use http::header::{HeaderName, HeaderValue};
use http::{Request, Response};
use tracing::Instrument;

use crate::config::{CorrelationIdPlugin, IdGenerator};

/// The id of one request, in its extensions for any layer that wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub HeaderValue);

impl CorrelationId {
    /// The header used when no `correlation-id` plugin says otherwise.
    pub const DEFAULT_HEADER: HeaderName = HeaderName::from_static("x-correlation-id");
}

/// Makes ids for requests that arrive without one.
#[derive(Debug)]
struct Generator {
    kind: IdGenerator,
    /// `uuid#counter`: this process's UUID and the next counter value.
    process: String,
    counter: AtomicU64,
}

impl Generator {
    fn new(kind: IdGenerator) -> Self {
        Self {
            kind,
            process: uuid::Uuid::new_v4().to_string(),
            counter: AtomicU64::new(1),
        }
    }

    fn next(&self) -> HeaderValue {
        let text = match self.kind {
            IdGenerator::Uuid => uuid::Uuid::new_v4().to_string(),
            IdGenerator::UuidCounter => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                format!("{}#{n}", self.process)
            }
        };
        HeaderValue::try_from(text).expect("a UUID is a valid header value")
    }
}

#[derive(Debug)]
struct Settings {
    header: HeaderName,
    generator: Generator,
    echo: bool,
}

/// A tower layer that gives every request a correlation id; see the module documentation.
#[derive(Debug, Clone)]
pub struct CorrelationLayer {
    settings: Arc<Settings>,
}

impl Default for CorrelationLayer {
    /// `x-correlation-id`, random UUIDs, echoed to the client.
    fn default() -> Self {
        Self::new(CorrelationId::DEFAULT_HEADER, IdGenerator::Uuid, true)
    }
}

impl CorrelationLayer {
    /// A layer with the given header, generator and echo setting.
    pub fn new(header: HeaderName, generator: IdGenerator, echo_downstream: bool) -> Self {
        Self {
            settings: Arc::new(Settings {
                header,
                generator: Generator::new(generator),
                echo: echo_downstream,
            }),
        }
    }

    /// A layer configured by Kong's `correlation-id` plugin.
    pub fn from_plugin(plugin: &CorrelationIdPlugin) -> Self {
        Self::new(
            plugin.header_name.clone(),
            plugin.generator,
            plugin.echo_downstream,
        )
    }
}

impl<S> tower::Layer<S> for CorrelationLayer {
    type Service = Correlated<S>;

    fn layer(&self, inner: S) -> Correlated<S> {
        Correlated {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service [`CorrelationLayer`] makes.
#[derive(Debug, Clone)]
pub struct Correlated<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S, B, R> tower::Service<Request<B>> for Correlated<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<tracing::instrument::Instrumented<S::Future>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let settings = &*self.settings;
        let id = match request.headers().get(&settings.header) {
            Some(sent) if !sent.is_empty() => sent.clone(),
            _ => {
                let made = settings.generator.next();
                request
                    .headers_mut()
                    .insert(settings.header.clone(), made.clone());
                made
            }
        };
        // Plain string fields: nothing to format before they are recorded.
        let span = tracing::info_span!(
            "request",
            correlation_id = id.to_str().unwrap_or("(not text)"),
            method = request.method().as_str(),
            path = request.uri().path(),
        );
        request.extensions_mut().insert(CorrelationId(id.clone()));
        let echo = settings.echo.then(|| (settings.header.clone(), id));
        ResponseFuture {
            inner: self.inner.call(request).instrument(span),
            echo,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Correlated`]: the inner response, with the id echoed if configured.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        echo: Option<(HeaderName, HeaderValue)>,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some((name, id)) = this.echo.take() {
            response.headers_mut().insert(name, id);
        }
        Poll::Ready(Ok(response))
    }
}
