//! Kong's defaults for every field left out, and the Kong export habits that must load.

use std::time::Duration;

use http::StatusCode;
use sluicegate::breaker::BreakerConfig;
use sluicegate_gateway::config::{
    Config, IdGenerator, JwtAlgorithm, LimitBy, Plugin, Policy, RateLimitHeaders,
    RequestTransformerPlugin, Scheme,
};

fn load(yaml: &str) -> Config {
    Config::from_yaml(yaml, "defaults.yaml").unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn services_default_as_in_kong() {
    let config = load(
        r#"
_format_version: "3.0"
services:
  - {name: plain, url: "http://a.internal"}
  - {name: tls, url: "HTTPS://b.internal/base/"}
  - {name: parts, protocol: https, host: c.internal}
  - {name: ipv6, url: "http://[::1]:9101"}
"#,
    );
    let address: Vec<_> = config
        .services
        .iter()
        .map(|s| (s.scheme, s.host.as_str(), s.port, s.path.as_deref()))
        .collect();
    assert_eq!(
        address,
        [
            (Scheme::Http, "a.internal", 80, None),
            (Scheme::Https, "b.internal", 443, Some("/base/")),
            // Kong's separate `port` defaults to 80 whatever the protocol.
            (Scheme::Https, "c.internal", 80, None),
            (Scheme::Http, "[::1]", 9101, None),
        ]
    );
    let plain = &config.services[0];
    assert_eq!(plain.connect_timeout, Duration::from_millis(60_000));
    assert_eq!(plain.read_timeout, Duration::from_millis(60_000));
    assert_eq!(plain.write_timeout, Duration::from_millis(60_000));
    assert_eq!(plain.retries, 5);
    assert_eq!(plain.base_path(), "/");
    assert_eq!(config.services[1].base_path(), "/base/");
    assert!(plain.routes.is_empty() && plain.plugins.is_empty());
    assert!(config.consumers.is_empty() && config.plugins.is_empty());
}

#[test]
fn routes_default_as_in_kong() {
    let config = load(
        r#"
_format_version: "3.0"
services:
  - name: s
    url: http://a.internal
    routes:
      - {name: r, paths: [/r]}
      - {name: by-host, hosts: ["*.Example.com:8000"]}
"#,
    );
    let route = &config.services[0].routes[0];
    assert!(route.strip_path);
    assert!(!route.preserve_host);
    assert_eq!(route.regex_priority, 0);
    assert!(route.methods.is_empty() && route.hosts.is_empty() && route.plugins.is_empty());
    assert_eq!(config.services[0].routes[1].hosts, ["*.example.com:8000"]);
}

fn only_plugin(config: &Config) -> &Plugin {
    let [plugin] = config.plugins.as_slice() else {
        panic!("one global plugin expected, got {:?}", config.plugins);
    };
    plugin
}

#[test]
fn jwt_defaults_as_in_kong() {
    let config = load("_format_version: \"3.0\"\nplugins:\n  - name: jwt\n");
    let Plugin::Jwt(jwt) = only_plugin(&config) else {
        panic!("jwt expected");
    };
    assert_eq!(jwt.key_claim_name, "iss");
    assert!(jwt.claims_to_verify.is_empty());
    assert_eq!(jwt.maximum_expiration, None);
    assert_eq!(jwt.header_names, [http::header::AUTHORIZATION]);
    assert_eq!(jwt.uri_param_names, ["jwt"]);
    assert!(jwt.cookie_names.is_empty());
    assert!(jwt.run_on_preflight);
    assert!(!jwt.secret_is_base64);
    assert_eq!(jwt.realm, None);
    assert_eq!(jwt.leeway, Duration::ZERO);
    assert!(jwt.scopes.is_empty());
}

#[test]
fn rate_limiting_defaults_as_in_kong() {
    let config = load(
        "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {hour: 1000}\n",
    );
    let Plugin::RateLimiting(limits) = only_plugin(&config) else {
        panic!("rate-limiting expected");
    };
    assert_eq!(
        (
            limits.second,
            limits.minute,
            limits.hour,
            limits.day,
            limits.month,
            limits.year
        ),
        (None, None, Some(1000), None, None, None)
    );
    assert_eq!(limits.limit_by, LimitBy::Consumer);
    assert_eq!(limits.policy, Policy::Local);
    assert!(limits.fault_tolerant);
    assert!(!limits.hide_client_headers);
    assert_eq!(limits.error_code, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limits.error_message, "API rate limit exceeded");
    assert_eq!(limits.redis, None);
    assert_eq!(
        limits.headers,
        [
            RateLimitHeaders::Kong,
            RateLimitHeaders::Draft,
            RateLimitHeaders::Ietf
        ]
    );
}

#[test]
fn the_redis_policy_takes_kongs_block_with_kongs_defaults() {
    let config = load(
        "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 10\n      policy: redis\n      redis: {host: cache.internal}\n",
    );
    let Plugin::RateLimiting(limits) = only_plugin(&config) else {
        panic!("rate-limiting expected");
    };
    assert_eq!(limits.policy, Policy::Redis);
    assert_eq!(limits.sync_rate, None);
    let redis = limits.redis.as_ref().unwrap();
    assert_eq!(
        (
            redis.host.as_str(),
            redis.port,
            redis.timeout,
            redis.database
        ),
        ("cache.internal", 6379, Duration::from_millis(2000), 0)
    );
    assert_eq!(
        (redis.username.as_deref(), redis.password.as_deref()),
        (None, None)
    );
}

#[test]
fn the_redis_policy_reads_kongs_flat_fields_and_sync_rate() {
    let config = load(
        "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      second: 5\n      policy: redis\n      redis_host: 10.1.2.3\n      redis_port: 6380\n      redis_timeout: 150\n      redis_username: gw\n      redis_password: hunter2\n      redis_database: 3\n      redis_ssl: false\n      sync_rate: 0.25\n",
    );
    let Plugin::RateLimiting(limits) = only_plugin(&config) else {
        panic!("rate-limiting expected");
    };
    assert_eq!(limits.sync_rate, Some(Duration::from_millis(250)));
    let redis = limits.redis.as_ref().unwrap();
    assert_eq!(
        (
            redis.host.as_str(),
            redis.port,
            redis.timeout,
            redis.database
        ),
        ("10.1.2.3", 6380, Duration::from_millis(150), 3)
    );
    assert_eq!(redis.username.as_deref(), Some("gw"));
    assert_eq!(redis.password.as_deref(), Some("hunter2"));
    // The password stays out of every Debug rendering, the plugin's and the whole file's.
    for rendered in [
        format!("{redis:?}"),
        format!("{limits:?}"),
        format!("{config:?}"),
    ] {
        assert!(!rendered.contains("hunter2"), "{rendered}");
    }
    assert!(format!("{redis:?}").contains("<redacted>"));
}

#[test]
fn the_other_plugins_default_as_in_kong() {
    let config = load(
        "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n  - name: correlation-id\n  - name: circuit-breaker\n",
    );
    let [
        Plugin::RequestTransformer(edits),
        Plugin::CorrelationId(ids),
        Plugin::CircuitBreaker(breaker),
    ] = config.plugins.as_slice()
    else {
        panic!("three plugins expected, got {:?}", config.plugins);
    };
    assert_eq!(*edits, RequestTransformerPlugin::default());
    assert_eq!(ids.header_name, "kong-request-id");
    assert_eq!(ids.generator, IdGenerator::UuidCounter);
    assert!(!ids.echo_downstream);
    // Extension: with no trip policy given, five failures in a row open the breaker.
    assert_eq!(
        breaker.breaker,
        BreakerConfig::new().consecutive_failures(5)
    );
}

#[test]
fn credentials_default_to_hs256() {
    let config = load(
        "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n    custom_id: \"42\"\n    jwt_secrets:\n      - {key: alice-app, secret: shh}\n",
    );
    let alice = config.consumer("alice").unwrap();
    assert_eq!(alice.custom_id.as_deref(), Some("42"));
    assert_eq!(alice.jwt_secrets[0].algorithm, JwtAlgorithm::HS256);
    assert_eq!(alice.jwt_secrets[0].secret.as_deref(), Some("shh"));
    assert_eq!(alice.jwt_secrets[0].rsa_public_key, None);
}

/// What `deck dump` writes: every field, unset ones as `null`, ids, tags and timestamps.
#[test]
fn a_kong_export_with_nulls_ids_and_tags_loads() {
    let config = load(
        r#"
_format_version: "3.0"
_transform: true
services:
  - name: users
    id: 0f3b6c1e-3f4e-4a51-9a41-7f6bbf0c0e11
    host: 127.0.0.1
    port: 9101
    protocol: http
    path: null
    enabled: true
    tls_verify: null
    client_certificate: null
    tags: [demo]
    routes:
      - name: users
        paths: [/api/v1/users]
        https_redirect_status_code: 426
        path_handling: v0
        protocols: [http, https]
        request_buffering: true
        response_buffering: true
        headers: null
        regex_priority: 0
    plugins:
      - name: rate-limiting
        enabled: true
        protocols: [grpc, grpcs, http, https]
        config:
          minute: 100
          second: null
          header_name: null
          path: null
          policy: local
          redis:
            host: null
            port: null
            timeout: 2000
            database: 0
            ssl: false
          sync_rate: -1
      - name: correlation-id
        enabled: false
        config: {header_name: X-Disabled}
"#,
    );
    let users = config.service("users").unwrap();
    assert_eq!(
        (users.host.as_str(), users.port, users.path.as_deref()),
        ("127.0.0.1", 9101, None)
    );
    let [Plugin::RateLimiting(limits)] = users.plugins.as_slice() else {
        panic!(
            "the disabled correlation-id must be left out: {:?}",
            users.plugins
        );
    };
    assert_eq!(limits.minute, Some(100));
    assert_eq!(limits.redis, None);
}
