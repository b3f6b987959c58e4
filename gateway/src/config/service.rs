//! Services (the upstreams) and the routes that lead to them.

use std::fmt;
use std::time::Duration;

use http::Method;
use http::uri::Authority;
use regex::Regex;

use crate::config::ErrorKind;
use crate::config::decode::{At, Fields, Result, is_off};
use crate::config::names::{check_name, check_uri_path, uri_path_problem};
use crate::config::plugin::{Plugin, decode_plugins};
use crate::config::yaml::Value;

/// Kong's default for the three upstream timeouts: 60 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(60_000);

/// Kong's default number of retries of a failed connection to the upstream.
pub const DEFAULT_RETRIES: u16 = 5;

/// The longest timeout Kong accepts, in milliseconds (2^31 - 2).
const MAX_TIMEOUT_MS: u64 = (1 << 31) - 2;

/// Kong's largest `retries`.
const MAX_RETRIES: u16 = 32_767;

/// How the gateway speaks to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (default port 80).
    Http,
    /// HTTP over TLS (default port 443).
    Https,
}

impl Scheme {
    /// The port a URL of this scheme means when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    const CHOICES: [(&'static str, Scheme); 2] = [("http", Scheme::Http), ("https", Scheme::Https)];
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An upstream service, as Kong declares one.
///
/// The address is given either as `url` (Kong's shorthand) or as `protocol`, `host`, `port`
/// and `path`, not both. With `url`, a missing port is the scheme's (80 or 443); with the
/// separate keys it is 80, as in Kong. Timeouts are whole milliseconds (1 ..= 2^31 - 2,
/// default 60 000 each) and `retries` is 0 ..= 32 767 (default 5).
///
/// Sluicegate requires a `name` on every service (Kong does not): breakers, limits and
/// metrics are keyed by it. `tags` and the export metadata `id`, `created_at` and
/// `updated_at` are accepted and ignored; TLS client settings are refused.
///
/// ```
/// use std::time::Duration;
/// use sluicegate_gateway::config::{Config, Scheme};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// services:
///   - name: users
///     url: http://127.0.0.1:9101/v1
///     read_timeout: 5000
///     routes:
///       - name: users
///         paths: [/api/v1/users]
/// "#, "inline")?;
/// let users = &config.services[0];
/// assert_eq!((users.scheme, users.host.as_str(), users.port), (Scheme::Http, "127.0.0.1", 9101));
/// assert_eq!(users.path.as_deref(), Some("/v1"));
/// assert_eq!(users.read_timeout, Duration::from_secs(5));
/// assert_eq!(users.connect_timeout, Duration::from_secs(60));
/// assert_eq!(users.retries, 5);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Service {
    /// The service's unique name.
    pub name: String,
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The upstream host name or IP address (IPv6 in brackets), as written.
    pub host: String,
    /// The upstream port.
    pub port: u16,
    /// The path prefixed to every upstream request, if any (Kong then uses `/`).
    pub path: Option<String>,
    /// How long to wait for a connection to the upstream.
    pub connect_timeout: Duration,
    /// How long to wait between two reads from the upstream.
    pub read_timeout: Duration,
    /// How long to wait between two writes to the upstream.
    pub write_timeout: Duration,
    /// How many times to retry a connection that failed.
    pub retries: u16,
    /// The routes leading to this service.
    pub routes: Vec<Route>,
    /// The plugins configured on the service, each name at most once.
    pub plugins: Vec<Plugin>,
}

impl Service {
    /// The path upstream requests start from: [`path`](Self::path), or `/` without one.
    pub fn base_path(&self) -> &str {
        self.path.as_deref().unwrap_or("/")
    }

    /// `scheme://host:port`, the origin upstream requests go to.
    pub fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }

    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let name = f.req("name", check_name)?;
        let (scheme, host, port, path) = decode_address(&mut f)?;
        let timeout = |f: &mut Fields<'_>, key| {
            f.or(key, DEFAULT_TIMEOUT, |at| {
                at.integer(1..=MAX_TIMEOUT_MS).map(Duration::from_millis)
            })
        };
        let connect_timeout = timeout(&mut f, "connect_timeout")?;
        let read_timeout = timeout(&mut f, "read_timeout")?;
        let write_timeout = timeout(&mut f, "write_timeout")?;
        let retries = f.or("retries", DEFAULT_RETRIES, |at| at.integer(0..=MAX_RETRIES))?;
        let routes = f.or("routes", Vec::new(), |at| at.list(|r| Route::decode(&r)))?;
        let plugins = decode_plugins(&mut f)?;
        f.unsupported(
            "enabled",
            |v| *v == Value::Bool(true),
            "disable a service by removing it",
        )?;
        for key in [
            "client_certificate",
            "ca_certificates",
            "tls_verify",
            "tls_verify_depth",
        ] {
            f.unsupported(
                key,
                is_off,
                "Sluicegate does not present client certificates",
            )?;
        }
        for key in ["tags", "id", "created_at", "updated_at"] {
            f.ignore(key);
        }
        f.finish()?;
        Ok(Service {
            name,
            scheme,
            host,
            port,
            path,
            connect_timeout,
            read_timeout,
            write_timeout,
            retries,
            routes,
            plugins,
        })
    }
}

type Address = (Scheme, String, u16, Option<String>);

/// The service's address, from `url` or from `protocol`, `host`, `port` and `path`.
fn decode_address(f: &mut Fields<'_>) -> Result<Address> {
    let url = f.get("url");
    let parts = ["protocol", "host", "port", "path"].map(|key| f.get(key));
    match (url, parts.iter().flatten().next()) {
        (Some(url), None) => parse_url(&url),
        (Some(_), Some(part)) => Err(part.invalid(
            "give the address either as `url` or as `protocol`/`host`/`port`/`path`, not both",
        )),
        (None, _) => {
            let [protocol, host, port, path] = parts;
            let Some(host) = host else {
                return Err(f.at().error(
                    ErrorKind::MissingKey,
                    "missing required key `url` (or `host`)",
                ));
            };
            let scheme = protocol.map_or(Ok(Scheme::Http), |at| at.one_of(&Scheme::CHOICES))?;
            let host_text = host.non_empty_string()?;
            Authority::try_from(host_text.as_str())
                .ok()
                .filter(|a| a.host() == host_text)
                .ok_or_else(|| {
                    host.invalid(format!("`{host_text}` is not a host name or IP address"))
                })?;
            let port = port.map_or(Ok(80), |at| at.integer(0..=u16::MAX))?;
            let path = path.map(|at| check_uri_path(&at)).transpose()?;
            Ok((scheme, host_text, port, path))
        }
    }
}

/// Splits `scheme://host[:port][/path]`.
fn parse_url(at: &At<'_>) -> Result<Address> {
    let url = at.str()?;
    let bad = |why: &str| at.invalid(format!("`{url}` is not a usable upstream URL: {why}"));
    let (scheme_text, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected scheme://host[:port][/path]"))?;
    let scheme = match scheme_text.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(bad("the scheme must be http or https")),
    };
    if rest.contains(['?', '#']) {
        return Err(bad(
            "a query string or fragment has no place in a service URL",
        ));
    }
    let (authority_text, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], Some(&rest[slash..])),
        None => (rest, None),
    };
    if authority_text.contains('@') {
        return Err(bad("credentials in the URL are not supported"));
    }
    let authority = Authority::try_from(authority_text)
        .ok()
        .filter(|a| !a.host().is_empty())
        .ok_or_else(|| bad("the host is missing or malformed"))?;
    let after_host = authority_text
        .get(authority.host().len()..)
        .unwrap_or_default();
    let port = match after_host.strip_prefix(':') {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| bad("the port must be a number from 0 to 65535"))?,
        None => scheme.default_port(),
    };
    let path = path
        .map(|p| uri_path_problem(p).map_or(Ok(p.to_owned()), |why| Err(bad(&why))))
        .transpose()?;
    Ok((scheme, authority.host().to_owned(), port, path))
}

/// One entry of a route's `paths`.
#[derive(Debug, Clone)]
pub enum RoutePath {
    /// A plain path, matched as a raw string prefix: `/route` matches `/routereq` too, as in
    /// Kong.
    Prefix(String),
    /// A `~`-prefixed regular expression, anchored at the start of the path (compiled as
    /// `^(?:pattern)`). The syntax is Rust's `regex`, which has no look-around or
    /// back-references; patterns using them are refused at load.
    Regex(Regex),
}

impl RoutePath {
    /// The part of `path` this route path matches (all of the prefix, or the regex's match
    /// at the start), or `None`. The match is what `strip_path` strips; see
    /// [`upstream_path`](crate::config::upstream_path).
    ///
    /// ```
    /// use sluicegate_gateway::config::RoutePath;
    /// let prefix = RoutePath::Prefix("/api/v1/users".into());
    /// assert_eq!(prefix.matches("/api/v1/users/7"), Some("/api/v1/users"));
    /// assert_eq!(prefix.matches("/api/v1/orders"), None);
    /// let regex = RoutePath::Regex(regex::Regex::new(r"^(?:/users/\d+)").unwrap());
    /// assert_eq!(regex.matches("/users/42/orders"), Some("/users/42"));
    /// ```
    pub fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self {
            RoutePath::Prefix(prefix) => path
                .starts_with(prefix.as_str())
                .then(|| &path[..prefix.len()]),
            RoutePath::Regex(regex) => regex
                .find(path)
                .filter(|m| m.start() == 0)
                .map(|m| m.as_str()),
        }
    }

    fn decode(at: &At<'_>) -> Result<Self> {
        let text = at.non_empty_string()?;
        match text.strip_prefix('~') {
            Some(pattern) => Regex::new(&format!("^(?:{pattern})"))
                .map(RoutePath::Regex)
                .map_err(|err| {
                    at.invalid(format!(
                        "`{pattern}` is not a valid regular expression: {err}"
                    ))
                }),
            None => check_uri_path(at).map(RoutePath::Prefix),
        }
    }
}

impl fmt::Display for RoutePath {
    /// As written in the configuration: `/users` or `~/users/\d+`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePath::Prefix(prefix) => f.write_str(prefix),
            RoutePath::Regex(regex) => {
                let source = regex.as_str();
                let pattern = source
                    .strip_prefix("^(?:")
                    .and_then(|s| s.strip_suffix(')'))
                    .unwrap_or(source);
                write!(f, "~{pattern}")
            }
        }
    }
}

/// A route: which requests go to its service.
///
/// A route needs at least one of `paths`, `hosts` and `methods`. `strip_path` defaults to
/// true and `preserve_host` to false, as in Kong; `regex_priority` (default 0) orders regex
/// paths, highest first. Kong's `path_handling` is accepted only as `v0`, the behaviour of
/// Kong 3's routers and of [`upstream_path`](crate::config::upstream_path). `protocols` must
/// include `http` (Sluicegate listens for plain HTTP). `request_buffering` and
/// `response_buffering` are accepted and ignored: bodies always stream. Like services,
/// routes must be named.
#[derive(Debug, Clone)]
pub struct Route {
    /// The route's unique name.
    pub name: String,
    /// Request paths the route matches (any one of them).
    pub paths: Vec<RoutePath>,
    /// Host names the route matches, lowercased; a `*` may stand for the leftmost or
    /// rightmost label (`*.example.com`, `example.*`), and a `:port` may follow.
    pub hosts: Vec<String>,
    /// Methods the route matches; empty matches any.
    pub methods: Vec<Method>,
    /// Whether the matched part of the path is removed before proxying.
    pub strip_path: bool,
    /// Whether the client's `Host` header goes upstream instead of the service's host.
    pub preserve_host: bool,
    /// The order among regex routes: higher is tried first.
    pub regex_priority: i64,
    /// The plugins configured on the route, each name at most once.
    pub plugins: Vec<Plugin>,
}

impl Route {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let name = f.req("name", check_name)?;
        let paths = f.or("paths", Vec::new(), |at| at.list(|p| RoutePath::decode(&p)))?;
        let hosts = f.or("hosts", Vec::new(), |at| at.list(|h| decode_host(&h)))?;
        let methods = f.or("methods", Vec::new(), |at| at.list(|m| decode_method(&m)))?;
        let strip_path = f.or("strip_path", true, At::bool)?;
        let preserve_host = f.or("preserve_host", false, At::bool)?;
        let regex_priority = f.or("regex_priority", 0, |at| at.integer(i64::MIN..=i64::MAX))?;
        let plugins = decode_plugins(&mut f)?;
        f.opt("path_handling", |at| match at.str()? {
            "v0" => Ok(()),
            "v1" => Err(at.error(
                ErrorKind::Unsupported,
                "`path_handling: v1` is not supported: Sluicegate computes upstream paths as \
                 Kong 3 does (v0)",
            )),
            other => Err(at.invalid(format!("`{other}` is not one of `v0`, `v1`"))),
        })?;
        f.opt("protocols", |at| {
            let protocols = at.list(|p| p.one_of(&[("http", true), ("https", false)]))?;
            if protocols.contains(&true) {
                Ok(())
            } else {
                Err(at.error(
                    ErrorKind::Unsupported,
                    "the route must accept `http`: Sluicegate listens for plain HTTP",
                ))
            }
        })?;
        for key in ["headers", "snis", "sources", "destinations"] {
            f.unsupported(key, is_off, "Sluicegate routes by paths, hosts and methods")?;
        }
        for key in [
            "https_redirect_status_code",
            "request_buffering",
            "response_buffering",
            "tags",
            "id",
            "created_at",
            "updated_at",
        ] {
            f.ignore(key);
        }
        let at_route = f.at().clone();
        f.finish()?;
        if paths.is_empty() && hosts.is_empty() && methods.is_empty() {
            return Err(at_route.invalid(
                "a route needs at least one of `paths`, `hosts` and `methods`, or it matches nothing",
            ));
        }
        Ok(Route {
            name,
            paths,
            hosts,
            methods,
            strip_path,
            preserve_host,
            regex_priority,
            plugins,
        })
    }
}

/// A method as Kong takes it: uppercase letters.
fn decode_method(at: &At<'_>) -> Result<Method> {
    let text = at.str()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(at.invalid(format!(
            "`{text}` is not a method: use uppercase letters, as in GET"
        )));
    }
    Method::from_bytes(text.as_bytes()).map_err(|_| at.invalid(format!("`{text}` is not a method")))
}

/// A route host: a host name with an optional port and at most one `*` label at either end.
fn decode_host(at: &At<'_>) -> Result<String> {
    let text = at.non_empty_string()?.to_ascii_lowercase();
    let bad = || {
        at.invalid(format!(
            "`{text}` is not a host (with an optional :port and a leading or trailing `*` label)"
        ))
    };
    let (name, port) = match text.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        Some(_) => return Err(bad()),
        None => (text.as_str(), None),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err(bad());
    }
    let labels: Vec<&str> = name.split('.').collect();
    let last = labels.len() - 1;
    let label_ok = |(i, label): (usize, &&str)| match *label {
        "*" => (i == 0 || i == last) && labels.len() > 1,
        label => {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        }
    };
    let wildcards = labels.iter().filter(|l| **l == "*").count();
    if wildcards > 1 || !labels.iter().enumerate().all(label_ok) {
        return Err(bad());
    }
    Ok(text)
}
