//! The main job as README tells it: `examples/gateway.yaml` in front of the demo upstreams, and
//! what each of README's requests answers. The upstreams and the gateway listen on ephemeral
//! ports here, so the test never meets a demo someone is running.

mod support;

use sluicegate_gateway::demo;
use sluicegate_gateway::jwt::{DevToken, mint_dev_token};
use support::{TestGateway, bearer, get};
use tokio::net::TcpListener;

/// The example configuration, pointed at demo upstreams on ephemeral ports.
async fn demo_gateway() -> TestGateway {
    let mut yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/gateway.yaml"
    ))
    .unwrap();
    for (name, port) in demo::SERVICES {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let actual = listener.local_addr().unwrap().port();
        demo::spawn(name, listener);
        yaml = yaml.replace(
            &format!("http://127.0.0.1:{port}"),
            &format!("http://127.0.0.1:{actual}"),
        );
    }
    TestGateway::start(&yaml).await
}

/// A token as `sluicegate-gateway token` mints it.
fn token(subject: &str, scopes: &[&str]) -> String {
    let claims = DevToken::new("sluicegate-dev", subject).scopes(scopes.iter().copied());
    bearer(&mint_dev_token(support::PRIVATE_PEM, &claims).unwrap())
}

#[tokio::test]
async fn readme_walkthrough() {
    let gw = demo_gateway().await;
    let alice = token("alice", &["orders:read"]);
    let root = token("root", &["admin"]);

    let users = get(
        &gw.url("/api/v1/users/42?fields=name"),
        &[("authorization", &alice)],
    )
    .await;
    assert_eq!(users.status, 200, "{:?}", users.body);
    assert_eq!(users.header("x-ratelimit-limit-minute"), "100");
    assert_eq!(users.header("x-ratelimit-remaining-minute"), "99");
    let id = users.header("x-correlation-id");
    let body = users.json();
    assert_eq!(body["service"], "users");
    assert_eq!(body["path"], "/api/v1/users/42");
    assert_eq!(body["query"], "fields=name");
    assert_eq!(body["user"], "alice");
    assert_eq!(body["correlation_id"], id);

    let orders = get(&gw.url("/api/v1/orders"), &[("authorization", &alice)]).await;
    assert_eq!(orders.status, 200);
    assert_eq!(orders.json()["service"], "orders");

    let forbidden = get(&gw.url("/api/v1/admin/stats"), &[("authorization", &alice)]).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json()["error"], "Missing required scope: admin");

    let anonymous = get(&gw.url("/api/v1/users/42"), &[]).await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.header("www-authenticate"), "Bearer");

    let public = get(&gw.url("/api/v1/status"), &[]).await;
    assert_eq!(public.status, 200);

    let mut codes = Vec::new();
    for _ in 0..11 {
        let answer = get(&gw.url("/api/v1/admin/stats"), &[("authorization", &root)]).await;
        codes.push(answer.status.as_u16());
    }
    assert_eq!(
        codes,
        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429]
    );
    let limited = get(&gw.url("/api/v1/admin/stats"), &[("authorization", &root)]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["message"], "API rate limit exceeded");
    assert_eq!(limited.header("retry-after"), "60");

    let mut codes = Vec::new();
    for _ in 0..6 {
        let answer = get(&gw.url("/api/v1/orders/fail"), &[("authorization", &alice)]).await;
        codes.push(answer.status.as_u16());
    }
    assert_eq!(codes, [500, 500, 500, 500, 500, 503]);
    let open = get(&gw.url("/api/v1/orders"), &[("authorization", &alice)]).await;
    assert_eq!(open.status, 503);
    assert_eq!(open.header("retry-after"), "30");
    // Users has a breaker of its own.
    let users = get(&gw.url("/api/v1/users/1"), &[("authorization", &alice)]).await;
    assert_eq!(users.status, 200);

    let health = get(&gw.url("/health"), &[]).await;
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
    let metrics = get(&gw.url("/metrics"), &[]).await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(text.contains("sluicegate_breaker_state{service=\"orders\",state=\"open\"} 1"));
}
