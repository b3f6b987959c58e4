//! The two example files: the demo configuration loads and says what README promises; the
//! recipe's Kong configuration loads as Kong reads it, and is refused as Kong refuses it
//! without its Redis host.

use std::time::Duration;

use sluicegate::breaker::BreakerConfig;
use sluicegate_gateway::config::{
    Config, ErrorKind, IdGenerator, JwtAlgorithm, LimitBy, Period, Plugin, Policy, RegisteredClaim,
    RoutePath, Scheme, TemplatePart,
};

fn example(name: &str) -> String {
    format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> Config {
    Config::load(example("gateway.yaml")).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn the_demo_routes_the_recipes_services_to_loopback_upstreams() {
    let config = demo();
    let routes: Vec<_> = config
        .routes()
        .map(|(service, route)| {
            (
                route.name.as_str(),
                route
                    .paths
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                route.strip_path,
                service.origin(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            (
                "users",
                vec!["/api/v1/users".to_owned()],
                false,
                "http://127.0.0.1:9101".to_owned()
            ),
            (
                "orders",
                vec!["/api/v1/orders".to_owned()],
                false,
                "http://127.0.0.1:9102".to_owned()
            ),
            (
                "admin",
                vec!["/api/v1/admin".to_owned()],
                false,
                "http://127.0.0.1:9103".to_owned()
            ),
            (
                "status",
                vec!["/api/v1/status".to_owned()],
                false,
                "http://127.0.0.1:9101".to_owned()
            ),
        ]
    );
    for service in &config.services {
        assert_eq!(service.scheme, Scheme::Http);
        assert_eq!(
            service.read_timeout,
            Duration::from_secs(5),
            "{}",
            service.name
        );
        assert_eq!(
            service.connect_timeout,
            Duration::from_secs(2),
            "{}",
            service.name
        );
    }
}

#[test]
fn the_demo_protects_users_orders_and_admin_with_their_scopes_and_limits() {
    let config = demo();
    let expected = [
        ("users", Some(vec![]), 100),
        ("orders", Some(vec!["orders:read"]), 100),
        ("admin", Some(vec!["admin"]), 10),
        ("status", None, 60),
    ];
    for (route_name, scopes, per_minute) in expected {
        let (service, route) = config.route(route_name).unwrap();
        let plugins = config.plugins_for(service, route);
        let jwt_scopes = plugins
            .jwt
            .map(|jwt| jwt.scopes.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(jwt_scopes, scopes, "{route_name}");
        if let Some(jwt) = plugins.jwt {
            assert_eq!(jwt.claims_to_verify, [RegisteredClaim::Exp]);
            assert_eq!(jwt.key_claim_name, "iss");
            assert_eq!(jwt.leeway, Duration::from_secs(30));
        }
        let limits = plugins.rate_limiting.unwrap();
        assert_eq!(
            limits.limits(),
            [(Period::Minute, per_minute)],
            "{route_name}"
        );
        assert_eq!(limits.policy, Policy::Local);
        let expected_key = if plugins.jwt.is_some() {
            LimitBy::Consumer
        } else {
            LimitBy::Ip
        };
        assert_eq!(limits.limit_by, expected_key, "{route_name}");
    }
}

#[test]
fn the_demo_gives_each_protected_service_the_recipes_breaker() {
    let config = demo();
    let recipe_breaker = BreakerConfig::new()
        .consecutive_failures(5)
        .open_for(Duration::from_secs(30))
        .half_open(1, 2)
        .trial_timeout(Duration::from_secs(10));
    for name in ["users", "orders", "admin"] {
        let (service, route) = config.route(name).unwrap();
        let breaker = config.plugins_for(service, route).circuit_breaker.unwrap();
        assert_eq!(breaker.breaker, recipe_breaker, "{name}");
    }
    let (service, route) = config.route("status").unwrap();
    assert!(config.plugins_for(service, route).circuit_breaker.is_none());
}

#[test]
fn the_demo_tags_and_cleans_every_request() {
    let config = demo();
    for (service, route) in config.routes() {
        let plugins = config.plugins_for(service, route);
        let ids = plugins.correlation_id.unwrap();
        assert_eq!(ids.header_name, "x-correlation-id");
        assert_eq!(ids.generator, IdGenerator::Uuid);
        assert!(ids.echo_downstream);
        let edits = plugins.request_transformer.unwrap();
        assert_eq!(edits.headers.remove, [http::header::COOKIE]);
        assert_eq!(edits.headers.add.len(), 1);
        assert_eq!(edits.headers.add[0].0, "x-gateway-version");
        assert_eq!(edits.headers.add[0].1.as_static(), Some("1.0"));
    }
}

#[test]
fn the_demo_consumer_trusts_the_dev_public_key_for_rs256_only() {
    let config = demo();
    let demo_user = config.consumer("demo").unwrap();
    let [credential] = demo_user.jwt_secrets.as_slice() else {
        panic!("one credential expected");
    };
    assert_eq!(credential.key, "sluicegate-dev");
    assert_eq!(credential.algorithm, JwtAlgorithm::RS256);
    let pem = std::fs::read_to_string(example("keys/dev-rsa-public.pem")).unwrap();
    assert_eq!(credential.rsa_public_key.as_deref(), Some(pem.as_str()));
}

#[test]
fn the_kong_seed_loads_with_its_redis_policy() {
    let config = Config::load(example("kong-seed.yaml")).unwrap_or_else(|err| panic!("{err}"));
    let users = config.service("user-service").unwrap();
    let plugins = config.plugins_for(users, &users.routes[0]);
    let limits = plugins.rate_limiting.unwrap();
    assert_eq!(limits.policy, Policy::Redis);
    assert_eq!(limits.minute, Some(100));
    // Kong's default: when Redis cannot be reached, the route keeps serving.
    assert!(limits.fault_tolerant);
    assert_eq!(limits.sync_rate, None);
    // The flat redis_host/redis_port are read as Kong 3.6+ reads them: the redis block.
    let redis = limits.redis.as_ref().unwrap();
    assert_eq!((redis.host.as_str(), redis.port), ("redis", 6379));
    assert_eq!(redis.timeout, Duration::from_millis(2000));
}

fn seed_text() -> String {
    std::fs::read_to_string(example("kong-seed.yaml")).unwrap()
}

#[test]
fn without_its_redis_host_the_seed_is_refused_as_kong_refuses_it() {
    let text = seed_text()
        .lines()
        .filter(|line| !line.trim_start().starts_with("redis_"))
        .collect::<Vec<_>>()
        .join("\n");
    let err = Config::from_yaml(&text, "seed").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(err.path(), "services[0].plugins[1].config.policy");
    assert!(err.message().contains("needs a `redis` block"), "{err}");
}

#[test]
fn with_a_local_policy_the_seed_loads_everything_else_as_written() {
    let text = seed_text().replace("policy: redis", "policy: local");
    let config = Config::from_yaml(&text, "seed").unwrap_or_else(|err| panic!("{err}"));
    let users = config.service("user-service").unwrap();
    assert_eq!((users.host.as_str(), users.port), ("user-service", 3000));
    let route = &users.routes[0];
    assert!(matches!(&route.paths[..], [RoutePath::Prefix(p)] if p == "/api/v1/users"));
    assert!(!route.strip_path);
    let plugins = config.plugins_for(users, route);
    let jwt = plugins.jwt.unwrap();
    assert!(!jwt.secret_is_base64);
    assert_eq!(jwt.key_claim_name, "iss");
    // The Redis block is still read, and unused with `policy: local`, as in Kong.
    let redis = plugins.rate_limiting.unwrap().redis.as_ref().unwrap();
    assert_eq!((redis.host.as_str(), redis.port), ("redis", 6379));
    // `$(uuid)` becomes a fresh UUID per request instead of Kong's empty value.
    let added = &plugins.request_transformer.unwrap().headers.add;
    assert_eq!(added[1].0, "x-request-id");
    assert_eq!(added[1].1.parts(), [TemplatePart::Uuid]);
    let (public, health) = config.route("health-route").unwrap();
    assert_eq!(public.name, "public-endpoints");
    assert!(config.plugins_for(public, health).jwt.is_none());
    assert!(
        config
            .plugins_for(public, health)
            .request_transformer
            .is_none()
    );
    assert!(matches!(
        &config.service("user-service").unwrap().plugins[1],
        Plugin::RateLimiting(_)
    ));
}
