//! Rate limits through a real gateway: per user, per IP behind trusted proxies, several
//! periods at once, and every header and answer Kong's plugin gives.

mod support;

use sluicegate_gateway::peer::TrustedProxies;
use sluicegate_gateway::server::GatewayOptions;
use support::{Answer, TestGateway, bearer, consumers_yaml, echo_upstream, get, token};

async fn gateway(plugin: &str, jwt: bool, options: GatewayOptions) -> TestGateway {
    let port = echo_upstream().await.port();
    let jwt = if jwt { "      - name: jwt\n" } else { "" };
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{port}
    routes: [{{name: api, paths: [/api]}}]
    plugins:
{jwt}      - name: rate-limiting
        config: {plugin}
{consumers}"#,
        consumers = consumers_yaml()
    );
    TestGateway::start_with(&yaml, options).await
}

fn remaining(answer: &Answer) -> &str {
    answer.header("x-ratelimit-remaining-minute")
}

#[tokio::test]
async fn each_user_has_a_limit_of_their_own() {
    let gw = gateway(
        "{minute: 3, limit_by: consumer, policy: local}",
        true,
        GatewayOptions::default(),
    )
    .await;
    let alice = bearer(&token("alice", &[]));
    let bob = bearer(&token("bob", &[]));
    for left in ["2", "1", "0"] {
        let answer = get(&gw.url("/api"), &[("authorization", &alice)]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-ratelimit-limit-minute"), "3");
        assert_eq!(remaining(&answer), left);
        assert_eq!(answer.header("ratelimit-limit"), "3");
        assert_eq!(answer.header("ratelimit-remaining"), left);
        let reset: u64 = answer.header("ratelimit-reset").parse().unwrap();
        assert!((1..=60).contains(&reset));
    }
    let refused = get(&gw.url("/api"), &[("authorization", &alice)]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.json(),
        serde_json::json!({"message": "API rate limit exceeded"})
    );
    assert_eq!(remaining(&refused), "0");
    // The first request leaves the window 60 s after it arrived: a whole-second wait that is
    // never early rounds that up.
    let retry: u64 = refused.header("retry-after").parse().unwrap();
    assert!((59..=60).contains(&retry), "retry-after {retry}");
    assert_eq!(refused.header("ratelimit-reset"), retry.to_string());
    assert_eq!(refused.header("ratelimit-policy"), "\"minute\";q=3;w=60");
    assert_eq!(
        refused.header("ratelimit"),
        format!("\"minute\";r=0;t={retry}")
    );
    // A rejected request is not counted, and Bob is not Alice.
    let answer = get(&gw.url("/api"), &[("authorization", &bob)]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(remaining(&answer), "2");
}

#[tokio::test]
async fn anonymous_callers_fall_back_to_their_ip() {
    let gw = gateway(
        "{minute: 2, limit_by: consumer}",
        false,
        GatewayOptions::default(),
    )
    .await;
    // Untrusted X-Forwarded-For is ignored: both "clients" are 127.0.0.1.
    let a = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.1")]).await;
    let b = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.2")]).await;
    let c = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.3")]).await;
    assert_eq!(
        [a.status, b.status, c.status].map(|s| s.as_u16()),
        [200, 200, 429]
    );
}

#[tokio::test]
async fn trusted_proxies_vouch_for_the_client_address() {
    let options = GatewayOptions {
        trusted_proxies: "127.0.0.1".parse::<TrustedProxies>().unwrap(),
    };
    let gw = gateway("{minute: 1, limit_by: ip}", false, options).await;
    let first = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.1")]).await;
    let other = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.2")]).await;
    let again = get(&gw.url("/api"), &[("x-forwarded-for", "198.51.100.1")]).await;
    // IPv4-mapped IPv6 is the same client.
    let mapped = get(
        &gw.url("/api"),
        &[("x-forwarded-for", "::ffff:198.51.100.2")],
    )
    .await;
    assert_eq!(
        [first.status, other.status, again.status, mapped.status].map(|s| s.as_u16()),
        [200, 200, 429, 429]
    );
    // The upstream sees the chain with the trusted hop appended.
    assert_eq!(
        first.seen_headers()["x-forwarded-for"][0],
        "198.51.100.1, 127.0.0.1"
    );
}

#[tokio::test]
async fn every_period_is_enforced_and_reported() {
    let gw = gateway(
        "{second: 2, minute: 5, limit_by: ip, headers: [x-ratelimit, ratelimit]}",
        false,
        GatewayOptions::default(),
    )
    .await;
    get(&gw.url("/api"), &[]).await;
    let second = get(&gw.url("/api"), &[]).await;
    assert_eq!(second.header("x-ratelimit-limit-second"), "2");
    assert_eq!(second.header("x-ratelimit-remaining-second"), "0");
    assert_eq!(second.header("x-ratelimit-limit-minute"), "5");
    assert_eq!(second.header("x-ratelimit-remaining-minute"), "3");
    // The tightest period speaks for RateLimit-*.
    assert_eq!(second.header("ratelimit-limit"), "2");
    assert!(!second.headers.contains_key("ratelimit-policy"));
    let third = get(&gw.url("/api"), &[]).await;
    assert_eq!(third.status, 429);
    assert_eq!(third.header("retry-after"), "1");
    // Waiting as told is enough.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let later = get(&gw.url("/api"), &[]).await;
    assert_eq!(later.status, 200);
    assert_eq!(later.header("x-ratelimit-remaining-minute"), "2");
}

#[tokio::test]
async fn hidden_headers_custom_status_and_message() {
    let gw = gateway(
        "{minute: 1, limit_by: ip, hide_client_headers: true, error_code: 503, error_message: Slow down}",
        false,
        GatewayOptions::default(),
    )
    .await;
    let first = get(&gw.url("/api"), &[]).await;
    assert_eq!(first.status, 200);
    assert!(
        first
            .headers
            .keys()
            .all(|k| !k.as_str().contains("ratelimit")),
        "{:?}",
        first.headers
    );
    let refused = get(&gw.url("/api"), &[]).await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json()["message"], "Slow down");
    assert!(refused.headers.contains_key("retry-after"));
    assert!(!refused.headers.contains_key("x-ratelimit-remaining-minute"));
}

#[tokio::test]
async fn one_limit_is_shared_by_every_connection() {
    let gw = gateway(
        "{minute: 20, limit_by: ip}",
        false,
        GatewayOptions::default(),
    )
    .await;
    // 30 requests at once, each on its own client (its own connection).
    let answers = futures_util::future::join_all((0..30).map(|_| {
        let url = gw.url("/api");
        async move { get(&url, &[]).await.status }
    }))
    .await;
    let admitted = answers.iter().filter(|s| s.as_u16() == 200).count();
    let refused = answers.iter().filter(|s| s.as_u16() == 429).count();
    assert_eq!((admitted, refused), (20, 10));
}
