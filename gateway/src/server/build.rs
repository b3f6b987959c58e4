//! Turning a [`Config`] into one tower stack per route.
//!
//! Each route's stack is, from the outside in: metrics, correlation id, JWT (with its required
//! scopes), rate limit, request transformer, circuit breaker, proxy: Kong's plugin order, with
//! the breaker next to the upstream it guards. Plugins are resolved with Kong's precedence
//! (route over service over global, per plugin name).
//!
//! State follows the plugin that configured it, as in Kong: one limiter (or, with
//! `policy: redis`, one Redis connection and key prefix) per `rate-limiting` entry (a service-level limit is shared by the service's routes; a global one by every
//! route), one token cache per `jwt` entry. Breakers are per upstream: each service gets its
//! own breaker from a global or service-level `circuit-breaker` entry, and a route-level entry
//! gives that route one of its own.

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use sluicegate::breaker::Breaker;
use tower::ServiceBuilder;
use tower::util::{BoxCloneSyncService, Either};

use crate::body::Body;
use crate::breaker::CircuitBreakerLayer;
use crate::config::{self, Config, Plugin, Route, RoutePath, Scheme, Service};
use crate::correlation::CorrelationLayer;
use crate::jwt::JwtAuthLayer;
use crate::limit::redis::{RedisRateLimitLayer, RedisSettings};
use crate::limit::{self, LimitBy, RateLimitLayer, RateLimitSettings};
use crate::metrics::{Metrics, MetricsLayer, RedisLimitMetrics};
use crate::peer::TrustedProxies;
use crate::proxy::route::{HostPattern, PathPattern, RouteRule};
use crate::proxy::{Proxy, Timeouts, Upstream};
use crate::transform::RequestTransformLayer;

/// One route's whole stack.
pub type RouteService = BoxCloneSyncService<Request<Incoming>, Response<Body>, Infallible>;

/// Why a configuration that parsed cannot be served.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// The service's upstream speaks a scheme the proxy does not.
    UnsupportedScheme {
        /// The service's name.
        service: String,
        /// The scheme.
        scheme: Scheme,
    },
    /// A `jwt` plugin could not be set up with the consumers' credentials.
    Jwt {
        /// Where the plugin applies.
        scope: String,
        /// Why.
        error: crate::jwt::SetupError,
    },
    /// A `rate-limiting` plugin's limits were refused by the engine.
    Limit {
        /// Where the plugin applies.
        scope: String,
        /// Why.
        error: sluicegate::ConfigError,
    },
    /// A `rate-limiting` plugin counted on Redis could not be set up.
    Redis {
        /// Where the plugin applies.
        scope: String,
        /// Why.
        error: crate::limit::redis::SetupError,
    },
    /// A `circuit-breaker` plugin's settings were refused by the engine.
    Breaker {
        /// Where the plugin applies.
        scope: String,
        /// Why.
        error: sluicegate::breaker::ConfigError,
    },
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedScheme { service, scheme } => write!(
                f,
                "service `{service}`: {scheme} upstreams are not supported yet; use http"
            ),
            Self::Jwt { scope, error } => write!(f, "jwt plugin on {scope}: {error}"),
            Self::Limit { scope, error } => {
                write!(f, "rate-limiting plugin on {scope}: {error}")
            }
            Self::Redis { scope, error } => {
                write!(f, "rate-limiting plugin on {scope}: {error}")
            }
            Self::Breaker { scope, error } => {
                write!(f, "circuit-breaker plugin on {scope}: {error}")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// A `rate-limiting` entry's layer: counted in this process, or on Redis.
type LimitLayer = Either<RateLimitLayer<LimitBy>, RedisRateLimitLayer<LimitBy>>;

/// A route, ready to match and serve.
pub(crate) struct BuiltRoute {
    pub(crate) rule: RouteRule,
    pub(crate) service: RouteService,
}

/// State shared between the routes built from one configuration.
struct Shared<'a> {
    config: &'a Config,
    metrics: &'a Metrics,
    trusted: Arc<TrustedProxies>,
    jwt: Vec<(*const config::JwtPlugin, JwtAuthLayer)>,
    limits: Vec<(*const config::RateLimitingPlugin, LimitLayer)>,
    breakers: Vec<((String, *const config::CircuitBreakerPlugin), Arc<Breaker>)>,
}

/// Builds every route of `config`.
pub(crate) fn routes(
    config: &Config,
    metrics: &Metrics,
    trusted: Arc<TrustedProxies>,
) -> Result<Vec<BuiltRoute>, BuildError> {
    let mut shared = Shared {
        config,
        metrics,
        trusted,
        jwt: Vec::new(),
        limits: Vec::new(),
        breakers: Vec::new(),
    };
    let mut built = Vec::new();
    for service in &config.services {
        if service.scheme != Scheme::Http {
            return Err(BuildError::UnsupportedScheme {
                service: service.name.clone(),
                scheme: service.scheme,
            });
        }
        // Routes of a service share its connection pools.
        let proxy = Proxy::new(Arc::new(upstream(service))).trusted_proxies(shared.trusted.clone());
        for route in &service.routes {
            let stack = shared.stack(service, route, &proxy)?;
            built.push(BuiltRoute {
                rule: rule(route),
                service: stack,
            });
        }
    }
    Ok(built)
}

fn upstream(service: &Service) -> Upstream {
    Upstream {
        name: service.name.clone(),
        host: service.host.clone(),
        port: service.port,
        path: service.base_path().to_owned(),
        timeouts: Timeouts {
            connect: service.connect_timeout,
            write: service.write_timeout,
            read: service.read_timeout,
        },
        retries: u32::from(service.retries),
    }
}

fn rule(route: &Route) -> RouteRule {
    RouteRule {
        paths: route
            .paths
            .iter()
            .map(|p| match p {
                RoutePath::Prefix(prefix) => PathPattern::Prefix(prefix.clone()),
                RoutePath::Regex(regex) => PathPattern::Regex(regex.clone()),
            })
            .collect(),
        methods: route.methods.clone(),
        hosts: route.hosts.iter().map(|h| HostPattern::parse(h)).collect(),
    }
}

/// Where a plugin entry was written: `route x`, `service y` or `the global plugins`.
fn scope(service: &Service, route: &Route, entry: *const ()) -> String {
    let owns = |plugins: &[Plugin]| {
        plugins.iter().any(|p| {
            let inner: *const () = match p {
                Plugin::Jwt(x) => std::ptr::from_ref(x).cast(),
                Plugin::RateLimiting(x) => std::ptr::from_ref(x).cast(),
                Plugin::RequestTransformer(x) => std::ptr::from_ref(x).cast(),
                Plugin::CorrelationId(x) => std::ptr::from_ref(x).cast(),
                Plugin::CircuitBreaker(x) => std::ptr::from_ref(x).cast(),
            };
            inner == entry
        })
    };
    if owns(&route.plugins) {
        format!("route {}", route.name)
    } else if owns(&service.plugins) {
        format!("service {}", service.name)
    } else {
        "global".to_owned()
    }
}

fn limit_settings(plugin: &config::RateLimitingPlugin) -> RateLimitSettings {
    let mut settings = RateLimitSettings::new(plugin.limits());
    settings.headers = limit::HeaderFamilies {
        per_period: plugin.headers.contains(&config::RateLimitHeaders::Kong),
        draft: plugin.headers.contains(&config::RateLimitHeaders::Draft),
        ietf: plugin.headers.contains(&config::RateLimitHeaders::Ietf),
    };
    settings.hide_client_headers = plugin.hide_client_headers;
    settings.error_code = plugin.error_code;
    settings.error_message.clone_from(&plugin.error_message);
    settings.fault_tolerant = plugin.fault_tolerant;
    settings
}

fn limit_by(by: &config::LimitBy) -> LimitBy {
    match by {
        config::LimitBy::Consumer => LimitBy::Consumer,
        config::LimitBy::Credential => LimitBy::Credential,
        config::LimitBy::Ip => LimitBy::Ip,
        config::LimitBy::Service => LimitBy::Service,
        config::LimitBy::Header(name) => LimitBy::Header(name.clone()),
        config::LimitBy::Path(path) => LimitBy::Path(path.clone()),
    }
}

impl Shared<'_> {
    fn stack(
        &mut self,
        service: &Service,
        route: &Route,
        proxy: &Proxy,
    ) -> Result<RouteService, BuildError> {
        let plugins = self.config.plugins_for(service, route);
        let jwt = plugins
            .jwt
            .map(|p| self.jwt_layer(service, route, p))
            .transpose()?;
        let limit = plugins
            .rate_limiting
            .map(|p| self.limit_layer(service, route, p))
            .transpose()?;
        let breaker = plugins
            .circuit_breaker
            .map(|p| self.breaker_layer(service, route, p))
            .transpose()?;
        let correlation = plugins
            .correlation_id
            .map_or_else(CorrelationLayer::default, CorrelationLayer::from_plugin);
        let transform = plugins.request_transformer.map(RequestTransformLayer::new);
        let proxy = proxy
            .clone()
            .strip_path(route.strip_path)
            .preserve_host(route.preserve_host);
        let stack = ServiceBuilder::new()
            .layer(MetricsLayer::new(self.metrics.route(&route.name)))
            .layer(correlation)
            .option_layer(jwt)
            .option_layer(limit)
            .option_layer(transform)
            .option_layer(breaker)
            .service(proxy);
        Ok(BoxCloneSyncService::new(stack))
    }

    fn jwt_layer(
        &mut self,
        service: &Service,
        route: &Route,
        plugin: &config::JwtPlugin,
    ) -> Result<JwtAuthLayer, BuildError> {
        let key = std::ptr::from_ref(plugin);
        if let Some((_, layer)) = self.jwt.iter().find(|(k, _)| *k == key) {
            return Ok(layer.clone());
        }
        let layer =
            JwtAuthLayer::new(plugin, &self.config.consumers).map_err(|error| BuildError::Jwt {
                scope: scope(service, route, key.cast()),
                error,
            })?;
        self.jwt.push((key, layer.clone()));
        Ok(layer)
    }

    fn limit_layer(
        &mut self,
        service: &Service,
        route: &Route,
        plugin: &config::RateLimitingPlugin,
    ) -> Result<LimitLayer, BuildError> {
        let key = std::ptr::from_ref(plugin);
        if let Some((_, layer)) = self.limits.iter().find(|(k, _)| *k == key) {
            return Ok(layer.clone());
        }
        let scope = scope(service, route, key.cast());
        let layer = match (&plugin.policy, &plugin.redis) {
            (config::Policy::Redis, Some(server)) => {
                let redis = RedisSettings {
                    server: server.clone(),
                    sync_rate: plugin.sync_rate,
                    prefix: format!("sluicegate:{}:", scope.replace(' ', "=")),
                };
                let counters = Arc::new(RedisLimitMetrics::default());
                let layer = RedisRateLimitLayer::new(
                    limit_settings(plugin),
                    limit_by(&plugin.limit_by),
                    &redis,
                    counters.clone(),
                )
                .map_err(|error| BuildError::Redis {
                    scope: scope.clone(),
                    error,
                })?;
                let breaker = layer.policy().store().breaker().clone();
                self.metrics.add_redis_limit(&scope, counters, breaker);
                Either::Right(layer)
            }
            // Configuration refuses `policy: redis` without a server.
            _ => {
                let layer = RateLimitLayer::new(limit_settings(plugin), limit_by(&plugin.limit_by))
                    .map_err(|error| BuildError::Limit {
                        scope: scope.clone(),
                        error,
                    })?;
                let reader = layer.clone();
                self.metrics.add_limit(&scope, move || reader.stats());
                Either::Left(layer)
            }
        };
        self.limits.push((key, layer.clone()));
        Ok(layer)
    }

    fn breaker_layer(
        &mut self,
        service: &Service,
        route: &Route,
        plugin: &config::CircuitBreakerPlugin,
    ) -> Result<CircuitBreakerLayer, BuildError> {
        let key = std::ptr::from_ref(plugin);
        let scope = scope(service, route, key.cast());
        let name = if scope.starts_with("route ") {
            format!("{}/{}", service.name, route.name)
        } else {
            service.name.clone()
        };
        if let Some((_, breaker)) = self
            .breakers
            .iter()
            .find(|((n, k), _)| *n == name && *k == key)
        {
            return Ok(CircuitBreakerLayer::new(breaker.clone()));
        }
        let log_name = name.clone();
        let breaker = Breaker::builder(plugin.breaker.clone())
            .on_transition(
                move |t| tracing::warn!(service = %log_name, transition = %t, "circuit breaker"),
            )
            .build()
            .map_err(|error| BuildError::Breaker { scope, error })?;
        let breaker = Arc::new(breaker);
        self.metrics.add_breaker(&name, breaker.clone());
        self.breakers.push(((name, key), breaker.clone()));
        Ok(CircuitBreakerLayer::new(breaker))
    }
}
