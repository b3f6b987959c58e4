//! Choosing the route a request takes, with Kong's matching rules.
//!
//! A route matches when its `methods`, `hosts` and `paths` each match (an empty list matches
//! anything). A prefix path matches as a raw string prefix of the normalised request path, so
//! `/route` matches `/routereq` as it does in Kong; a path written `~/...` is a regular
//! expression anchored at the start of the path.
//!
//! When several routes match, the most specific wins, in this order (Kong's, where Kong has
//! one): routes with `hosts` before routes without, then routes with `methods` before routes
//! without; then regular-expression paths before prefix paths, in the order they were written;
//! then longer prefixes before shorter ones; then the route defined first.

use http::Method;
use regex::Regex;

/// One entry of a route's `paths`.
#[derive(Debug, Clone)]
pub enum PathPattern {
    /// Matches any path that starts with this string.
    Prefix(String),
    /// Matches paths this expression matches at their start (Kong's `~` paths).
    Regex(Regex),
}

impl PathPattern {
    /// The length of the part of `path` this pattern matches, if it matches.
    ///
    /// ```
    /// use sluicegate_gateway::proxy::route::PathPattern;
    /// let prefix = PathPattern::Prefix("/route".into());
    /// assert_eq!(prefix.matched_len("/routereq"), Some(6));
    /// let regex = PathPattern::Regex(regex::Regex::new(r"/users/\d+").unwrap());
    /// assert_eq!(regex.matched_len("/users/42/orders"), Some(9));
    /// assert_eq!(regex.matched_len("/v1/users/42"), None);
    /// ```
    pub fn matched_len(&self, path: &str) -> Option<usize> {
        match self {
            Self::Prefix(prefix) => path.starts_with(prefix.as_str()).then_some(prefix.len()),
            Self::Regex(regex) => regex.find(path).filter(|m| m.start() == 0).map(|m| m.end()),
        }
    }
}

/// A host a route accepts: exact, or with a wildcard as its first or last label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `api.example.com`.
    Exact(String),
    /// `*.example.com`: the suffix, starting with the dot.
    AnySubdomain(String),
    /// `api.example.*`: the prefix, ending with the dot.
    AnyTld(String),
}

impl HostPattern {
    /// Reads a route's host entry (case-insensitive; a port, if given, is not part of the match).
    ///
    /// ```
    /// use sluicegate_gateway::proxy::route::HostPattern;
    /// assert!(HostPattern::parse("*.example.com").matches("api.example.com"));
    /// assert!(HostPattern::parse("api.example.*").matches("API.example.org"));
    /// assert!(!HostPattern::parse("example.com").matches("api.example.com"));
    /// ```
    pub fn parse(host: &str) -> Self {
        let host = strip_port(host).to_ascii_lowercase();
        if let Some(suffix) = host.strip_prefix('*') {
            Self::AnySubdomain(suffix.to_owned())
        } else if let Some(prefix) = host.strip_suffix('*') {
            Self::AnyTld(prefix.to_owned())
        } else {
            Self::Exact(host)
        }
    }

    /// Whether the request's host (its `Host` header, port included or not) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = strip_port(host);
        match self {
            Self::Exact(exact) => host.eq_ignore_ascii_case(exact),
            Self::AnySubdomain(suffix) => {
                host.len() > suffix.len()
                    && host
                        .get(host.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            }
            Self::AnyTld(prefix) => {
                host.len() > prefix.len()
                    && host
                        .get(..prefix.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            }
        }
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// What a route matches on.
#[derive(Debug, Clone, Default)]
pub struct RouteRule {
    /// Paths; empty matches every path.
    pub paths: Vec<PathPattern>,
    /// Methods; empty matches every method.
    pub methods: Vec<Method>,
    /// Hosts; empty matches every host.
    pub hosts: Vec<HostPattern>,
}

/// How a request matched a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Bytes of the normalised path the route's path matched (0 for a route without paths).
    pub matched_len: usize,
}

/// A candidate, flattened per path so that paths of one route can rank differently.
#[derive(Debug)]
struct Candidate {
    route: usize,
    path: Option<usize>,
    rank: (bool, bool, bool, usize),
}

/// Routes in the order they are tried; see the module documentation.
///
/// ```
/// use http::Method;
/// use sluicegate_gateway::proxy::route::{PathPattern, RouteRule, Router};
/// let router = Router::new(vec![
///     (RouteRule { paths: vec![PathPattern::Prefix("/api".into())], ..Default::default() }, "api"),
///     (RouteRule { paths: vec![PathPattern::Prefix("/api/v1/admin".into())], ..Default::default() }, "admin"),
/// ]);
/// let (route, m) = router.find(&Method::GET, None, "/api/v1/admin/users").unwrap();
/// assert_eq!((*route, m.matched_len), ("admin", 13));
/// assert!(router.find(&Method::GET, None, "/other").is_none());
/// ```
#[derive(Debug)]
pub struct Router<T> {
    routes: Vec<(RouteRule, T)>,
    order: Vec<Candidate>,
}

impl<T> Router<T> {
    /// Orders the routes for matching.
    pub fn new(routes: Vec<(RouteRule, T)>) -> Self {
        let mut order = Vec::new();
        for (index, (rule, _)) in routes.iter().enumerate() {
            let (hosts, methods) = (!rule.hosts.is_empty(), !rule.methods.is_empty());
            if rule.paths.is_empty() {
                order.push(Candidate {
                    route: index,
                    path: None,
                    rank: (hosts, methods, false, 0),
                });
            }
            for (p, path) in rule.paths.iter().enumerate() {
                let (regex, len) = match path {
                    PathPattern::Regex(_) => (true, 0),
                    PathPattern::Prefix(prefix) => (false, prefix.len()),
                };
                order.push(Candidate {
                    route: index,
                    path: Some(p),
                    rank: (hosts, methods, regex, len),
                });
            }
        }
        // Stable: equal ranks keep the order of definition.
        order.sort_by_key(|c| std::cmp::Reverse(c.rank));
        Self { routes, order }
    }

    /// The route for a request, and how it matched. `host` is the request's `Host` (or the
    /// URI's authority), `path` the normalised path.
    pub fn find(&self, method: &Method, host: Option<&str>, path: &str) -> Option<(&T, Match)> {
        self.order.iter().find_map(|c| {
            let (rule, target) = &self.routes[c.route];
            if !rule.methods.is_empty() && !rule.methods.contains(method) {
                return None;
            }
            if !rule.hosts.is_empty() {
                let host = host?;
                if !rule.hosts.iter().any(|h| h.matches(host)) {
                    return None;
                }
            }
            let matched_len = match c.path {
                None => 0,
                Some(p) => rule.paths[p].matched_len(path)?,
            };
            Some((target, Match { matched_len }))
        })
    }

    /// The routes' targets, in the order they were given.
    pub fn targets(&self) -> impl Iterator<Item = &T> {
        self.routes.iter().map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(p: &str) -> PathPattern {
        PathPattern::Prefix(p.into())
    }

    #[test]
    fn specificity_order() {
        let router = Router::new(vec![
            (
                RouteRule {
                    paths: vec![prefix("/a")],
                    ..Default::default()
                },
                "plain",
            ),
            (
                RouteRule {
                    paths: vec![prefix("/a")],
                    methods: vec![Method::POST],
                    ..Default::default()
                },
                "post",
            ),
            (
                RouteRule {
                    paths: vec![PathPattern::Regex(Regex::new("/a/[0-9]+").unwrap())],
                    ..Default::default()
                },
                "regex",
            ),
            (
                RouteRule {
                    hosts: vec![HostPattern::parse("*.example.com")],
                    ..Default::default()
                },
                "host",
            ),
        ]);
        let find = |m: Method, host: Option<&str>, path: &str| {
            router.find(&m, host, path).map(|(t, _)| *t)
        };
        assert_eq!(find(Method::GET, None, "/a/1"), Some("regex"));
        assert_eq!(find(Method::GET, None, "/a/x"), Some("plain"));
        assert_eq!(find(Method::POST, None, "/a/1"), Some("post"));
        assert_eq!(
            find(Method::GET, Some("x.example.com:8080"), "/a"),
            Some("host")
        );
        assert_eq!(find(Method::GET, Some("example.com"), "/b"), None);
    }

    #[test]
    fn ports_and_brackets() {
        assert_eq!(strip_port("example.com:80"), "example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
