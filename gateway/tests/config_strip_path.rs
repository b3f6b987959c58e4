//! The upstream path, as Kong 3 computes it from the service path, the route's match and
//! `strip_path`.

use sluicegate_gateway::config::{Config, RoutePath, upstream_path};

/// Kong's own table: service path, route path, strip_path, request path, upstream path.
const KONG_TABLE: [(&str, &str, bool, &str, &str); 5] = [
    ("/", "/route", true, "/route", "/"),
    ("/service", "/route", true, "/route/", "/service/"),
    ("/service", "/route", true, "/routereq", "/service/req"),
    ("/service", "/route", false, "/route", "/service/route"),
    ("/service/", "/route", true, "/route", "/service"),
];

/// Further rows, worked out from Kong's rules: one `/` joins the parts; a trailing `/`
/// survives from the request; without strip_path the request path is appended whole.
const MORE_ROWS: [(&str, &str, bool, &str, &str); 12] = [
    ("/", "/route", true, "/route/", "/"),
    ("/", "/route", true, "/route/x", "/x"),
    ("/", "/route", false, "/route/x", "/route/x"),
    ("/", "/", true, "/", "/"),
    ("/", "/", false, "/", "/"),
    ("/service", "/route", true, "/route", "/service"),
    ("/service", "/route", true, "/route/x/y", "/service/x/y"),
    ("/service", "/route", false, "/", "/service"),
    ("/service/", "/route", true, "/route/", "/service/"),
    ("/service/", "/route", true, "/route/x", "/service/x"),
    ("/service/", "/route", true, "/routex", "/service/x"),
    ("/service/", "/route", false, "/route", "/service/route"),
];

#[test]
fn kongs_table() {
    for (service, route, strip, request, upstream) in KONG_TABLE.into_iter().chain(MORE_ROWS) {
        assert_eq!(
            upstream_path(service, route, strip, request),
            upstream,
            "service {service}, route {route}, strip_path {strip}, request {request}"
        );
    }
}

#[test]
fn routes_from_a_config_feed_the_computation() {
    let config = Config::from_yaml(
        r#"
_format_version: "3.0"
services:
  - name: users
    url: http://127.0.0.1:9101/v2
    routes:
      - name: by-id
        paths: ["~/users/\\d+"]
      - name: prefix
        paths: [/users]
"#,
        "strip",
    )
    .unwrap();
    let upstream_for = |route_name: &str, request: &str| {
        let (service, route) = config.route(route_name).unwrap();
        let matched = route.paths.iter().find_map(|p| p.matches(request))?;
        Some(upstream_path(
            service.base_path(),
            matched,
            route.strip_path,
            request,
        ))
    };
    // A regex route strips what it matched.
    assert_eq!(
        upstream_for("by-id", "/users/42/orders"),
        Some("/v2/orders".to_owned())
    );
    assert_eq!(upstream_for("by-id", "/users/me"), None);
    // A prefix matches as a raw string prefix, as in Kong, even in the middle of a word.
    assert_eq!(
        upstream_for("prefix", "/usersearch"),
        Some("/v2/earch".to_owned())
    );
    assert_eq!(upstream_for("prefix", "/users"), Some("/v2".to_owned()));
}

#[test]
fn regex_paths_are_anchored_at_the_start_only() {
    let config = Config::from_yaml(
        "_format_version: \"3.0\"\nservices:\n  - name: s\n    url: http://h\n    routes:\n      - {name: r, paths: [\"~/v\\\\d/items\"]}\n",
        "anchor",
    )
    .unwrap();
    let path = &config.services[0].routes[0].paths[0];
    assert!(matches!(path, RoutePath::Regex(_)));
    assert_eq!(path.to_string(), "~/v\\d/items");
    assert_eq!(path.matches("/v1/items/7"), Some("/v1/items"));
    assert_eq!(path.matches("/api/v1/items"), None);
}
