//! Several gateway threads on one port: each answers, they share one limit, and shutting them
//! down finishes what is in flight and frees the port.

mod support;

use std::time::Duration;

use sluicegate_gateway::body::Body;
use sluicegate_gateway::config::Config;
use sluicegate_gateway::server::{Gateway, GatewayOptions, spawn_workers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_port_and_the_limits() {
    let upstream = support::upstream(|_req| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        http::Response::new(Body::from("ok"))
    })
    .await;
    let yaml = format!(
        r#"_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:{}
    routes:
      - name: api
        paths: [/api]
        plugins:
          - name: rate-limiting
            config: {{minute: 10, limit_by: ip}}
      - name: slow
        paths: [/slow]
"#,
        upstream.port()
    );
    let config = Config::from_yaml(&yaml, "test").unwrap();
    let gateway = Gateway::new(&config, GatewayOptions::default()).unwrap();
    let workers = spawn_workers(
        "127.0.0.1:0".parse().unwrap(),
        gateway,
        3,
        support::DEADLINE,
    )
    .unwrap();
    let url = format!("http://{}/api", workers.local_addr());
    let slow = format!("http://{}/slow", workers.local_addr());
    // Sixteen connections at once spread over the workers; the limit is still one limit.
    let statuses = futures_util::future::join_all((0..16).map(|_| {
        let url = url.clone();
        async move { support::get(&url, &[]).await.status.as_u16() }
    }))
    .await;
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 10);
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 6);

    // A request in flight when the workers stop still gets its answer.
    let in_flight = tokio::spawn(async move { support::get(&slow, &[]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let local = workers.local_addr();
    tokio::task::spawn_blocking(move || workers.shut_down())
        .await
        .unwrap()
        .unwrap();
    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.body[..], b"ok");
    assert!(tokio::net::TcpStream::connect(local).await.is_err());
}
