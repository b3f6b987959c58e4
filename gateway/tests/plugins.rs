//! The request-transformer and correlation-id plugins through a real gateway, configured as
//! Kong configures them.

mod support;

use support::{TestGateway, echo_upstream, get};

#[tokio::test]
async fn request_transformer_edits_in_kongs_order() {
    let port = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{port}
    routes: [{{name: api, paths: [/api]}}]
    plugins:
      - name: request-transformer
        config:
          remove: {{headers: [cookie], querystring: [debug]}}
          rename: {{headers: ["x-old:x-new"]}}
          replace: {{headers: ["x-tier:gold"]}}
          add: {{headers: ["x-gateway-version:1.0", "x-request-id:$(uuid)"], querystring: ["source:gateway"]}}
          append: {{headers: ["x-trail:gateway"]}}
"#
    );
    let gw = TestGateway::start(&yaml).await;
    let answer = get(
        &gw.url("/api?debug=1&page=2"),
        &[
            ("cookie", "session=secret"),
            ("x-old", "moved"),
            ("x-tier", "free"),
            ("x-trail", "client"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-seen-query"), "page=2&source=gateway");
    let seen = answer.seen_headers();
    assert!(seen.get("cookie").is_none());
    assert!(seen.get("x-old").is_none());
    assert_eq!(seen["x-new"][0], "moved");
    assert_eq!(seen["x-tier"][0], "gold");
    assert_eq!(seen["x-gateway-version"][0], "1.0");
    assert_eq!(seen["x-request-id"][0].as_str().unwrap().len(), 36);
    assert_eq!(seen["x-trail"], serde_json::json!(["client", "gateway"]));

    let again = get(&gw.url("/api"), &[]).await;
    assert_ne!(
        again.seen_headers()["x-request-id"],
        seen["x-request-id"],
        "$(uuid) is fresh for each request"
    );
}

#[tokio::test]
async fn correlation_id_plugin_with_kongs_defaults() {
    let port = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
plugins:
  - name: correlation-id
services:
  - name: api
    url: http://127.0.0.1:{port}
    routes: [{{name: api, paths: [/api]}}]
"#
    );
    let gw = TestGateway::start(&yaml).await;
    let first = get(&gw.url("/api"), &[]).await;
    let second = get(&gw.url("/api"), &[]).await;
    // Kong's defaults: Kong-Request-ID, uuid#counter, not echoed.
    let id = |a: &support::Answer| {
        a.seen_headers()["kong-request-id"][0]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (id(&first), id(&second));
    let (a_uuid, a_n) = a.split_once('#').unwrap();
    let (b_uuid, b_n) = b.split_once('#').unwrap();
    assert_eq!(a_uuid, b_uuid);
    assert_eq!(b_n.parse::<u64>().unwrap(), a_n.parse::<u64>().unwrap() + 1);
    assert!(!first.headers.contains_key("kong-request-id"));
    let kept = get(&gw.url("/api"), &[("kong-request-id", "from-client")]).await;
    assert_eq!(kept.seen_headers()["kong-request-id"][0], "from-client");
}
