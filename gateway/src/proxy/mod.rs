//! Forwarding requests to an upstream service over pooled connections.
//!
//! A [`Proxy`] is a tower service that sends each request to one [`Upstream`] and streams the
//! answer back. Bodies stream both ways untouched, whatever their content type; the query string
//! goes through as sent; hop-by-hop headers are dropped in both directions; `X-Forwarded-For`,
//! `-Proto`, `-Host` and `-Port` are set; and the authenticated caller is named to the upstream
//! in `x-user-id` (the JWT subject), `X-Consumer-Username` and `X-Credential-Identifier`, which
//! are always removed from what the client sent so they cannot be forged.
//!
//! Failures are answered by the proxy itself, with an [`UpstreamFailure`] in the response's
//! extensions so that a circuit breaker or a metric can tell them apart from the upstream's own
//! answers:
//!
//! | what happened | status |
//! |---|---|
//! | connection refused, reset or closed before a response | 502 |
//! | connect, write or read timeout before the response head | 504 |
//!
//! Once the response head has been passed on, a later failure (a reset or a read timeout mid-
//! body) can only end the body with an error, which aborts the client's response.
//!
//! Connect failures are retried up to the service's `retries` times, and only for requests
//! without a body: nothing reached the upstream, and nothing needs replaying. Anything else is
//! never retried, since the upstream may have acted on it.

pub mod headers;
pub mod path;
pub mod route;
mod timeout;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use thread_local::ThreadLocal;

pub use timeout::{ReadTimedOut, Timeouts};

use crate::body::{Body, BoxError};
use crate::config::upstream_path;
use crate::jwt::Identity;
use crate::peer::{PeerAddr, TrustedProxies};
use crate::reply;
use headers::Hop;

/// `x-user-id`: the JWT subject of the caller, for the upstream.
pub const X_USER_ID: HeaderName = HeaderName::from_static("x-user-id");
/// `X-Consumer-Username`: the consumer whose credential verified the caller's token.
pub const X_CONSUMER_USERNAME: HeaderName = HeaderName::from_static("x-consumer-username");
/// `X-Credential-Identifier`: the key of that credential.
pub const X_CREDENTIAL_IDENTIFIER: HeaderName = HeaderName::from_static("x-credential-identifier");

/// Where a service lives and how patiently to talk to it.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The service's name, for logs and metrics.
    pub name: String,
    /// Host name or address to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The service's `path`: prepended to every upstream path (`/` when unset).
    pub path: String,
    /// Connect, write and read timeouts.
    pub timeouts: Timeouts,
    /// How many times a failed connect is retried (requests without a body only).
    pub retries: u32,
}

impl Upstream {
    /// An upstream at `host:port` with Kong's defaults: path `/`, 60-second timeouts, 5 retries.
    ///
    /// ```
    /// use sluicegate_gateway::proxy::Upstream;
    /// let users = Upstream::new("users", "127.0.0.1", 9101);
    /// assert_eq!((users.path.as_str(), users.retries), ("/", 5));
    /// ```
    pub fn new(name: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        Self {
            name: name.into(),
            host: host.into(),
            port,
            path: "/".into(),
            timeouts: Timeouts::default(),
            retries: 5,
        }
    }

    /// The `Host` header value naming this upstream (the port only when it is not 80).
    fn host_header(&self) -> Option<HeaderValue> {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let value = if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        };
        HeaderValue::try_from(value).ok()
    }
}

/// Why the proxy answered for the upstream; found in the extensions of the proxy's own 502 and
/// 504 responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The connection could not be made (refused, unreachable).
    Connect,
    /// A connect, write or read timeout ran out before the response head.
    Timeout,
    /// The connection broke before a response head arrived.
    Reset,
}

/// The part of a request path a route matched, inserted by the router so the proxy can apply
/// the route's `strip_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedPath {
    /// The normalised request path.
    pub path: String,
    /// Bytes of `path` the route's path pattern matched.
    pub matched_len: usize,
}

/// The pooled HTTP client a proxy sends with.
type UpstreamClient = Client<HttpConnector, Body>;

/// Builds a pooled client for an upstream: keep-alive connections, `TCP_NODELAY`, and the
/// upstream's connect timeout (a property of the connector, hence one client per upstream).
fn client(upstream: &Upstream) -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(upstream.timeouts.connect));
    connector.set_keepalive(Some(Duration::from_secs(60)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

/// A tower service that forwards requests to one upstream; see the module documentation.
///
/// ```no_run
/// use std::sync::Arc;
/// use sluicegate_gateway::proxy::{Proxy, Upstream};
/// let users = Arc::new(Upstream::new("users", "127.0.0.1", 9101));
/// let proxy = Proxy::new(users).strip_path(false).preserve_host(true);
/// # let _ = proxy;
/// ```
///
/// Connections are pooled per upstream *and per thread*: when the gateway runs one runtime per
/// core, a request and the upstream connection it travels on stay on one thread, with no wake-up
/// crossing cores. Clones of a proxy (the routes of one service) share its pools.
#[derive(Clone)]
pub struct Proxy {
    upstream: Arc<Upstream>,
    /// `host:port` of the upstream, made once.
    authority: Option<Authority>,
    pools: Arc<ThreadLocal<UpstreamClient>>,
    trusted: Arc<TrustedProxies>,
    strip_path: bool,
    preserve_host: bool,
}

impl Proxy {
    /// A proxy to `upstream` with its own connection pools, Kong's route defaults (`strip_path`
    /// on, `preserve_host` off), trusting no proxy in front of it.
    pub fn new(upstream: Arc<Upstream>) -> Self {
        let authority =
            Authority::try_from(format!("{}:{}", bracket(&upstream.host), upstream.port)).ok();
        Self {
            upstream,
            authority,
            pools: Arc::new(ThreadLocal::new()),
            trusted: Arc::new(TrustedProxies::none()),
            strip_path: true,
            preserve_host: false,
        }
    }

    /// Whether the part of the path the route matched is removed (Kong's `strip_path`).
    pub fn strip_path(mut self, strip: bool) -> Self {
        self.strip_path = strip;
        self
    }

    /// Whether the client's `Host` header is sent upstream instead of the upstream's own.
    pub fn preserve_host(mut self, preserve: bool) -> Self {
        self.preserve_host = preserve;
        self
    }

    /// The peers whose `X-Forwarded-*` headers are kept.
    pub fn trusted_proxies(mut self, trusted: Arc<TrustedProxies>) -> Self {
        self.trusted = trusted;
        self
    }

    /// The upstream this proxy sends to.
    pub fn upstream(&self) -> &Arc<Upstream> {
        &self.upstream
    }

    fn upstream_uri(&self, request: &Request<impl Sized>) -> Result<Uri, http::Error> {
        let routed = request.extensions().get::<RoutedPath>();
        let normalized;
        let (full, matched_len) = match routed {
            Some(r) => (r.path.as_str(), r.matched_len),
            None => {
                normalized = path::normalize(request.uri().path());
                (normalized.as_str(), 0)
            }
        };
        let matched = full.get(..matched_len).unwrap_or("");
        let mut target = upstream_path(&self.upstream.path, matched, self.strip_path, full);
        if let Some(query) = request.uri().query() {
            target.push('?');
            target.push_str(query);
        }
        let builder = Uri::builder().scheme(Scheme::HTTP);
        let builder = match &self.authority {
            Some(authority) => builder.authority(authority.clone()),
            // Not a valid authority: let the builder say why.
            None => builder.authority(format!(
                "{}:{}",
                bracket(&self.upstream.host),
                self.upstream.port
            )),
        };
        builder
            .path_and_query(PathAndQuery::try_from(target)?)
            .build()
    }

    fn prepare_headers(&self, request: &mut Request<impl Sized>) {
        let extensions = request.extensions();
        let peer = extensions.get::<PeerAddr>().map(|p| p.0);
        // The caller's names, as header values, before the headers are touched.
        let named = extensions.get::<Identity>().map(|identity| {
            let value = |v: &str| HeaderValue::try_from(v).ok();
            [
                (X_USER_ID, identity.subject.as_deref().and_then(value)),
                (X_CONSUMER_USERNAME, value(&identity.consumer)),
                (X_CREDENTIAL_IDENTIFIER, value(&identity.credential)),
            ]
        });
        let headers = request.headers_mut();
        headers::remove_hop_by_hop(headers);
        for name in [X_USER_ID, X_CONSUMER_USERNAME, X_CREDENTIAL_IDENTIFIER] {
            headers.remove(name);
        }
        for (name, value) in named.into_iter().flatten() {
            if let Some(value) = value {
                headers.insert(name, value);
            }
        }
        if let Some(peer) = peer {
            let hop = Hop {
                peer: crate::peer::normalize(peer.ip()),
                trusted: self.trusted.contains(peer.ip()),
                local_port: request.extensions().get::<LocalPort>().map(|p| p.0),
            };
            headers::set_forwarded(request.headers_mut(), hop);
        }
        let host = match request.headers().get(header::HOST) {
            Some(host) if self.preserve_host => Some(host.clone()),
            _ => self.upstream.host_header(),
        };
        if let Some(host) = host {
            request.headers_mut().insert(header::HOST, host);
        }
    }
}

/// The port of the gateway's listener a request arrived on, inserted by the server; sent
/// upstream as `X-Forwarded-Port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalPort(pub u16);

fn bracket(host: &str) -> std::borrow::Cow<'_, str> {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]").into()
    } else {
        host.into()
    }
}

impl<B> tower::Service<Request<B>> for Proxy
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let uri = match this.upstream_uri(&request) {
                Ok(uri) => uri,
                Err(err) => {
                    tracing::debug!(%err, "request path cannot be sent upstream");
                    return Ok(reply::message(StatusCode::BAD_REQUEST, "Bad request path"));
                }
            };
            // An HTTP/2 request names its host in the URI only: give it the header HTTP/1.1
            // upstreams and the forwarding headers go by.
            if !request.headers().contains_key(header::HOST)
                && let Some(host) = request
                    .uri()
                    .authority()
                    .and_then(|a| HeaderValue::try_from(a.as_str()).ok())
            {
                request.headers_mut().insert(header::HOST, host);
            }
            this.prepare_headers(&mut request);
            *request.uri_mut() = uri;
            *request.version_mut() = Version::HTTP_11;
            Ok(this.send(request).await)
        })
    }
}

impl Proxy {
    /// This thread's pool for the upstream.
    fn client(&self) -> &UpstreamClient {
        self.pools.get_or(|| client(&self.upstream))
    }

    async fn send<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let timeouts = self.upstream.timeouts;
        let (parts, body) = request.into_parts();
        let replayable = body.is_end_stream();
        let (body, progress) = if replayable {
            (Body::empty(), None)
        } else {
            let progress = timeout::Progress::new();
            (
                Body::new(timeout::Tracked::new(body, progress.clone())),
                Some(progress),
            )
        };
        let mut retries_left = if replayable { self.upstream.retries } else { 0 };
        // What a retry resends; kept only when a retry may happen.
        let spare = (retries_left > 0).then(|| parts.clone());
        let mut attempt = Request::from_parts(parts, body);
        loop {
            let exchange = self.client().request(attempt);
            let failure = match timeout::deadline(exchange, progress.as_deref(), timeouts).await {
                Ok(Ok(response)) => return self.pass_on(response),
                Ok(Err(err)) => classify(&err),
                Err(timeout::Elapsed) => (UpstreamFailure::Timeout, "timed out".to_owned()),
            };
            if failure.0 == UpstreamFailure::Connect
                && retries_left > 0
                && let Some(spare) = &spare
            {
                retries_left -= 1;
                tracing::debug!(upstream = %self.upstream.name, error = %failure.1, "retrying connect");
                attempt = Request::from_parts(spare.clone(), Body::empty());
                continue;
            }
            tracing::warn!(upstream = %self.upstream.name, error = %failure.1, "upstream failed");
            return failure_response(failure.0);
        }
    }

    fn pass_on(&self, response: Response<hyper::body::Incoming>) -> Response<Body> {
        let (mut parts, body) = response.into_parts();
        headers::remove_hop_by_hop(&mut parts.headers);
        let body = Body::new(timeout::ReadTimeout::new(body, self.upstream.timeouts.read));
        Response::from_parts(parts, body)
    }
}

/// Tells a connect failure (and a connect timeout) from a broken exchange.
fn classify(err: &hyper_util::client::legacy::Error) -> (UpstreamFailure, String) {
    let text = error_chain(err);
    if err.is_connect() {
        let timed_out = source_io_kind(err) == Some(std::io::ErrorKind::TimedOut);
        let kind = if timed_out {
            UpstreamFailure::Timeout
        } else {
            UpstreamFailure::Connect
        };
        return (kind, text);
    }
    (UpstreamFailure::Reset, text)
}

fn source_io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// The proxy's own answer for a failure, in Kong's words.
fn failure_response(failure: UpstreamFailure) -> Response<Body> {
    let mut response = match failure {
        UpstreamFailure::Timeout => reply::message(
            StatusCode::GATEWAY_TIMEOUT,
            "The upstream server is timing out",
        ),
        UpstreamFailure::Connect | UpstreamFailure::Reset => reply::message(
            StatusCode::BAD_GATEWAY,
            "An invalid response was received from the upstream server",
        ),
    };
    response.extensions_mut().insert(failure);
    response
}
