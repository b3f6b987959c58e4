//! Plugins: what runs on a request, configured globally, on a service or on a route.
//!
//! Each plugin entry is Kong's: `name`, `config` (absent means every default), `enabled`
//! (default true; a disabled plugin is checked and then left out, so it overrides nothing),
//! and the metadata `tags`, `instance_name`, `id`, `created_at`, `updated_at`, which are
//! ignored. `protocols` must include `http`. A plugin name appears at most once per scope,
//! as in Kong. Plugins are declared where they apply, nested under their service or route;
//! Kong's `service:`, `route:` and `consumer:` references and `ordering` are refused.

mod circuit_breaker;
mod correlation_id;
mod jwt;
mod rate_limiting;
mod request_transformer;
mod template;

pub use circuit_breaker::CircuitBreakerPlugin;
pub use correlation_id::{CorrelationIdPlugin, IdGenerator};
pub use jwt::{JwtPlugin, RegisteredClaim};
pub use rate_limiting::{
    LimitBy, Period, Policy, RateLimitHeaders, RateLimitingPlugin, RedisConfig,
};
pub use request_transformer::{HeaderChanges, QueryChanges, RequestTransformerPlugin};
pub use template::{Template, TemplatePart};

use crate::config::ErrorKind;
use crate::config::decode::{At, Fields, Result, is_off};
use crate::config::yaml::{Node, Value};

/// One configured plugin.
#[derive(Debug, Clone)]
pub enum Plugin {
    /// `jwt`: authenticate requests by a signed token.
    Jwt(JwtPlugin),
    /// `rate-limiting`: limit requests per period.
    RateLimiting(RateLimitingPlugin),
    /// `request-transformer`: edit headers and query strings on the way upstream.
    RequestTransformer(RequestTransformerPlugin),
    /// `correlation-id`: tag every request with an identifier.
    CorrelationId(CorrelationIdPlugin),
    /// `circuit-breaker` (a Sluicegate extension): stop calling an upstream that keeps
    /// failing.
    CircuitBreaker(CircuitBreakerPlugin),
}

impl Plugin {
    /// The plugin names Sluicegate knows, as configuration spells them.
    pub const NAMES: [&'static str; 5] = [
        "jwt",
        "rate-limiting",
        "request-transformer",
        "correlation-id",
        "circuit-breaker",
    ];

    /// The plugin's name, as configuration spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Plugin::Jwt(_) => "jwt",
            Plugin::RateLimiting(_) => "rate-limiting",
            Plugin::RequestTransformer(_) => "request-transformer",
            Plugin::CorrelationId(_) => "correlation-id",
            Plugin::CircuitBreaker(_) => "circuit-breaker",
        }
    }

    /// Reads one plugin entry; `None` if it is disabled.
    fn decode(at: &At<'_>) -> Result<Option<Self>> {
        let mut f = at.fields()?;
        let name_at = f.require("name")?;
        let name = name_at.str()?;
        let enabled = f.or("enabled", true, At::bool)?;
        let empty = Node {
            value: Value::Map(Vec::new()),
            position: at.position(),
        };
        let config_at = f.get("config");
        let config_at = config_at.unwrap_or_else(|| at.detached(&empty, "config"));
        let plugin = match name {
            "jwt" => Plugin::Jwt(JwtPlugin::decode(&config_at)?),
            "rate-limiting" => Plugin::RateLimiting(RateLimitingPlugin::decode(&config_at)?),
            "request-transformer" => {
                Plugin::RequestTransformer(RequestTransformerPlugin::decode(&config_at)?)
            }
            "correlation-id" => Plugin::CorrelationId(CorrelationIdPlugin::decode(&config_at)?),
            "circuit-breaker" => Plugin::CircuitBreaker(CircuitBreakerPlugin::decode(&config_at)?),
            other => {
                return Err(name_at.error(
                    ErrorKind::Unsupported,
                    format!(
                        "plugin `{other}` is not supported; Sluicegate has {}",
                        Self::NAMES.join(", ")
                    ),
                ));
            }
        };
        f.opt("protocols", |at| {
            let protocols = at.list(|p| p.str().map(str::to_owned))?;
            if protocols.iter().any(|p| p == "http") {
                Ok(())
            } else {
                Err(at.error(
                    ErrorKind::Unsupported,
                    "the plugin must run on `http`: Sluicegate serves plain HTTP",
                ))
            }
        })?;
        for reference in ["service", "route", "consumer"] {
            f.unsupported(
                reference,
                is_off,
                "declare the plugin nested under the service or route it applies to",
            )?;
        }
        f.unsupported(
            "ordering",
            is_off,
            "plugins run in Sluicegate's fixed order",
        )?;
        for meta in ["tags", "instance_name", "id", "created_at", "updated_at"] {
            f.ignore(meta);
        }
        f.finish()?;
        Ok(enabled.then_some(plugin))
    }
}

/// Reads the `plugins` list of an entity: each name at most once; disabled ones left out.
pub(crate) fn decode_plugins(f: &mut Fields<'_>) -> Result<Vec<Plugin>> {
    let Some(list) = f.get("plugins") else {
        return Ok(Vec::new());
    };
    let mut names: Vec<&str> = Vec::new();
    let mut plugins = Vec::new();
    for item in list.items()? {
        let name = item.fields()?.require("name")?.str()?;
        if names.contains(&name) {
            return Err(item.error(
                ErrorKind::Duplicate,
                format!("plugin `{name}` is configured twice in the same place"),
            ));
        }
        names.push(name);
        plugins.extend(Plugin::decode(&item)?);
    }
    Ok(plugins)
}

/// The plugins that run on one route, after Kong's precedence: for each plugin name, the
/// route's configuration if it has one, else its service's, else the global one.
///
/// ```
/// use sluicegate_gateway::config::Config;
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: rate-limiting
///     config: {minute: 1000, policy: local}
///   - name: correlation-id
/// services:
///   - name: admin
///     url: http://127.0.0.1:9103
///     plugins:
///       - name: rate-limiting
///         config: {minute: 10, policy: local}
///     routes:
///       - name: admin
///         paths: [/api/v1/admin]
/// "#, "inline")?;
/// let (service, route) = config.route("admin").unwrap();
/// let plugins = config.plugins_for(service, route);
/// assert_eq!(plugins.rate_limiting.unwrap().minute, Some(10));
/// assert!(plugins.correlation_id.is_some());
/// assert!(plugins.jwt.is_none());
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EffectivePlugins<'a> {
    /// The `jwt` plugin in force, if any.
    pub jwt: Option<&'a JwtPlugin>,
    /// The `rate-limiting` plugin in force, if any.
    pub rate_limiting: Option<&'a RateLimitingPlugin>,
    /// The `request-transformer` plugin in force, if any.
    pub request_transformer: Option<&'a RequestTransformerPlugin>,
    /// The `correlation-id` plugin in force, if any.
    pub correlation_id: Option<&'a CorrelationIdPlugin>,
    /// The `circuit-breaker` plugin in force, if any.
    pub circuit_breaker: Option<&'a CircuitBreakerPlugin>,
}

impl<'a> EffectivePlugins<'a> {
    /// Resolves the scopes from widest to narrowest: later ones win, name by name.
    pub(crate) fn resolve(scopes: [&'a [Plugin]; 3]) -> Self {
        let mut effective = Self::default();
        for plugin in scopes.into_iter().flatten() {
            match plugin {
                Plugin::Jwt(p) => effective.jwt = Some(p),
                Plugin::RateLimiting(p) => effective.rate_limiting = Some(p),
                Plugin::RequestTransformer(p) => effective.request_transformer = Some(p),
                Plugin::CorrelationId(p) => effective.correlation_id = Some(p),
                Plugin::CircuitBreaker(p) => effective.circuit_breaker = Some(p),
            }
        }
        effective
    }
}
