//! Upstreams that refuse, hang, reset or dawdle: the gateway answers 502 or 504 itself, or
//! aborts a response it had begun, and never hangs.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::Request;
use http_body_util::BodyExt;
use sluicegate_gateway::body::Body;
use support::{TestGateway, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A gateway with one route `/up` to `127.0.0.1:port`, a 400 ms read timeout and no retries.
async fn gateway_to(port: u16) -> TestGateway {
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: flaky
    url: http://127.0.0.1:{port}
    connect_timeout: 1000
    read_timeout: 400
    write_timeout: 400
    retries: 1
    routes: [{{name: up, paths: [/up]}}]
"#
    );
    TestGateway::start(&yaml).await
}

/// A raw TCP upstream: each connection is handed to `script` once a request head has arrived.
async fn raw_upstream<F, Fut>(script: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                script(stream).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn refused_connection_is_502() {
    // A port nothing listens on: bind one, then let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = gateway_to(port).await;
    let answer = get(&gw.url("/up"), &[]).await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        answer.json()["message"],
        "An invalid response was received from the upstream server"
    );
}

#[tokio::test]
async fn hanging_upstream_is_504_after_the_read_timeout() {
    let addr = raw_upstream(|stream| async move {
        // Say nothing, and hold the connection well past the timeout.
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(stream);
    })
    .await;
    let gw = gateway_to(addr.port()).await;
    let started = Instant::now();
    let answer = get(&gw.url("/up"), &[]).await;
    let waited = started.elapsed();
    assert_eq!(answer.status, 504);
    assert_eq!(
        answer.json()["message"],
        "The upstream server is timing out"
    );
    assert!(
        waited >= Duration::from_millis(400),
        "gave up early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "gave up late: {waited:?}");
    let metrics = get(&gw.url("/metrics"), &[]).await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(text.contains("sluicegate_upstream_failures_total{route=\"up\",kind=\"timeout\"} 1"));
}

#[tokio::test]
async fn connection_closed_before_the_head_is_502() {
    let addr = raw_upstream(|stream| async move { drop(stream) }).await;
    let gw = gateway_to(addr.port()).await;
    let answer = get(&gw.url("/up"), &[]).await;
    assert_eq!(answer.status, 502);
}

#[tokio::test]
async fn reset_mid_body_aborts_the_response() {
    let addr = raw_upstream(|mut stream| async move {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\ncontent-type: text/plain\r\n\r\n";
        let _ = stream.write_all(head).await;
        let _ = stream.write_all(&[b'x'; 1000]).await;
        let _ = stream.flush().await;
        // Close, 99,000 bytes short.
        drop(stream);
    })
    .await;
    let gw = gateway_to(addr.port()).await;
    let response = tokio::time::timeout(
        support::DEADLINE,
        support::client().request(Request::get(gw.url("/up")).body(Body::empty()).unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the head had already been passed on"
    );
    let body = tokio::time::timeout(support::DEADLINE, response.into_body().collect())
        .await
        .expect("the body ends");
    assert!(body.is_err(), "a truncated body must not look complete");
}

#[tokio::test]
async fn upstream_silent_mid_body_is_cut_off_at_the_read_timeout() {
    let addr = raw_upstream(|mut stream| async move {
        let head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
        let _ = stream.write_all(head).await;
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let gw = gateway_to(addr.port()).await;
    let started = Instant::now();
    let response = support::client()
        .request(Request::get(gw.url("/up")).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(support::DEADLINE, response.into_body().collect())
        .await
        .expect("the body ends");
    assert!(body.is_err());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn slow_upstream_within_the_timeout_is_waited_for() {
    let upstream = support::upstream(|_req| async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        http::Response::new(Body::from("late but fine"))
    })
    .await;
    let gw = gateway_to(upstream.port()).await;
    let answer = get(&gw.url("/up"), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.body[..], b"late but fine");
}

#[tokio::test]
async fn upstream_not_taking_a_large_body_is_504() {
    // The upstream takes the head, then neither reads the body nor answers.
    let addr = raw_upstream(|stream| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(stream);
    })
    .await;
    let gw = gateway_to(addr.port()).await;
    // Far more than socket buffers hold, so the gateway must wait on the upstream.
    let body = vec![b'z'; 32 << 20];
    let started = Instant::now();
    let answer = support::send(
        Request::post(gw.url("/up"))
            .body(Body::from(bytes::Bytes::from(body)))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 504);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_request_the_upstream_may_have_seen_is_not_retried() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let addr = raw_upstream(move |stream| {
        let counter = counter.clone();
        async move {
            // The request arrived; the upstream then breaks the connection.
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    })
    .await;
    let gw = gateway_to(addr.port()).await;
    let answer = get(&gw.url("/up"), &[]).await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "retried a request that reached the upstream"
    );
}
