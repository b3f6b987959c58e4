//! The gateway server: routes built from a [`Config`], the built-in endpoints, and an HTTP
//! listener that shuts down gracefully.
//!
//! Two paths are the gateway's own and are answered before any route is tried:
//!
//! - `GET /health`: `200 {"status":"ok"}`, for load balancers; no plugin runs on it.
//! - `GET /metrics`: the counters in Prometheus text format (see [`crate::metrics`]).
//!
//! A request no route matches is answered with Kong's `404 {"message":"no Route matched with
//! those values"}`.
//!
//! ```no_run
//! use sluicegate_gateway::config::Config;
//! use sluicegate_gateway::server::{Gateway, GatewayOptions};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("examples/gateway.yaml")?;
//! let gateway = Gateway::new(&config, GatewayOptions::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! sluicegate_gateway::server::serve(listener, gateway, sluicegate_gateway::server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```

mod build;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service as _;

pub use build::{BuildError, RouteService};

use crate::body::Body;
use crate::config::Config;
use crate::metrics::{Metrics, RouteMetrics};
use crate::peer::{ClientIp, PeerAddr, TrustedProxies};
use crate::proxy::route::Router;
use crate::proxy::{LocalPort, RoutedPath, path};
use crate::reply;

/// Settings of the gateway that are not part of the declarative configuration.
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// Proxies whose `X-Forwarded-For` is believed (default: none).
    pub trusted_proxies: TrustedProxies,
}

/// The gateway: every route's stack, and the built-in endpoints.
pub struct Gateway {
    router: Router<RouteService>,
    metrics: Arc<Metrics>,
    unmatched: Arc<RouteMetrics>,
    trusted: Arc<TrustedProxies>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// The route label of requests no route matched.
const UNMATCHED: &str = "(none)";

impl Gateway {
    /// Builds the gateway for `config`.
    pub fn new(config: &Config, options: GatewayOptions) -> Result<Arc<Self>, BuildError> {
        let metrics = Arc::new(Metrics::new());
        let trusted = Arc::new(options.trusted_proxies);
        let routes = build::routes(config, &metrics, trusted.clone())?;
        let router = Router::new(routes.into_iter().map(|r| (r.rule, r.service)).collect());
        Ok(Arc::new(Self {
            unmatched: metrics.route(UNMATCHED),
            router,
            metrics,
            trusted,
        }))
    }

    /// The gateway's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Answers one request that arrived from `peer` on the listener at `local`.
    pub async fn handle(
        &self,
        mut request: Request<Incoming>,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Response<Body> {
        let normalized = path::normalize(request.uri().path());
        if let Some(response) = self.builtin(request.method(), &normalized) {
            return response;
        }
        let routed = {
            let host = request
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| request.uri().host());
            self.router
                .find(request.method(), host, &normalized)
                .map(|(service, matched)| (service.clone(), matched.matched_len))
        };
        let Some((mut service, matched_len)) = routed.filter(|_| normalized.starts_with('/'))
        else {
            self.unmatched.record(404, Duration::ZERO);
            return reply::message(StatusCode::NOT_FOUND, "no Route matched with those values");
        };
        let client = self.trusted.client_ip(peer.ip(), request.headers());
        let extensions = request.extensions_mut();
        extensions.insert(PeerAddr(peer));
        extensions.insert(ClientIp(client));
        extensions.insert(LocalPort(local.port()));
        extensions.insert(RoutedPath {
            path: normalized,
            matched_len,
        });
        match service.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    fn builtin(&self, method: &Method, path: &str) -> Option<Response<Body>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        match path {
            "/health" => Some(reply::json(
                StatusCode::OK,
                &serde_json::json!({ "status": "ok" }),
            )),
            "/metrics" => {
                let mut response = Response::new(Body::from(self.metrics.render()));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                Some(response)
            }
            _ => None,
        }
    }
}

/// How long in-flight requests may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `gateway` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish (up to [`SHUTDOWN_GRACE`]), and returns.
///
/// HTTP/1.1 and cleartext HTTP/2 are both accepted on the one port.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with_grace(listener, gateway, shutdown, SHUTDOWN_GRACE).await
}

/// [`serve`] with a chosen grace period.
pub async fn serve_with_grace(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let service = hyper::service::service_fn(move |request| {
            let gateway = gateway.clone();
            async move { Ok::<_, Infallible>(gateway.handle(request, peer, local).await) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, err = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?grace,
            "requests still in flight after the grace period; closing"
        );
    }
    Ok(())
}

/// Gateway threads serving one address, each with its own runtime; see [`spawn_workers`].
#[derive(Debug)]
pub struct Workers {
    local: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Workers {
    /// The address the workers accept on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops accepting, lets every worker finish its requests in flight (up to its grace
    /// period), and waits for the threads. Blocks: call it off the async runtime.
    pub fn shut_down(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let mut outcome = Ok(());
        for thread in self.threads {
            let result = thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a gateway worker panicked")));
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }
}

/// Serves `gateway` on `addr` from `workers` threads, each running a single-threaded runtime
/// and accepting on its own socket bound to `addr` with `SO_REUSEPORT`, so the kernel spreads
/// connections over the threads. This is nginx's worker-per-core design: a connection, its
/// requests and their upstream connections stay on one thread, and no request pays for waking
/// another core. All workers share the one gateway: its limits, breakers and token caches.
///
/// With port 0, the workers share the port the first one was given.
///
/// Every worker's socket is listening when this returns: a client may connect at once.
pub fn spawn_workers(
    addr: SocketAddr,
    gateway: Arc<Gateway>,
    workers: usize,
    grace: Duration,
) -> std::io::Result<Workers> {
    let workers = workers.max(1);
    let first = reuse_port_socket(addr)?;
    let local = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        sockets.push(reuse_port_socket(local)?);
    }
    // Every socket listens before this function returns, so a caller that connects as soon as
    // it has the address is never refused by a worker still starting. Each listener is
    // registered with the runtime of the thread that will serve it.
    let mut ready = Vec::with_capacity(workers);
    for socket in sockets {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _entered = runtime.enter();
            socket.listen(LISTEN_BACKLOG)?
        };
        ready.push((runtime, listener));
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut threads = Vec::with_capacity(workers);
    for (index, (runtime, listener)) in ready.into_iter().enumerate() {
        let gateway = gateway.clone();
        let mut stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name(format!("gateway-{index}"))
            .spawn(move || {
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                runtime.block_on(serve_with_grace(listener, gateway, shutdown, grace))
            })?;
        threads.push(thread);
    }
    Ok(Workers {
        local,
        stop,
        threads,
    })
}

/// The queue of accepted-but-not-yet-taken connections each worker's socket keeps.
const LISTEN_BACKLOG: u32 = 1024;

fn reuse_port_socket(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
