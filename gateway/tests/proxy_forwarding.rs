//! What the proxy forwards: paths, query strings, bodies of any type, and the headers it must
//! drop, set or protect — through a real gateway to a real upstream on loopback.

mod support;

use bytes::Bytes;
use http::Request;
use sluicegate_gateway::body::Body;
use support::{TestGateway, bearer, consumers_yaml, echo_upstream, get, send, token};

async fn gateway() -> TestGateway {
    let port = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: echo
    url: http://127.0.0.1:{port}/base
    routes:
      - name: echo
        paths: [/echo]
      - name: kept-host
        paths: [/kept-host]
        strip_path: false
        preserve_host: true
      - name: private
        paths: [/private]
        plugins:
          - name: jwt
{consumers}"#,
        consumers = consumers_yaml()
    );
    TestGateway::start(&yaml).await
}

#[tokio::test]
async fn path_and_query_string_arrive_as_sent() {
    let gw = gateway().await;
    let answer = get(&gw.url("/echo/a/b?x=1&y=%20z&x=2&empty="), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-seen-path"), "/base/a/b");
    assert_eq!(answer.header("x-seen-query"), "x=1&y=%20z&x=2&empty=");
    let dotted = get(&gw.url("/echo/a/../../echo/c"), &[]).await;
    assert_eq!(dotted.header("x-seen-path"), "/base/c");
}

#[tokio::test]
async fn binary_bodies_stream_through_intact() {
    let gw = gateway().await;
    // 1 MiB that is not valid UTF-8 or JSON, sent as a stream of chunks.
    let mut seed = 0x2545_f491_u32;
    let payload: Vec<u8> = (0..1 << 20)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    let chunks: Vec<Result<http_body::Frame<Bytes>, std::io::Error>> = payload
        .chunks(64 * 1024)
        .map(|c| Ok(http_body::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
    let request = Request::post(gw.url("/echo/upload"))
        .header("content-type", "application/octet-stream")
        .body(Body::new(body))
        .unwrap();
    let answer = send(request).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/octet-stream");
    assert_eq!(answer.body.len(), payload.len());
    assert!(answer.body == payload, "the body changed on the way");

    let form = Request::post(gw.url("/echo/form"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("a=1&b=%C3%A9"))
        .unwrap();
    let answer = send(form).await;
    assert_eq!(&answer.body[..], b"a=1&b=%C3%A9");
    assert_eq!(
        answer.header("content-type"),
        "application/x-www-form-urlencoded"
    );
}

#[tokio::test]
async fn hop_by_hop_headers_are_dropped_both_ways() {
    let upstream = support::upstream(|_req| async {
        let mut response = http::Response::new(Body::from("ok"));
        let h = response.headers_mut();
        h.insert("connection", "x-upstream-private".parse().unwrap());
        h.insert("x-upstream-private", "1".parse().unwrap());
        h.insert("proxy-authenticate", "Basic".parse().unwrap());
        h.insert("x-kept", "yes".parse().unwrap());
        response
    })
    .await;
    let echo = echo_upstream().await;
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: hops
    url: http://127.0.0.1:{}
    routes: [{{name: hops, paths: [/hops]}}]
  - name: echo
    url: http://127.0.0.1:{}
    routes: [{{name: echo, paths: [/echo]}}]
"#,
        upstream.port(),
        echo.port()
    );
    let gw = TestGateway::start(&yaml).await;
    let answer = get(
        &gw.url("/echo"),
        &[
            ("connection", "keep-alive, x-client-private"),
            ("x-client-private", "secret"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic Zm9vOmJhcg=="),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("x-normal", "1"),
        ],
    )
    .await;
    let seen = answer.seen_headers();
    for dropped in [
        "x-client-private",
        "keep-alive",
        "proxy-authorization",
        "te",
        "upgrade",
    ] {
        assert!(
            seen.get(dropped).is_none(),
            "{dropped} reached the upstream"
        );
    }
    assert_eq!(seen["x-normal"][0], "1");

    let answer = get(&gw.url("/hops"), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-kept"), "yes");
    assert!(!answer.headers.contains_key("x-upstream-private"));
    assert!(!answer.headers.contains_key("proxy-authenticate"));
}

#[tokio::test]
async fn forwarded_headers_and_host_are_set_and_not_forgeable() {
    let gw = gateway().await;
    let answer = get(
        &gw.url("/echo"),
        &[
            ("host", "api.example.test"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    let seen = answer.seen_headers();
    assert_eq!(seen["x-forwarded-for"][0], "127.0.0.1");
    assert_eq!(seen["x-forwarded-proto"][0], "http");
    assert_eq!(seen["x-forwarded-host"][0], "api.example.test");
    assert_eq!(seen["x-forwarded-port"][0], gw.addr.port().to_string());
    // Without preserve_host the upstream sees its own name.
    assert!(seen["host"][0].as_str().unwrap().starts_with("127.0.0.1:"));

    let kept = get(&gw.url("/kept-host"), &[("host", "api.example.test")]).await;
    assert_eq!(kept.seen_headers()["host"][0], "api.example.test");
    assert_eq!(kept.header("x-seen-path"), "/base/kept-host");
}

#[tokio::test]
async fn the_caller_is_named_by_the_gateway_only() {
    let gw = gateway().await;
    // A client cannot name itself.
    let forged = get(
        &gw.url("/echo"),
        &[("x-user-id", "admin"), ("x-consumer-username", "root")],
    )
    .await;
    let seen = forged.seen_headers();
    assert!(seen.get("x-user-id").is_none());
    assert!(seen.get("x-consumer-username").is_none());

    let alice = bearer(&token("alice", &[]));
    let answer = get(
        &gw.url("/private/x"),
        &[("authorization", &alice), ("x-user-id", "admin")],
    )
    .await;
    assert_eq!(answer.status, 200);
    let seen = answer.seen_headers();
    assert_eq!(seen["x-user-id"], serde_json::json!(["alice"]));
    assert_eq!(seen["x-consumer-username"][0], "tester");
    assert_eq!(seen["x-credential-identifier"][0], support::ISSUER);
}

#[tokio::test]
async fn correlation_ids_are_kept_or_made_and_forwarded() {
    let gw = gateway().await;
    let sent = get(&gw.url("/echo"), &[("x-correlation-id", "trace-42")]).await;
    assert_eq!(sent.seen_headers()["x-correlation-id"][0], "trace-42");
    assert_eq!(sent.header("x-correlation-id"), "trace-42");

    let made = get(&gw.url("/echo"), &[]).await;
    let id = made.header("x-correlation-id").to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(made.seen_headers()["x-correlation-id"][0], id.as_str());
    let other = get(&gw.url("/echo"), &[]).await;
    assert_ne!(other.header("x-correlation-id"), id);
}

#[tokio::test]
async fn unmatched_paths_health_and_metrics() {
    let gw = gateway().await;
    let missing = get(&gw.url("/nowhere"), &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["message"],
        "no Route matched with those values"
    );

    let health = get(&gw.url("/health"), &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), serde_json::json!({"status": "ok"}));

    get(&gw.url("/echo"), &[]).await;
    get(&gw.url("/private"), &[]).await;
    let metrics = get(&gw.url("/metrics"), &[]).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    for line in [
        "sluicegate_requests_total{route=\"echo\",status=\"200\"} 1",
        "sluicegate_requests_total{route=\"private\",status=\"401\"} 1",
        "sluicegate_requests_total{route=\"(none)\",status=\"404\"} 1",
        "sluicegate_request_duration_seconds_count{route=\"echo\"} 1",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
}

#[tokio::test]
async fn http2_clients_are_proxied_to_http1_upstreams() {
    let gw = gateway().await;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http::<Body>();
    let request = Request::get(gw.url("/kept-host/x?q=1"))
        .body(Body::empty())
        .unwrap();
    let response = tokio::time::timeout(support::DEADLINE, client.request(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let seen: serde_json::Value =
        serde_json::from_str(response.headers()["x-seen-headers"].to_str().unwrap()).unwrap();
    let authority = gw.addr.to_string();
    assert_eq!(
        seen["host"][0],
        authority.as_str(),
        "preserve_host keeps the :authority"
    );
    assert_eq!(seen["x-forwarded-host"][0], authority.as_str());
    assert_eq!(response.headers()["x-seen-query"], "q=1");
}
