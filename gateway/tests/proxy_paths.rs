//! Kong's `strip_path` table and route matching, end to end: what path the upstream sees.

mod support;

use support::{TestGateway, echo_upstream, get};

/// (service path, route path, strip_path, request, upstream path): Kong's documented cases.
const TABLE: [(&str, &str, bool, &str, &str); 8] = [
    ("/", "/r1", true, "/r1", "/"),
    ("/service", "/r2", true, "/r2/", "/service/"),
    ("/service", "/r2", true, "/r2req", "/service/req"),
    ("/service", "/r3", false, "/r3", "/service/r3"),
    ("/service/", "/r4", true, "/r4", "/service"),
    ("/service/", "/r4", true, "/r4/x", "/service/x"),
    ("/", "/r5", false, "/r5/deep/path", "/r5/deep/path"),
    ("/service", "/r3", false, "/r3/", "/service/r3/"),
];

#[tokio::test]
async fn kong_strip_path_table() {
    let port = echo_upstream().await.port();
    let mut yaml = String::from("_format_version: \"3.0\"\nservices:\n");
    let mut seen = Vec::new();
    for (i, (service_path, route_path, strip, _, _)) in TABLE.iter().enumerate() {
        if seen.contains(route_path) {
            continue;
        }
        seen.push(*route_path);
        yaml.push_str(&format!(
            "  - name: s{i}\n    url: http://127.0.0.1:{port}{service_path}\n    routes:\n      - name: r{i}\n        paths: [{route_path}]\n        strip_path: {strip}\n"
        ));
    }
    let gw = TestGateway::start(&yaml).await;
    for (service_path, route_path, strip, request, expected) in TABLE {
        let answer = get(&gw.url(request), &[]).await;
        assert_eq!(answer.status, 200, "{request}");
        assert_eq!(
            answer.header("x-seen-path"),
            expected,
            "service {service_path}, route {route_path}, strip_path {strip}, request {request}"
        );
    }
}

#[tokio::test]
async fn regex_routes_methods_hosts_and_specificity() {
    let port = echo_upstream().await.port();
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{port}/api
    routes:
      - name: items
        paths: ["~/items/[0-9]+"]
      - name: catch-all
        paths: [/]
        strip_path: false
      - name: writes
        paths: [/items]
        methods: [POST]
      - name: tenant
        paths: [/]
        hosts: ["*.tenant.test"]
"#
    );
    let gw = TestGateway::start(&yaml).await;
    // A regex path matches at the start and strips what it matched.
    let item = get(&gw.url("/items/42/detail"), &[]).await;
    assert_eq!(item.header("x-seen-path"), "/api/detail");
    // Not a number: the regex does not match, the catch-all does.
    let other = get(&gw.url("/items/abc"), &[]).await;
    assert_eq!(other.header("x-seen-path"), "/api/items/abc");
    // A route with methods outranks one without.
    let post = support::send(
        http::Request::post(gw.url("/items"))
            .body(sluicegate_gateway::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(post.header("x-seen-path"), "/api");
    // A route with hosts outranks everything else for its hosts.
    let tenant = get(&gw.url("/items/7"), &[("host", "acme.tenant.test")]).await;
    assert_eq!(tenant.header("x-seen-path"), "/api/items/7");
}
