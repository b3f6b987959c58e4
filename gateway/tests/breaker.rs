//! The circuit breaker through a real gateway: it opens on upstream failures, answers 503 with
//! `Retry-After` while open, probes, and recovers; client errors never open it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use sluicegate_gateway::body::Body;
use support::{TestGateway, get};

/// An upstream answering with whatever status the test sets, counting the calls it gets.
struct Upstream {
    status: Arc<AtomicU16>,
    calls: Arc<AtomicUsize>,
    port: u16,
}

async fn upstream() -> Upstream {
    let status = Arc::new(AtomicU16::new(200));
    let calls = Arc::new(AtomicUsize::new(0));
    let (s, c) = (status.clone(), calls.clone());
    let addr = support::upstream(move |_req| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let mut response = http::Response::new(Body::from("answer"));
            *response.status_mut() = http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
            response
        }
    })
    .await;
    Upstream {
        status,
        calls,
        port: addr.port(),
    }
}

async fn gateway(port: u16) -> TestGateway {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: fragile
    url: http://127.0.0.1:{port}
    routes: [{{name: fragile, paths: [/f]}}]
    plugins:
      - name: circuit-breaker
        config:
          consecutive_failures: 3
          open_for: 0.5
          half_open: {{permits: 1, successes: 2}}
"#
    );
    TestGateway::start(&yaml).await
}

async fn status(gw: &TestGateway) -> u16 {
    get(&gw.url("/f"), &[]).await.status.as_u16()
}

async fn breaker_state(gw: &TestGateway) -> String {
    let metrics = get(&gw.url("/metrics"), &[]).await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("sluicegate_breaker_state{service=\"fragile\"") && l.ends_with(" 1")
        })
        .map(|l| {
            l.split("state=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .next()
        .expect("the breaker is reported")
}

#[tokio::test]
async fn opens_rejects_probes_and_recovers() {
    let up = upstream().await;
    let gw = gateway(up.port).await;
    assert_eq!(status(&gw).await, 200);
    up.status.store(500, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(
            status(&gw).await,
            500,
            "failures pass through until the breaker trips"
        );
    }
    assert_eq!(breaker_state(&gw).await, "open");
    let rejected = get(&gw.url("/f"), &[]).await;
    assert_eq!(rejected.status, 503);
    assert_eq!(rejected.header("retry-after"), "1");
    assert_eq!(
        rejected.json()["message"],
        "The upstream service is temporarily unavailable"
    );
    assert_eq!(
        up.calls.load(Ordering::SeqCst),
        4,
        "an open breaker spares the upstream"
    );

    // The upstream recovers; after the open time, two good trials close the breaker.
    up.status.store(200, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(status(&gw).await, 200);
    assert_eq!(breaker_state(&gw).await, "half_open");
    assert_eq!(status(&gw).await, 200);
    assert_eq!(breaker_state(&gw).await, "closed");
    assert_eq!(status(&gw).await, 200);
}

#[tokio::test]
async fn a_failed_probe_reopens() {
    let up = upstream().await;
    let gw = gateway(up.port).await;
    up.status.store(503, Ordering::SeqCst);
    for _ in 0..3 {
        status(&gw).await;
    }
    assert_eq!(status(&gw).await, 503);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let calls = up.calls.load(Ordering::SeqCst);
    assert_eq!(status(&gw).await, 503, "the probe fails");
    assert_eq!(up.calls.load(Ordering::SeqCst), calls + 1);
    let rejected = get(&gw.url("/f"), &[]).await;
    assert_eq!(rejected.status, 503);
    assert!(rejected.headers.contains_key("retry-after"));
    assert_eq!(
        up.calls.load(Ordering::SeqCst),
        calls + 1,
        "reopened at once"
    );
}

#[tokio::test]
async fn client_errors_never_open_it() {
    let up = upstream().await;
    let gw = gateway(up.port).await;
    up.status.store(404, Ordering::SeqCst);
    for _ in 0..10 {
        assert_eq!(status(&gw).await, 404);
    }
    assert_eq!(breaker_state(&gw).await, "closed");
    assert_eq!(up.calls.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn refused_connections_open_it() {
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = gateway(port).await;
    for _ in 0..3 {
        assert_eq!(status(&gw).await, 502);
    }
    assert_eq!(status(&gw).await, 503);
}
