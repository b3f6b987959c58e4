//! Every configuration the gateway refuses to start with: the kind of mistake, the YAML path
//! and the line it names, and the gist of the message.

use sluicegate_gateway::config::{Config, ErrorKind};

/// A refusal case: the document, and what the error must say about it.
struct Case {
    yaml: &'static str,
    kind: ErrorKind,
    path: &'static str,
    line: u64,
    says: &'static str,
}

const fn case(
    yaml: &'static str,
    kind: ErrorKind,
    path: &'static str,
    line: u64,
    says: &'static str,
) -> Case {
    Case {
        yaml,
        kind,
        path,
        line,
        says,
    }
}

fn check(cases: &[Case]) {
    for (i, case) in cases.iter().enumerate() {
        let err = match Config::from_yaml(case.yaml, "case.yaml") {
            Ok(_) => panic!("case {i} loaded but must be refused:\n{}", case.yaml),
            Err(err) => err,
        };
        let context = format!("case {i}: {err}\n{}", case.yaml);
        assert_eq!(err.kind(), case.kind, "{context}");
        assert_eq!(err.path(), case.path, "{context}");
        assert_eq!(err.position().map(|p| p.line), Some(case.line), "{context}");
        assert!(err.message().contains(case.says), "{context}");
        assert!(
            err.to_string()
                .starts_with(&format!("case.yaml:{}:", case.line)),
            "{context}"
        );
    }
}

#[test]
fn documents_that_are_not_configurations() {
    use ErrorKind::*;
    check(&[
        case(
            "services: [\n  {name: a\n",
            Syntax,
            "",
            2,
            "unclosed bracket",
        ),
        case("", Invalid, "", 1, "the configuration is empty"),
        case("services: []\n", MissingKey, "", 1, "`_format_version`"),
        case(
            "_format_version: 3.0\n",
            WrongType,
            "_format_version",
            1,
            "quote it",
        ),
        case(
            "_format_version: \"2.1\"\n",
            Unsupported,
            "_format_version",
            1,
            "\"3.0\"",
        ),
        case(
            "_format_version: \"3.0\"\nservice: []\n",
            UnknownKey,
            "service",
            2,
            "unknown key `service`",
        ),
        case(
            "_format_version: \"3.0\"\nroutes:\n  - {name: r, paths: [/]}\n",
            Unsupported,
            "routes",
            3,
            "nested under their service",
        ),
        case(
            "_format_version: \"3.0\"\n_format_version: \"3.0\"\n",
            Duplicate,
            "_format_version",
            2,
            "first at line 1",
        ),
    ]);
}

#[test]
fn services_with_bad_addresses_or_settings() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    retires: 3\n",
            UnknownKey,
            "services[0].retires",
            5,
            "expected one of: name, url",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - url: http://h\n",
            MissingKey,
            "services[0]",
            3,
            "`name`",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a b\n    url: http://h\n",
            Invalid,
            "services[0].name",
            3,
            "not a valid name",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n",
            MissingKey,
            "services[0]",
            3,
            "`url`",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: ftp://h\n",
            Invalid,
            "services[0].url",
            4,
            "http or https",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://\n",
            Invalid,
            "services[0].url",
            4,
            "host is missing",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h:99999\n",
            Invalid,
            "services[0].url",
            4,
            "not a usable upstream URL",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h/x?y=1\n",
            Invalid,
            "services[0].url",
            4,
            "query string",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h/a b\n",
            Invalid,
            "services[0].url",
            4,
            "not a usable upstream URL",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    host: \"h:81\"\n",
            Invalid,
            "services[0].host",
            4,
            "not a host name or IP address",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    port: 81\n",
            Invalid,
            "services[0].port",
            5,
            "either as `url` or",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    read_timeout: 0\n",
            Invalid,
            "services[0].read_timeout",
            5,
            "between 1 and 2147483646",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    connect_timeout: \"60000\"\n",
            WrongType,
            "services[0].connect_timeout",
            5,
            "expected an integer, found a string",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    retries: -1\n",
            Invalid,
            "services[0].retries",
            5,
            "between 0 and 32767",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    tls_verify: true\n",
            Unsupported,
            "services[0].tls_verify",
            5,
            "client certificates",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n  - name: a\n    url: http://g\n",
            Duplicate,
            "services[1].name",
            5,
            "service name `a` is already used at services[0].name (line 3)",
        ),
    ]);
}

#[test]
fn routes_that_match_nothing_or_are_malformed() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        strip_path: true\n",
            Invalid,
            "services[0].routes[0]",
            6,
            "at least one of `paths`, `hosts` and `methods`",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [api/v1]\n",
            Invalid,
            "services[0].routes[0].paths[0]",
            7,
            "must start with `/`",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [/ok, \"~/users/(\\\\d+\"]\n",
            Invalid,
            "services[0].routes[0].paths[1]",
            7,
            "not a valid regular expression",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [\"~/(?=admin)\"]\n",
            Invalid,
            "services[0].routes[0].paths[0]",
            7,
            "look-around",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        methods: [get]\n",
            Invalid,
            "services[0].routes[0].methods[0]",
            7,
            "uppercase",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        hosts: [\"*.*.example.com\"]\n",
            Invalid,
            "services[0].routes[0].hosts[0]",
            7,
            "is not a host",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [/]\n        path_handling: v1\n",
            Unsupported,
            "services[0].routes[0].path_handling",
            8,
            "v0",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [/]\n        protocols: [https]\n",
            Unsupported,
            "services[0].routes[0].protocols",
            8,
            "plain HTTP",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - name: r\n        paths: [/]\n        headers: {x-version: [\"2\"]}\n",
            Unsupported,
            "services[0].routes[0].headers",
            8,
            "paths, hosts and methods",
        ),
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    routes:\n      - {name: r, paths: [/a]}\n  - name: b\n    url: http://g\n    routes:\n      - {name: r, paths: [/b]}\n",
            Duplicate,
            "services[1].routes[0].name",
            10,
            "route name `r` is already used at services[0].routes[0].name (line 6)",
        ),
    ]);
}

#[test]
fn plugins_that_are_unknown_repeated_or_misplaced() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: key-auth\n",
            Unsupported,
            "plugins[0].name",
            3,
            "plugin `key-auth` is not supported",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: correlation-id\n  - name: correlation-id\n",
            Duplicate,
            "plugins[1]",
            4,
            "configured twice",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: correlation-id\n    consumer: alice\n",
            Unsupported,
            "plugins[0].consumer",
            4,
            "nested under the service or route",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: correlation-id\n    config:\n      header: X-Id\n",
            UnknownKey,
            "plugins[0].config.header",
            5,
            "expected one of: header_name, generator, echo_downstream",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: correlation-id\n    config: {generator: tracker}\n",
            Unsupported,
            "plugins[0].config.generator",
            4,
            "nginx",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: correlation-id\n    enabled: \"yes\"\n",
            WrongType,
            "plugins[0].enabled",
            4,
            "expected a boolean",
        ),
    ]);
}

#[test]
fn rate_limits_that_contradict_themselves_or_need_what_is_missing() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://h\n    plugins:\n      - name: rate-limiting\n        config:\n          minute: 100\n          hour: 50\n",
            Invalid,
            "services[0].plugins[0].config.hour",
            9,
            "the limit per hour (50) is lower than the limit per minute (100)",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      second: 10\n      day: 5\n",
            Invalid,
            "plugins[0].config.day",
            6,
            "per day (5) is lower than the limit per second (10)",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      policy: local\n",
            Invalid,
            "plugins[0].config",
            5,
            "set at least one limit",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n",
            Invalid,
            "plugins[0].config",
            3,
            "set at least one limit",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {minute: 0}\n",
            Invalid,
            "plugins[0].config.minute",
            4,
            "between 1 and 4294967295",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {minute: 2.5}\n",
            WrongType,
            "plugins[0].config.minute",
            4,
            "expected an integer",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: .inf\n",
            WrongType,
            "plugins[0].config.minute",
            5,
            "expected an integer, found an infinite number (.inf)",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {hour: -.inf}\n",
            WrongType,
            "plugins[0].config.hour",
            4,
            "found an infinite number (-.inf)",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config: {day: .NaN}\n",
            WrongType,
            "plugins[0].config.day",
            4,
            "found not a number (.nan)",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {host: 127.0.0.1}\n      sync_rate: .nan\n",
            Invalid,
            "plugins[0].config.sync_rate",
            8,
            "must be a finite number",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      limit_by: header\n",
            MissingKey,
            "plugins[0].config.limit_by",
            6,
            "`limit_by: header` needs `header_name`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      limit_by: path\n",
            MissingKey,
            "plugins[0].config.limit_by",
            6,
            "`limit_by: path` needs `path`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      limit_by: user\n",
            Invalid,
            "plugins[0].config.limit_by",
            6,
            "`user` is not one of `consumer`, `credential`, `ip`, `service`, `header`, `path`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n",
            Invalid,
            "plugins[0].config.policy",
            6,
            "needs a `redis` block",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {port: 6379, password: p}\n",
            Invalid,
            "plugins[0].config.policy",
            6,
            "needs a `redis` block with a `host`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: cluster\n",
            Unsupported,
            "plugins[0].config.policy",
            6,
            "use `local`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis:\n        host: r\n        ssl: true\n",
            Unsupported,
            "plugins[0].config.redis.ssl",
            9,
            "plain TCP",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis_host: r\n      redis_ssl: true\n",
            Unsupported,
            "plugins[0].config.redis_ssl",
            8,
            "plain TCP",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis:\n        host: r\n        sentinel_nodes: [{host: s1, port: 26379}]\n",
            Unsupported,
            "plugins[0].config.redis.sentinel_nodes",
            9,
            "not through Sentinel or Redis Cluster",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis:\n        host: r\n        cluster_nodes: [{ip: 10.0.0.1, port: 6379}]\n",
            Unsupported,
            "plugins[0].config.redis.cluster_nodes",
            9,
            "not through Sentinel or Redis Cluster",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {host: r, port: 0}\n",
            Invalid,
            "plugins[0].config.redis.port",
            7,
            "between 1 and 65535",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {host: r, timeout: 0}\n",
            Invalid,
            "plugins[0].config.redis.timeout",
            7,
            "between 1 and",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {host: r}\n      sync_rate: 0.01\n",
            Invalid,
            "plugins[0].config.sync_rate",
            8,
            "at least 0.02",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      policy: redis\n      redis: {host: r}\n      sync_rate: -2\n",
            Invalid,
            "plugins[0].config.sync_rate",
            8,
            "or -1",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      redis: {host: r, port: 6379}\n      redis_host: s\n",
            Invalid,
            "plugins[0].config.redis_host",
            7,
            "give it once",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      redis: {host: r, port: 6379, db: 1}\n",
            UnknownKey,
            "plugins[0].config.redis.db",
            6,
            "unknown key `db`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      sync_rate: 10\n",
            Invalid,
            "plugins[0].config.sync_rate",
            6,
            "only be used with the redis policy",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      error_code: 42\n",
            Invalid,
            "plugins[0].config.error_code",
            6,
            "between 100 and 599",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 5\n      headers: [x-ratelimit, draft-7]\n",
            Invalid,
            "plugins[0].config.headers[1]",
            6,
            "`draft-7` is not one of `x-ratelimit`, `ratelimit`, `ietf`",
        ),
    ]);
}

#[test]
fn jwt_plugins_that_cannot_be_enforced() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      maximum_expiration: 3600\n",
            Invalid,
            "plugins[0].config.maximum_expiration",
            5,
            "needs `exp` in `claims_to_verify`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      claims_to_verify: [exp, iat]\n",
            Invalid,
            "plugins[0].config.claims_to_verify[1]",
            5,
            "`iat` is not one of `exp`, `nbf`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      header_names: [\"bad header\"]\n",
            Invalid,
            "plugins[0].config.header_names[0]",
            5,
            "not a valid header name",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      anonymous: guest\n",
            Unsupported,
            "plugins[0].config.anonymous",
            5,
            "needs a valid token",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      leeway: 7200\n",
            Invalid,
            "plugins[0].config.leeway",
            5,
            "between 0 and 3600",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config:\n      scopes: [\"orders read\"]\n",
            Invalid,
            "plugins[0].config.scopes[0]",
            5,
            "is not a scope",
        ),
    ]);
}

#[test]
fn transformations_sluicegate_cannot_apply() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      add:\n        headers: [X-Gateway-Version]\n",
            Invalid,
            "plugins[0].config.add.headers[0]",
            6,
            "is not `name:value`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      append:\n        headers: [\"X-Empty:\"]\n",
            Invalid,
            "plugins[0].config.append.headers[0]",
            6,
            "key `X-Empty` has no value",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      add:\n        headers: [\"X-Host:$(headers.host)\"]\n",
            Unsupported,
            "plugins[0].config.add.headers[0]",
            6,
            "only `$(uuid)`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      add:\n        headers: [\"X-Id:$(uuid\"]\n",
            Invalid,
            "plugins[0].config.add.headers[0]",
            6,
            "never closed",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      replace:\n        headers: [\"X-Split:a\\nb\"]\n",
            Invalid,
            "plugins[0].config.replace.headers[0]",
            6,
            "not a valid header value",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      rename:\n        headers: [\"X-Old:bad name\"]\n",
            Invalid,
            "plugins[0].config.rename.headers[0]",
            6,
            "not a valid header name",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      add:\n        body: [\"user:1\"]\n",
            Unsupported,
            "plugins[0].config.add.body",
            6,
            "streams request bodies untouched",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      replace:\n        uri: /v2\n",
            Unsupported,
            "plugins[0].config.replace.uri",
            6,
            "service and route",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n      http_method: \"P0ST\"\n",
            Invalid,
            "plugins[0].config.http_method",
            5,
            "not a method",
        ),
    ]);
}

#[test]
fn breakers_the_engine_refuses_point_at_the_setting() {
    use ErrorKind::*;
    check(&[
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      failure_rate: 50\n",
            Invalid,
            "plugins[0].config.failure_rate",
            5,
            "needs a count or time window",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      failure_rate: 50\n      window: {calls: 0}\n",
            Invalid,
            "plugins[0].config.window",
            6,
            "count window",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      failure_rate: 150\n      window: {calls: 20}\n",
            Invalid,
            "plugins[0].config.failure_rate",
            5,
            "at most 100",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      window: {calls: 20, seconds: 10}\n",
            Invalid,
            "plugins[0].config.window",
            5,
            "either `{calls: N}`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      open_for: 30\n      backoff: {base: 1, max: 60}\n",
            Invalid,
            "plugins[0].config.backoff",
            6,
            "either `open_for` or `backoff`",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      backoff: {base: 10, max: 5}\n",
            Invalid,
            "plugins[0].config.backoff",
            5,
            "",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      failure_rate: 1e999\n      window: {calls: 20}\n",
            Invalid,
            "plugins[0].config.failure_rate",
            5,
            "must be a finite number",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      jitter: 2\n",
            Invalid,
            "plugins[0].config.jitter",
            5,
            "",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      half_open: {permits: 0}\n",
            Invalid,
            "plugins[0].config.half_open",
            5,
            "",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      open_for: -1\n",
            Invalid,
            "plugins[0].config.open_for",
            5,
            "not a duration in seconds",
        ),
        case(
            "_format_version: \"3.0\"\nplugins:\n  - name: circuit-breaker\n    config:\n      consecutive_failures: 0\n",
            Invalid,
            "plugins[0].config.consecutive_failures",
            5,
            "consecutive-failures threshold 0",
        ),
    ]);
}

/// The dev public key, indented to sit in a YAML block scalar.
fn indented(pem: &str) -> String {
    pem.lines()
        .map(|line| format!("          {line}\n"))
        .collect()
}

fn consumer_with(credential: &str) -> String {
    format!(
        "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n    jwt_secrets:\n{credential}"
    )
}

fn refusal_of(yaml: &str) -> sluicegate_gateway::config::Error {
    Config::from_yaml(yaml, "case.yaml").expect_err("must be refused")
}

#[test]
fn credentials_with_keys_that_cannot_verify() {
    let public = include_str!("../../examples/keys/dev-rsa-public.pem");
    let private = include_str!("../../examples/keys/dev-rsa-private.pem");
    let cases = [
        (
            format!(
                "      - key: k\n        algorithm: RS256\n        rsa_public_key: |\n{}",
                indented("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----")
            ),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].rsa_public_key",
            8,
            "not a PEM-encoded RSA public key",
        ),
        (
            format!(
                "      - key: k\n        algorithm: RS256\n        rsa_public_key: |\n{}",
                indented(private)
            ),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].rsa_public_key",
            8,
            "private key",
        ),
        (
            format!(
                "      - key: k\n        algorithm: ES256\n        rsa_public_key: |\n{}",
                indented(public)
            ),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].rsa_public_key",
            8,
            "for ES256",
        ),
        (
            format!(
                "      - key: k\n        algorithm: RS256\n        rsa_public_key: |\n{}",
                indented(include_str!("keys/rsa1024-public.pem"))
            ),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].rsa_public_key",
            8,
            "the RSA key has 1024 bits; at least 2048 are required",
        ),
        (
            format!(
                "      - key: k\n        algorithm: ES384\n        rsa_public_key: |\n{}",
                indented(include_str!("keys/ec256-public.pem"))
            ),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].rsa_public_key",
            8,
            "unusable for ES384",
        ),
        (
            "      - key: k\n        algorithm: RS256\n".to_owned(),
            ErrorKind::MissingKey,
            "consumers[0].jwt_secrets[0]",
            5,
            "needs `rsa_public_key`",
        ),
        (
            "      - key: k\n".to_owned(),
            ErrorKind::MissingKey,
            "consumers[0].jwt_secrets[0]",
            5,
            "an HS256 credential needs `secret`",
        ),
        (
            "      - {key: k, algorithm: HS512, secret: s}\n".to_owned(),
            ErrorKind::Unsupported,
            "consumers[0].jwt_secrets[0].algorithm",
            5,
            "use one of RS256, RS384, RS512, PS256, ES256, ES384, EdDSA, HS256",
        ),
        (
            "      - {key: k, algorithm: none, secret: s}\n".to_owned(),
            ErrorKind::Invalid,
            "consumers[0].jwt_secrets[0].algorithm",
            5,
            "algorithm `none` is not supported",
        ),
        (
            "      - {algorithm: HS256, secret: s}\n".to_owned(),
            ErrorKind::MissingKey,
            "consumers[0].jwt_secrets[0]",
            5,
            "`key`",
        ),
    ];
    for (credential, kind, path, line, says) in cases {
        let yaml = consumer_with(&credential);
        let err = refusal_of(&yaml);
        let context = format!("{err}\n{yaml}");
        assert_eq!(err.kind(), kind, "{context}");
        assert_eq!(err.path(), path, "{context}");
        assert_eq!(err.position().map(|p| p.line), Some(line), "{context}");
        assert!(err.message().contains(says), "{context}");
    }
}

#[test]
fn hs256_secrets_must_be_base64_when_a_jwt_plugin_says_so() {
    let yaml = "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config: {secret_is_base64: true}\nconsumers:\n  - username: alice\n    jwt_secrets:\n      - {key: a, secret: c2VjcmV0}\n      - {key: b, secret: \"not base64!\"}\n";
    let err = refusal_of(yaml);
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert_eq!(err.path(), "consumers[0].jwt_secrets[1].secret");
    assert_eq!(err.position().map(|p| p.line), Some(9));
    assert!(err.message().contains("secret_is_base64"), "{err}");
    let plain = yaml.replace("secret_is_base64: true", "secret_is_base64: false");
    assert!(Config::from_yaml(&plain, "case.yaml").is_ok());
}

#[test]
fn a_realm_must_fit_in_a_header() {
    let err = refusal_of(
        "_format_version: \"3.0\"\nplugins:\n  - name: jwt\n    config: {realm: \"caf\u{e9}\"}\n",
    );
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.path(), "plugins[0].config.realm");
    assert!(err.message().contains("printable ASCII"), "{err}");
}

#[test]
fn consumers_and_credentials_are_unique() {
    let same_user =
        "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n  - username: alice\n";
    let err = refusal_of(same_user);
    assert_eq!(err.kind(), ErrorKind::Duplicate);
    assert_eq!(err.path(), "consumers[1].username");
    assert_eq!(err.position().map(|p| p.line), Some(4));

    let same_key = "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n    jwt_secrets:\n      - {key: shared, secret: one}\n  - username: bob\n    jwt_secrets:\n      - {key: shared, secret: two}\n";
    let err = refusal_of(same_key);
    assert_eq!(err.kind(), ErrorKind::Duplicate);
    assert_eq!(err.path(), "consumers[1].jwt_secrets[0].key");
    assert_eq!(err.position().map(|p| p.line), Some(8));
    assert!(
        err.message().contains("JWT credential key `shared`"),
        "{err}"
    );

    let consumer_plugins = "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n    plugins:\n      - name: rate-limiting\n";
    let err = refusal_of(consumer_plugins);
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(err.path(), "consumers[0].plugins");
}

#[test]
fn the_message_reads_origin_line_column_path_and_reason() {
    let yaml = "_format_version: \"3.0\"\nplugins:\n  - name: rate-limiting\n    config:\n      minute: 100\n      hour: 50\n";
    let err = Config::from_yaml(yaml, "gateway.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "gateway.yaml:6:13: plugins[0].config.hour: the limit per hour (50) is lower than the \
         limit per minute (100); a longer period may not have a lower limit"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = Config::load("/nonexistent/sluicegate.yaml").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.origin(), "/nonexistent/sluicegate.yaml");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/sluicegate.yaml: cannot read the configuration"),
        "{err}"
    );
}
