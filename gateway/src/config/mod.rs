//! The gateway's configuration: Kong's declarative YAML format (`_format_version: "3.0"`),
//! checked in full before the gateway serves anything.
//!
//! ```yaml
//! _format_version: "3.0"
//! services:
//!   - name: users
//!     url: http://127.0.0.1:9101
//!     routes:
//!       - name: users
//!         paths: [/api/v1/users]
//!     plugins:
//!       - name: rate-limiting
//!         config: {minute: 100, policy: local}
//! consumers:
//!   - username: alice
//!     jwt_secrets:
//!       - {key: alice-issuer, algorithm: HS256, secret: "a long shared secret"}
//! plugins: []      # global plugins
//! ```
//!
//! [`Config::load`] refuses, with the file, the YAML path, the line and the column
//! ([`Error`]): text that is not YAML; unknown keys; values of the wrong type; duplicate keys,
//! names, usernames, `custom_id`s and credential keys; routes that match nothing; malformed
//! URLs, paths, hosts, methods, header names and regexes; PEM keys that do not parse as a
//! public key of their credential's algorithm; a longer rate-limit period with a lower
//! limit; `limit_by: header` or `path` without `header_name` or `path`; `policy: redis`
//! without a Redis `host` (as Kong does), `sync_rate` other than -1 without it, and Redis over
//! TLS, Sentinel or Cluster; and whatever Kong has that Sluicegate does not do, each with the
//! reason.
//!
//! Kong's defaults apply to every field left out; each type's documentation lists them with
//! Sluicegate's deviations and extensions (the `circuit-breaker` plugin, JWT `leeway` and
//! `scopes`, `$(uuid)` in transformer values, rate-limit `headers`). Plugins resolve with
//! Kong's precedence through [`Config::plugins_for`], and [`upstream_path`] computes the
//! upstream path as Kong does.

mod consumer;
mod decode;
mod error;
mod keys;
mod names;
mod plugin;
mod service;
mod upstream_path;
mod yaml;

use std::path::Path;

pub use consumer::{Consumer, JwtAlgorithm, JwtSecret};
pub use error::{Error, ErrorKind, Position};
pub use plugin::{
    CircuitBreakerPlugin, CorrelationIdPlugin, EffectivePlugins, HeaderChanges, IdGenerator,
    JwtPlugin, LimitBy, Period, Plugin, Policy, QueryChanges, RateLimitHeaders, RateLimitingPlugin,
    RedisConfig, RegisteredClaim, RequestTransformerPlugin, Template, TemplatePart,
};
pub use service::{DEFAULT_RETRIES, DEFAULT_TIMEOUT, Route, RoutePath, Scheme, Service};
pub use upstream_path::upstream_path;

use decode::{At, Result, is_off};
use plugin::decode_plugins;

/// The largest configuration file read: 16 MiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// The only `_format_version` read: Kong 3's.
pub const FORMAT_VERSION: &str = "3.0";

/// Kong entities Sluicegate does not have, refused with this reason when given.
const UNSUPPORTED_ENTITIES: [(&str, &str); 12] = [
    ("routes", "declare routes nested under their service"),
    ("upstreams", "a service names its host and port directly"),
    ("targets", "a service names its host and port directly"),
    ("certificates", "Sluicegate listens for plain HTTP"),
    ("ca_certificates", "Sluicegate listens for plain HTTP"),
    ("snis", "Sluicegate listens for plain HTTP"),
    ("vaults", "secrets are written in the file"),
    ("consumer_groups", "limits apply per consumer"),
    ("keys", "credentials carry their keys inline"),
    ("key_sets", "credentials carry their keys inline"),
    ("filter_chains", "Sluicegate runs no WebAssembly filters"),
    ("workspaces", "one file is one configuration"),
];

/// A whole, checked gateway configuration.
///
/// ```
/// use sluicegate_gateway::config::Config;
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// services:
///   - name: health
///     url: http://127.0.0.1:9104
///     routes:
///       - name: health
///         paths: [/health]
/// "#, "inline")?;
/// let (service, route) = config.route("health").unwrap();
/// assert_eq!(service.port, 9104);
/// assert!(route.strip_path);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The services, in file order.
    pub services: Vec<Service>,
    /// The consumers, in file order.
    pub consumers: Vec<Consumer>,
    /// The global plugins, which apply to every route unless overridden.
    pub plugins: Vec<Plugin>,
}

impl Config {
    /// Reads and checks the configuration file at `path`.
    ///
    /// Errors name the file as given. Files over [`MAX_FILE_BYTES`] are refused.
    pub fn load(path: impl AsRef<Path>) -> std::result::Result<Self, Error> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let io_error =
            |message: String| Error::new(ErrorKind::Io, "", None, message).in_origin(&origin);
        let size = std::fs::metadata(path)
            .map_err(|err| io_error(format!("cannot read the configuration: {err}")))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(io_error(format!(
                "the configuration is {size} bytes; at most {MAX_FILE_BYTES} are read"
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|err| io_error(format!("cannot read the configuration: {err}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|err| io_error(format!("the configuration is not UTF-8: {err}")))?;
        Self::from_yaml(&text, &origin)
    }

    /// Checks a configuration given as YAML text; `origin` names it in errors (a file name,
    /// or something like `inline`).
    pub fn from_yaml(text: &str, origin: &str) -> std::result::Result<Self, Error> {
        let root = yaml::parse(text).map_err(|err| {
            Error::new(ErrorKind::Syntax, "", err.position, err.message).in_origin(origin)
        })?;
        Self::decode(&At::root(&root)).map_err(|err| err.in_origin(origin))
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The route named `name`, with its service.
    pub fn route(&self, name: &str) -> Option<(&Service, &Route)> {
        self.routes().find(|(_, route)| route.name == name)
    }

    /// Every route with its service, in file order.
    pub fn routes(&self) -> impl Iterator<Item = (&Service, &Route)> {
        self.services
            .iter()
            .flat_map(|service| service.routes.iter().map(move |route| (service, route)))
    }

    /// The consumer named `username`.
    pub fn consumer(&self, username: &str) -> Option<&Consumer> {
        self.consumers.iter().find(|c| c.username == username)
    }

    /// The plugins in force on `route` of `service`: for each plugin name, the route's, else
    /// the service's, else the global one (Kong's precedence).
    pub fn plugins_for<'a>(
        &'a self,
        service: &'a Service,
        route: &'a Route,
    ) -> EffectivePlugins<'a> {
        EffectivePlugins::resolve([&self.plugins, &service.plugins, &route.plugins])
    }

    fn decode(root: &At<'_>) -> Result<Self> {
        if root.is_null() {
            return Err(root.invalid(format!(
                "the configuration is empty; it starts with `_format_version: \"{FORMAT_VERSION}\"`"
            )));
        }
        let mut f = root.fields()?;
        f.req("_format_version", check_format_version)?;
        f.opt("_transform", At::bool)?;
        let services_at = f.get("services");
        let services = match &services_at {
            Some(at) => at.list(|s| Service::decode(&s))?,
            None => Vec::new(),
        };
        let consumers_at = f.get("consumers");
        let consumers = match &consumers_at {
            Some(at) => at.list(|c| Consumer::decode(&c))?,
            None => Vec::new(),
        };
        let plugins = decode_plugins(&mut f)?;
        for (entity, reason) in UNSUPPORTED_ENTITIES {
            f.unsupported(entity, is_off, reason)?;
        }
        f.finish()?;
        if let Some(at) = &services_at {
            unique(at, &[], "name", "service name")?;
            unique(at, &["routes"], "name", "route name")?;
        }
        if let Some(at) = &consumers_at {
            unique(at, &[], "username", "consumer username")?;
            unique(at, &[], "custom_id", "consumer custom_id")?;
            unique(at, &["jwt_secrets"], "key", "JWT credential key")?;
        }
        let config = Config {
            services,
            consumers,
            plugins,
        };
        if let Some(at) = &consumers_at
            && config.any_jwt_plugin(|jwt| jwt.secret_is_base64)
        {
            check_secrets_are_base64(at, &config.consumers)?;
        }
        Ok(config)
    }

    /// Whether some `jwt` plugin, anywhere, satisfies `test`.
    fn any_jwt_plugin(&self, test: impl Fn(&JwtPlugin) -> bool) -> bool {
        let services = self.services.iter().flat_map(|service| {
            let routes = service.routes.iter().flat_map(|route| &route.plugins);
            service.plugins.iter().chain(routes)
        });
        self.plugins
            .iter()
            .chain(services)
            .any(|plugin| matches!(plugin, Plugin::Jwt(jwt) if test(jwt)))
    }
}

/// Refuses HS256 secrets that are not base64, when a `jwt` plugin says they are.
fn check_secrets_are_base64(list: &At<'_>, consumers: &[Consumer]) -> Result<()> {
    for (consumer_at, consumer) in list.items()?.iter().zip(consumers) {
        let Some(secrets_at) = consumer_at.fields()?.get("jwt_secrets") else {
            continue;
        };
        for (secret_at, secret) in secrets_at.items()?.iter().zip(&consumer.jwt_secrets) {
            if secret.algorithm.is_asymmetric() {
                continue;
            }
            if let Some(at) = secret_at.fields()?.get("secret") {
                keys::check_base64_secret(&at)?;
            }
        }
    }
    Ok(())
}

fn check_format_version(at: &At<'_>) -> Result<()> {
    match at.str() {
        Ok(FORMAT_VERSION) => Ok(()),
        Ok(other) => Err(at.error(
            ErrorKind::Unsupported,
            format!(
                "format version `{other}` is not read; Sluicegate reads Kong's \"{FORMAT_VERSION}\""
            ),
        )),
        Err(_) => Err(at.wrong_type(&format!(
            "the string \"{FORMAT_VERSION}\" (quote it, or YAML reads a number)"
        ))),
    }
}

/// Refuses a repeated `key` value among the items of the list at `list`, or among the
/// items of their nested lists (`nested`: the keys leading to them).
fn unique(list: &At<'_>, nested: &[&'static str], key: &'static str, what: &str) -> Result<()> {
    let mut items = list.items()?;
    for &inner in nested {
        let mut deeper = Vec::new();
        for item in &items {
            if let Some(inner_list) = item.fields()?.get(inner) {
                deeper.extend(inner_list.items()?);
            }
        }
        items = deeper;
    }
    let mut seen: Vec<(&str, At<'_>)> = Vec::new();
    for item in &items {
        let Some(value_at) = item.fields()?.get(key) else {
            continue;
        };
        let value = value_at.str()?;
        if let Some((_, first)) = seen.iter().find(|(v, _)| *v == value) {
            return Err(value_at.error(
                ErrorKind::Duplicate,
                format!(
                    "{what} `{value}` is already used at {} (line {})",
                    first.path(),
                    first.position().line
                ),
            ));
        }
        seen.push((value, value_at));
    }
    Ok(())
}
