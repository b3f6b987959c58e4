//! `policy: redis` through real gateways, a real `redis-server` and a real client: limits
//! shared between instances, outages, a slow Redis, credentials, the exhausted-key memory and
//! `sync_rate`.

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;
mod support;

use std::time::{Duration, Instant};

use redis_server::RedisServer;
use support::{Answer, TestGateway, echo_upstream, get};

/// A gateway whose one route is limited by `limits` (flow-style YAML fields, without the
/// braces) on the Redis at `redis_port`, counting per `x-api-key`.
async fn gateway(redis_port: u16, limits: &str, redis_extra: &str) -> TestGateway {
    let upstream = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{upstream}
    routes: [{{name: api, paths: [/api]}}]
    plugins:
      - name: rate-limiting
        config: {{{limits}, limit_by: header, header_name: x-api-key, policy: redis, redis: {{host: 127.0.0.1, port: {redis_port}{redis_extra}}}}}
"#
    );
    TestGateway::start(&yaml).await
}

async fn call(gw: &TestGateway, key: &str) -> Answer {
    get(&gw.url("/api"), &[("x-api-key", key)]).await
}

fn statuses(answers: &[Answer]) -> Vec<u16> {
    answers.iter().map(|a| a.status.as_u16()).collect()
}

fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

/// Calls of the limiter's script the server has run (`EVALSHA` and `EVAL`).
fn script_calls(server: &RedisServer) -> u64 {
    let stats = server.command(&["INFO", "commandstats"]);
    ["cmdstat_evalsha:calls=", "cmdstat_eval:calls="]
        .iter()
        .filter_map(|prefix| {
            let start = stats.find(prefix)? + prefix.len();
            let digits: String = stats[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().ok()
        })
        .sum()
}

/// Keys in the server's database 0.
fn keys(server: &RedisServer) -> u64 {
    let reply = server.command(&["DBSIZE"]);
    reply
        .trim()
        .trim_start_matches(':')
        .parse()
        .unwrap_or_else(|_| panic!("DBSIZE answered {reply:?}"))
}

/// A sample of the gateway's metrics, 0 if absent.
fn metric(gw: &TestGateway, sample: &str) -> u64 {
    let text = gw.gateway.metrics().render();
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.trim().parse().ok())
        .unwrap_or(0)
}

fn redis_decisions(gw: &TestGateway, source: &str, decision: &str) -> u64 {
    metric(
        gw,
        &format!(
            "sluicegate_ratelimit_redis_decisions_total{{plugin=\"service api\",source=\"{source}\",decision=\"{decision}\"}}"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_exactly_the_limit_between_them() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let limit = 20;
    let a = gateway(server.port(), &format!("minute: {limit}"), "").await;
    let b = gateway(server.port(), &format!("minute: {limit}"), "").await;
    let requests = (0..60).map(|i| {
        let url = if i % 2 == 0 {
            a.url("/api")
        } else {
            b.url("/api")
        };
        async move { get(&url, &[("x-api-key", "shared-client")]).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    assert_eq!(count(&answers, 200), limit, "{:?}", statuses(&answers));
    assert_eq!(count(&answers, 429), 60 - limit);
    // Every admitted request was told a different remaining count: 19 down to 0.
    let mut told: Vec<u64> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.header("x-ratelimit-remaining-minute").parse().unwrap())
        .collect();
    told.sort_unstable();
    assert_eq!(told, (0..limit as u64).collect::<Vec<_>>());
    for refused in answers.iter().filter(|a| a.status == 429) {
        assert_eq!(refused.header("x-ratelimit-remaining-minute"), "0");
        assert_eq!(
            refused.header("x-ratelimit-limit-minute"),
            limit.to_string()
        );
        let retry: u64 = refused.header("retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry), "retry-after {retry}");
        assert_eq!(
            refused.json(),
            serde_json::json!({"message": "API rate limit exceeded"})
        );
    }
    // Redis admitted every admitted request; both instances asked it, and neither fell back.
    let admitted_on_redis: u64 = [&a, &b]
        .iter()
        .map(|gw| redis_decisions(gw, "redis", "allowed"))
        .sum();
    assert_eq!(admitted_on_redis, limit as u64);
    for gw in [&a, &b] {
        let asked =
            redis_decisions(gw, "redis", "allowed") + redis_decisions(gw, "redis", "rejected");
        assert!(asked > 0, "an instance never asked Redis");
        assert_eq!(redis_decisions(gw, "fallback", "allowed"), 0);
        assert_eq!(redis_decisions(gw, "fallback", "rejected"), 0);
    }
    assert_eq!(keys(&server), 1, "one client, one key");
}

#[tokio::test]
async fn an_outage_is_limited_locally_and_redis_is_used_again_after_it() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let gw = gateway(server.port(), "minute: 5", ", timeout: 300").await;
    let before = [call(&gw, "k1").await, call(&gw, "k1").await];
    assert_eq!(statuses(&before), [200, 200]);
    assert_eq!(keys(&server), 1);

    server.kill();
    let mut during = Vec::new();
    for _ in 0..8 {
        during.push(call(&gw, "k1").await);
    }
    // No 5xx: the local limiter, which had not seen the first two, admits its own 5.
    assert_eq!(statuses(&during), [200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(during[4].header("x-ratelimit-remaining-minute"), "0");
    assert_eq!(redis_decisions(&gw, "fallback", "rejected"), 3);
    assert!(
        metric(
            &gw,
            "sluicegate_ratelimit_redis_failures_total{plugin=\"service api\"}"
        ) >= 1
    );

    server.restart();
    assert_eq!(keys(&server), 0, "the restarted server starts empty");
    // The breaker half-opens by itself; a probe finds Redis and requests go back to it. Each
    // try uses a fresh client, so the local limit of the outage never gets in the way.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut tries = 0;
    let (client, back) = loop {
        tries += 1;
        let client = format!("after-{tries}");
        let answer = call(&gw, &client).await;
        assert_eq!(answer.status, 200);
        if keys(&server) == 1 {
            break (client, answer);
        }
        assert!(Instant::now() < deadline, "Redis was not used again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(back.header("x-ratelimit-remaining-minute"), "4");
    let on_redis = redis_decisions(&gw, "redis", "allowed");
    let next = call(&gw, &client).await;
    assert_eq!(next.header("x-ratelimit-remaining-minute"), "3");
    assert_eq!(redis_decisions(&gw, "redis", "allowed"), on_redis + 1);
    assert!(gw.gateway.metrics().render().contains(
        "sluicegate_ratelimit_redis_breaker_state{plugin=\"service api\",state=\"closed\"} 1"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_redis_under_concurrent_load_gives_no_5xx() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let gw = gateway(server.port(), "minute: 1000000", ", timeout: 300").await;
    let until = Instant::now() + Duration::from_millis(1500);
    let load = (0..4).map(|client| {
        let url = gw.url("/api");
        async move {
            let mut seen = Vec::new();
            while Instant::now() < until {
                let key = format!("client-{client}");
                seen.push(get(&url, &[("x-api-key", &key)]).await.status.as_u16());
            }
            seen
        }
    });
    let killer = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.kill();
    };
    let (statuses, ()) = tokio::join!(futures_util::future::join_all(load), killer);
    let statuses: Vec<u16> = statuses.into_iter().flatten().collect();
    let refused = statuses.iter().filter(|&&s| s != 200).count();
    assert_eq!(
        refused,
        0,
        "{refused} of {} requests not admitted",
        statuses.len()
    );
    assert!(redis_decisions(&gw, "redis", "allowed") > 0);
    assert!(
        redis_decisions(&gw, "fallback", "allowed") > 0,
        "the outage was decided locally"
    );
}

#[tokio::test]
async fn a_host_that_does_not_resolve_keeps_a_fault_tolerant_route_serving() {
    let upstream = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{upstream}
    routes: [{{name: api, paths: [/api]}}]
    plugins:
      - name: rate-limiting
        config: {{minute: 2, limit_by: header, header_name: x-api-key, policy: redis, redis_host: redis.invalid, redis_port: 6379, redis_timeout: 300}}
"#
    );
    let gw = TestGateway::start(&yaml).await;
    let answers = [
        call(&gw, "k").await,
        call(&gw, "k").await,
        call(&gw, "k").await,
    ];
    assert_eq!(statuses(&answers), [200, 200, 429], "limited locally");
    assert_eq!(redis_decisions(&gw, "fallback", "allowed"), 2);
}

#[tokio::test]
async fn without_fault_tolerance_an_outage_answers_500() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let gw = gateway(
        server.port(),
        "minute: 5, fault_tolerant: false",
        ", timeout: 300",
    )
    .await;
    assert_eq!(call(&gw, "k").await.status, 200);
    server.kill();
    for _ in 0..5 {
        let answer = call(&gw, "k").await;
        assert_eq!(answer.status, 500);
        assert_eq!(
            answer.json(),
            serde_json::json!({"message": "An unexpected error occurred"})
        );
    }
}

#[tokio::test]
async fn a_slow_redis_trips_the_breaker_and_later_requests_do_not_wait() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let timeout = Duration::from_millis(500);
    let gw = gateway(server.port(), "minute: 100", ", timeout: 500").await;
    assert_eq!(call(&gw, "k").await.status, 200);
    assert_eq!(
        server.command(&["CLIENT", "PAUSE", "5000", "ALL"]),
        "+OK\r\n"
    );
    // The first requests wait for the timeout, then are decided locally...
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(call(&gw, "k").await.status, 200);
        assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    }
    // ...until the breaker opens: then no request waits for Redis.
    for _ in 0..10 {
        let started = Instant::now();
        let answer = call(&gw, "k").await;
        let took = started.elapsed();
        assert_eq!(answer.status, 200);
        assert!(
            took < timeout / 2,
            "a request waited {took:?} with the breaker open"
        );
    }
    assert!(gw.gateway.metrics().render().contains(
        "sluicegate_ratelimit_redis_breaker_state{plugin=\"service api\",state=\"open\"} 1"
    ));
    assert_eq!(redis_decisions(&gw, "fallback", "allowed"), 13);
    server.command(&["CLIENT", "UNPAUSE"]);
}

#[tokio::test]
async fn a_password_and_an_acl_user_log_in_and_a_wrong_password_is_not_counted_on() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "gw-secret-1"]) else {
        return;
    };
    let right = gateway(server.port(), "minute: 3", ", password: gw-secret-1").await;
    assert_eq!(
        call(&right, "k")
            .await
            .header("x-ratelimit-remaining-minute"),
        "2"
    );
    assert_eq!(redis_decisions(&right, "redis", "allowed"), 1);

    // An ACL user (on a server whose default user needs no password, so the harness can
    // create it).
    let Some(acl_server) = RedisServer::start() else {
        return;
    };
    let created = acl_server.command(&[
        "ACL",
        "SETUSER",
        "limiter",
        "on",
        ">acl-secret-2",
        "~sluicegate:*",
        "+@all",
    ]);
    assert_eq!(created, "+OK\r\n");
    let acl = gateway(
        acl_server.port(),
        "minute: 3",
        ", username: limiter, password: acl-secret-2",
    )
    .await;
    assert_eq!(
        call(&acl, "k").await.header("x-ratelimit-remaining-minute"),
        "2"
    );
    assert_eq!(redis_decisions(&acl, "redis", "allowed"), 1);
    assert_eq!(keys(&acl_server), 1);

    let wrong = gateway(
        server.port(),
        "minute: 3, fault_tolerant: false",
        ", password: not-the-secret",
    )
    .await;
    assert_eq!(call(&wrong, "k").await.status, 500);
    assert_eq!(
        metric(
            &wrong,
            "sluicegate_ratelimit_redis_failures_total{plugin=\"service api\"}"
        ),
        1
    );
    let tolerant = gateway(server.port(), "minute: 3", ", password: not-the-secret").await;
    let answer = call(&tolerant, "k").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("x-ratelimit-remaining-minute"),
        "2",
        "counted locally"
    );
    assert_eq!(redis_decisions(&tolerant, "fallback", "allowed"), 1);
}

#[tokio::test]
async fn an_exhausted_key_is_rejected_without_a_round_trip() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let gw = gateway(server.port(), "minute: 2", "").await;
    let first = [
        call(&gw, "k").await,
        call(&gw, "k").await,
        call(&gw, "k").await,
    ];
    assert_eq!(statuses(&first), [200, 200, 429]);
    // One script call per request so far (the first one twice: the server learns the script).
    let calls = script_calls(&server);
    assert!((3..=4).contains(&calls), "{calls} script calls");
    let retry: u64 = first[2].header("retry-after").parse().unwrap();
    for _ in 0..5 {
        let again = call(&gw, "k").await;
        assert_eq!(again.status, 429);
        assert_eq!(again.header("x-ratelimit-remaining-minute"), "0");
        let told: u64 = again.header("retry-after").parse().unwrap();
        assert!(
            told <= retry && told + 2 >= retry,
            "retry-after {told} after {retry}"
        );
    }
    assert_eq!(
        script_calls(&server),
        calls,
        "no round trip for the exhausted key"
    );
    assert_eq!(redis_decisions(&gw, "exhausted", "rejected"), 5);
    // Another key still goes to Redis.
    assert_eq!(call(&gw, "other").await.status, 200);
    assert_eq!(script_calls(&server), calls + 1);
}

#[tokio::test]
async fn sync_rate_admits_locally_and_shares_usage_after_a_sync() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let limit = 10;
    let a = gateway(
        server.port(),
        &format!("minute: {limit}, sync_rate: 0.1"),
        "",
    )
    .await;
    let b = gateway(
        server.port(),
        &format!("minute: {limit}, sync_rate: 0.1"),
        "",
    )
    .await;
    let mut on_a = Vec::new();
    for _ in 0..15 {
        on_a.push(call(&a, "k").await);
    }
    assert_eq!(
        count(&on_a, 200),
        limit,
        "instance a holds the limit on its own"
    );
    assert_eq!(redis_decisions(&a, "local", "allowed"), limit as u64);
    assert!(script_calls(&server) < 15, "not one round trip per request");
    // After a's sync the usage is on Redis.
    let deadline = Instant::now() + Duration::from_secs(10);
    while keys(&server) == 0 {
        assert!(Instant::now() < deadline, "a never synced");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // b has not synced this key yet: it admits locally, the over-admission sync_rate allows.
    assert_eq!(call(&b, "k").await.status, 200);
    // Once b's sync reports the cluster's usage, b rejects the key too.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        // Three sync periods between tries: b syncs before it is asked again.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer = call(&b, "k").await;
        if answer.status == 429 {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "b never learned the key is exhausted"
        );
    };
    assert_eq!(refused.header("x-ratelimit-remaining-minute"), "0");
    let admitted_on_b = redis_decisions(&b, "local", "allowed");
    assert!(
        admitted_on_b <= 3,
        "b admitted {admitted_on_b} past the limit; at most a few sync periods' worth expected"
    );
    assert!(
        metric(
            &b,
            "sluicegate_ratelimit_redis_syncs_total{plugin=\"service api\",result=\"ok\"}"
        ) >= 1
    );
}
