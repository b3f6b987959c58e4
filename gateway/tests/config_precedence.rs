//! Kong's plugin precedence: for each plugin name, the route's configuration, else the
//! service's, else the global one.

use sluicegate_gateway::config::{Config, IdGenerator};

const LAYERED: &str = r#"
_format_version: "3.0"
plugins:
  - name: rate-limiting
    config: {minute: 1000}
  - name: correlation-id
    config: {generator: uuid}
services:
  - name: users
    url: http://127.0.0.1:9101
    plugins:
      - name: rate-limiting
        config: {minute: 100}
      - name: jwt
    routes:
      - name: users
        paths: [/api/v1/users]
      - name: users-bulk
        paths: [/api/v1/users/bulk]
        plugins:
          - name: rate-limiting
            config: {minute: 5}
          - name: correlation-id
            enabled: false
  - name: public
    url: http://127.0.0.1:9104
    routes:
      - name: status
        paths: [/status]
"#;

fn minute_limit(config: &Config, route: &str) -> Option<u64> {
    let (service, route) = config.route(route).unwrap();
    config
        .plugins_for(service, route)
        .rate_limiting
        .and_then(|p| p.minute)
}

#[test]
fn the_narrowest_scope_wins_name_by_name() {
    let config = Config::from_yaml(LAYERED, "layered").unwrap();
    assert_eq!(
        minute_limit(&config, "users-bulk"),
        Some(5),
        "route over service"
    );
    assert_eq!(
        minute_limit(&config, "users"),
        Some(100),
        "service over global"
    );
    assert_eq!(minute_limit(&config, "status"), Some(1000), "global");

    // The route overrides only the plugins it names: jwt still comes from its service.
    let (service, route) = config.route("users-bulk").unwrap();
    let bulk = config.plugins_for(service, route);
    assert!(bulk.jwt.is_some());
    let (service, route) = config.route("status").unwrap();
    assert!(config.plugins_for(service, route).jwt.is_none());
}

#[test]
fn a_disabled_plugin_overrides_nothing() {
    let config = Config::from_yaml(LAYERED, "layered").unwrap();
    let (service, route) = config.route("users-bulk").unwrap();
    let ids = config.plugins_for(service, route).correlation_id.unwrap();
    assert_eq!(
        ids.generator,
        IdGenerator::Uuid,
        "the global one still applies"
    );
}

#[test]
fn a_route_with_no_plugins_anywhere_gets_none() {
    let config = Config::from_yaml(
        "_format_version: \"3.0\"\nservices:\n  - name: s\n    url: http://h\n    routes:\n      - {name: r, paths: [/]}\n",
        "bare",
    )
    .unwrap();
    let (service, route) = config.route("r").unwrap();
    let plugins = config.plugins_for(service, route);
    assert!(plugins.jwt.is_none());
    assert!(plugins.rate_limiting.is_none());
    assert!(plugins.request_transformer.is_none());
    assert!(plugins.correlation_id.is_none());
    assert!(plugins.circuit_breaker.is_none());
}
