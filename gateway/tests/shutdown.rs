//! Graceful shutdown: a request in flight when the signal comes still gets its answer, and
//! nothing new is accepted.

mod support;

use std::time::Duration;

use sluicegate_gateway::body::Body;
use sluicegate_gateway::server::GatewayOptions;
use support::TestGateway;

#[tokio::test]
async fn a_slow_request_in_flight_finishes() {
    let slow = support::upstream(|_req| async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        http::Response::new(Body::from("finished"))
    })
    .await;
    let yaml = format!(
        "_format_version: \"3.0\"\nservices:\n  - name: slow\n    url: http://127.0.0.1:{}\n    routes: [{{name: slow, paths: [/slow]}}]\n",
        slow.port()
    );
    let mut gw = TestGateway::start_with(&yaml, GatewayOptions::default()).await;
    let url = gw.url("/slow");
    let in_flight = tokio::spawn(async move { support::get(&url, &[]).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.shut_down();

    let answer = in_flight.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(&answer.body[..], b"finished");
    tokio::time::timeout(support::DEADLINE, &mut gw.served)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    // The listener is closed: a new connection is refused.
    assert!(tokio::net::TcpStream::connect(gw.addr).await.is_err());
}

#[tokio::test]
async fn the_grace_period_bounds_the_wait() {
    let stuck = support::upstream(|_req| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        http::Response::new(Body::empty())
    })
    .await;
    let yaml = format!(
        "_format_version: \"3.0\"\nservices:\n  - name: stuck\n    url: http://127.0.0.1:{}\n    routes: [{{name: stuck, paths: [/stuck]}}]\n",
        stuck.port()
    );
    let mut gw =
        TestGateway::start_with_grace(&yaml, GatewayOptions::default(), Duration::from_millis(300))
            .await;
    let url = gw.url("/stuck");
    let _in_flight = tokio::spawn(async move {
        let request = http::Request::get(url).body(Body::empty()).unwrap();
        let _ = support::client().request(request).await;
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.shut_down();
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), &mut gw.served)
        .await
        .expect("the server gives up after the grace period")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}
