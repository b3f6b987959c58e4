//! Counters the gateway keeps, and their Prometheus text exposition.
//!
//! - `sluicegate_requests_total{route, status}`: responses, by route and status;
//! - `sluicegate_request_duration_seconds{route}`: a histogram of the time from receiving a
//!   request to sending its response head;
//! - `sluicegate_upstream_failures_total{route, kind}`: answers the proxy made for its upstream,
//!   by kind (`connect`, `timeout`, `reset`);
//! - `sluicegate_ratelimit_decisions_total{plugin, decision}`: each rate limit's admitted and
//!   rejected requests;
//! - `sluicegate_breaker_state{service, state}`: 1 for each breaker's current state, 0 for the
//!   others;
//! - for rate limits counted on Redis, who decided each request, Redis failures, syncs and
//!   the state of the breaker around Redis (see [`RedisLimitMetrics`]).
//!
//! Recording is a few relaxed atomic additions per request, on counters allocated when the
//! gateway starts; nothing on the request path takes a lock.

mod redis_limit;

pub use redis_limit::{DecisionSource, RedisLimitMetrics};

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use http::{Request, Response};
use sluicegate::Stats;
use sluicegate::breaker::{Breaker, State};

use crate::proxy::UpstreamFailure;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Statuses 100 ..= 599 each get a counter.
const STATUSES: usize = 500;

/// The counters of one route.
#[derive(Debug)]
pub struct RouteMetrics {
    name: String,
    statuses: Box<[AtomicU64]>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
    /// Upstream failures by kind, in [`FAILURE_KINDS`] order.
    failures: [AtomicU64; 3],
}

/// The kinds of upstream failure, as labelled.
const FAILURE_KINDS: [(UpstreamFailure, &str); 3] = [
    (UpstreamFailure::Connect, "connect"),
    (UpstreamFailure::Timeout, "timeout"),
    (UpstreamFailure::Reset, "reset"),
];

impl RouteMetrics {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            statuses: (0..STATUSES).map(|_| AtomicU64::new(0)).collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
            failures: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Counts one response.
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate_gateway::metrics::Metrics;
    /// let metrics = Metrics::new();
    /// let users = metrics.route("users");
    /// users.record(200, Duration::from_millis(3));
    /// let text = metrics.render();
    /// assert!(text.contains("sluicegate_requests_total{route=\"users\",status=\"200\"} 1"));
    /// assert!(text.contains("sluicegate_request_duration_seconds_bucket{route=\"users\",le=\"0.005\"} 1"));
    /// ```
    pub fn record(&self, status: u16, elapsed: Duration) {
        if let Some(counter) = usize::from(status)
            .checked_sub(100)
            .and_then(|i| self.statuses.get(i))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| secs <= le) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts an answer the proxy made for a failed upstream.
    ///
    /// ```
    /// use sluicegate_gateway::metrics::Metrics;
    /// use sluicegate_gateway::proxy::UpstreamFailure;
    /// let metrics = Metrics::new();
    /// metrics.route("users").record_failure(UpstreamFailure::Timeout);
    /// assert!(metrics.render().contains(
    ///     "sluicegate_upstream_failures_total{route=\"users\",kind=\"timeout\"} 1"
    /// ));
    /// ```
    pub fn record_failure(&self, failure: UpstreamFailure) {
        if let Some(i) = FAILURE_KINDS.iter().position(|(kind, _)| *kind == failure) {
            self.failures[i].fetch_add(1, Ordering::Relaxed);
        }
    }
}

type StatsSource = Box<dyn Fn() -> Stats + Send + Sync>;

/// Every counter of one gateway.
pub struct Metrics {
    routes: parking_lot::Mutex<Vec<Arc<RouteMetrics>>>,
    limits: parking_lot::Mutex<Vec<(String, StatsSource)>>,
    breakers: parking_lot::Mutex<Vec<(String, Arc<Breaker>)>>,
    redis_limits: parking_lot::Mutex<Vec<RedisLimitEntry>>,
}

/// A rate limit counted on Redis: its plugin scope, counters, and the breaker around Redis.
type RedisLimitEntry = (String, Arc<RedisLimitMetrics>, Arc<Breaker>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            routes: parking_lot::Mutex::new(Vec::new()),
            limits: parking_lot::Mutex::new(Vec::new()),
            breakers: parking_lot::Mutex::new(Vec::new()),
            redis_limits: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// The counters of route `name`, made on first use.
    pub fn route(&self, name: &str) -> Arc<RouteMetrics> {
        let mut routes = self.routes.lock();
        if let Some(existing) = routes.iter().find(|r| r.name == name) {
            return existing.clone();
        }
        let made = Arc::new(RouteMetrics::new(name));
        routes.push(made.clone());
        made
    }

    /// Reports a rate limit's counters under `plugin`, read when metrics are rendered.
    pub fn add_limit(&self, plugin: &str, stats: impl Fn() -> Stats + Send + Sync + 'static) {
        self.limits
            .lock()
            .push((plugin.to_owned(), Box::new(stats)));
    }

    /// Reports a breaker's state under `service`.
    pub fn add_breaker(&self, service: &str, breaker: Arc<Breaker>) {
        self.breakers.lock().push((service.to_owned(), breaker));
    }

    /// Reports a rate limit counted on Redis under `plugin`: its decisions also count in
    /// `sluicegate_ratelimit_decisions_total`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sluicegate::breaker::{Breaker, BreakerConfig};
    /// use sluicegate_gateway::metrics::{DecisionSource, Metrics, RedisLimitMetrics};
    /// let metrics = Metrics::new();
    /// let counters = Arc::new(RedisLimitMetrics::default());
    /// let breaker = Arc::new(Breaker::new(BreakerConfig::new().consecutive_failures(3)).unwrap());
    /// metrics.add_redis_limit("global", counters.clone(), breaker);
    /// counters.decided(DecisionSource::Fallback, true);
    /// let text = metrics.render();
    /// assert!(text.contains(
    ///     "sluicegate_ratelimit_redis_decisions_total{plugin=\"global\",source=\"fallback\",decision=\"allowed\"} 1"
    /// ));
    /// assert!(text.contains("sluicegate_ratelimit_decisions_total{plugin=\"global\",decision=\"allowed\"} 1"));
    /// assert!(text.contains("sluicegate_ratelimit_redis_breaker_state{plugin=\"global\",state=\"closed\"} 1"));
    /// ```
    pub fn add_redis_limit(
        &self,
        plugin: &str,
        counters: Arc<RedisLimitMetrics>,
        breaker: Arc<Breaker>,
    ) {
        let reader = counters.clone();
        self.add_limit(plugin, move || reader.stats());
        self.redis_limits
            .lock()
            .push((plugin.to_owned(), counters, breaker));
    }

    /// The Prometheus text exposition (format 0.0.4) of every counter.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let routes = self.routes.lock().clone();
        out.push_str("# HELP sluicegate_requests_total Responses sent, by route and status.\n");
        out.push_str("# TYPE sluicegate_requests_total counter\n");
        for route in &routes {
            let name = escape(&route.name);
            for (i, counter) in route.statuses.iter().enumerate() {
                let n = counter.load(Ordering::Relaxed);
                if n > 0 {
                    let status = i + 100;
                    let _ = writeln!(
                        out,
                        "sluicegate_requests_total{{route=\"{name}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str(
            "# HELP sluicegate_request_duration_seconds Time from request to response head.\n",
        );
        out.push_str("# TYPE sluicegate_request_duration_seconds histogram\n");
        for route in &routes {
            let name = escape(&route.name);
            let mut cumulative = 0;
            for (le, bucket) in BUCKETS.iter().zip(&route.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "sluicegate_request_duration_seconds_bucket{{route=\"{name}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = route.count.load(Ordering::Relaxed);
            let sum = route.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "sluicegate_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "sluicegate_request_duration_seconds_sum{{route=\"{name}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "sluicegate_request_duration_seconds_count{{route=\"{name}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP sluicegate_upstream_failures_total Answers the proxy made for a failed upstream.\n",
        );
        out.push_str("# TYPE sluicegate_upstream_failures_total counter\n");
        for route in &routes {
            let name = escape(&route.name);
            for ((_, kind), counter) in FAILURE_KINDS.iter().zip(&route.failures) {
                let n = counter.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "sluicegate_upstream_failures_total{{route=\"{name}\",kind=\"{kind}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP sluicegate_ratelimit_decisions_total Requests admitted and rejected by each rate limit.\n",
        );
        out.push_str("# TYPE sluicegate_ratelimit_decisions_total counter\n");
        for (plugin, stats) in self.limits.lock().iter() {
            let stats = stats();
            let plugin = escape(plugin);
            for (decision, n) in [("allowed", stats.allowed), ("rejected", stats.rejected)] {
                let _ = writeln!(
                    out,
                    "sluicegate_ratelimit_decisions_total{{plugin=\"{plugin}\",decision=\"{decision}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP sluicegate_breaker_state Each circuit breaker's state (1 = current).\n",
        );
        out.push_str("# TYPE sluicegate_breaker_state gauge\n");
        for (service, breaker) in self.breakers.lock().iter() {
            write_states(
                &mut out,
                "sluicegate_breaker_state",
                "service",
                service,
                breaker,
            );
        }
        self.render_redis_limits(&mut out);
        out
    }
}

impl Metrics {
    fn render_redis_limits(&self, out: &mut String) {
        let limits = self.redis_limits.lock();
        if limits.is_empty() {
            return;
        }
        let (mut decisions, mut failures, mut syncs) =
            (String::new(), String::new(), String::new());
        let mut families = redis_limit::Families {
            decisions: &mut decisions,
            failures: &mut failures,
            syncs: &mut syncs,
        };
        for (plugin, counters, _) in limits.iter() {
            counters.render_counters(&escape(plugin), &mut families);
        }
        for (name, kind, help, body) in [
            (
                "sluicegate_ratelimit_redis_decisions_total",
                "counter",
                "Requests of Redis-backed limits, by who decided them.",
                &decisions,
            ),
            (
                "sluicegate_ratelimit_redis_failures_total",
                "counter",
                "Calls to Redis that failed or timed out.",
                &failures,
            ),
            (
                "sluicegate_ratelimit_redis_syncs_total",
                "counter",
                "Keys whose locally admitted usage was pushed to Redis, or kept for later.",
                &syncs,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            out.push_str(body);
        }
        out.push_str(
            "# HELP sluicegate_ratelimit_redis_breaker_state The state of the circuit breaker around each limit's Redis (1 = current).\n",
        );
        out.push_str("# TYPE sluicegate_ratelimit_redis_breaker_state gauge\n");
        for (plugin, _, breaker) in limits.iter() {
            write_states(
                out,
                "sluicegate_ratelimit_redis_breaker_state",
                "plugin",
                plugin,
                breaker,
            );
        }
    }
}

/// One gauge sample per breaker state: 1 for the current one, 0 for the others.
fn write_states(out: &mut String, metric: &str, label: &str, value: &str, breaker: &Breaker) {
    let current = breaker.state();
    let value = escape(value);
    for state in [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
    ] {
        let on = u8::from(state == current);
        let _ = writeln!(
            out,
            "{metric}{{{label}=\"{value}\",state=\"{}\"}} {on}",
            state.as_str()
        );
    }
}

/// Escapes a label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A tower layer that counts each response of a route.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    route: Arc<RouteMetrics>,
}

impl MetricsLayer {
    /// A layer counting into `route`'s counters.
    pub fn new(route: Arc<RouteMetrics>) -> Self {
        Self { route }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Measured<S> {
        Measured {
            inner,
            route: self.route.clone(),
        }
    }
}

/// The service [`MetricsLayer`] makes.
#[derive(Debug, Clone)]
pub struct Measured<S> {
    inner: S,
    route: Arc<RouteMetrics>,
}

impl<S, B, R> tower::Service<Request<B>> for Measured<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = MeasuredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        MeasuredFuture {
            inner: self.inner.call(request),
            route: self.route.clone(),
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Measured`].
    pub struct MeasuredFuture<F> {
        #[pin]
        inner: F,
        route: Arc<RouteMetrics>,
        started: Instant,
    }
}

impl<F, R, E> std::future::Future for MeasuredFuture<F>
where
    F: std::future::Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let status = match &result {
            Ok(response) => {
                if let Some(failure) = response.extensions().get::<UpstreamFailure>() {
                    this.route.record_failure(*failure);
                }
                response.status().as_u16()
            }
            Err(_) => 500,
        };
        this.route.record(status, this.started.elapsed());
        Poll::Ready(result)
    }
}
