//! The demo upstreams: small HTTP services standing in for the recipe's users, orders and
//! admin services, on loopback.
//!
//! Each answers every request with JSON describing what it received, so a demo shows what the
//! gateway forwarded:
//!
//! ```json
//! {"service":"users","method":"GET","path":"/api/v1/users/42","query":"fields=name",
//!  "user":"alice","correlation_id":"6f1c...","body_bytes":0}
//! ```
//!
//! A path ending in `/fail` is answered `500 {"error":"simulated failure"}`, to show the
//! circuit breaker opening.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::body::Body;
use crate::reply;

/// The demo services and the loopback ports `examples/gateway.yaml` expects them on.
pub const SERVICES: [(&str, u16); 3] = [("users", 9101), ("orders", 9102), ("admin", 9103)];

/// Starts one demo upstream named `name` on `listener`; it serves until the task is aborted.
pub fn spawn(name: &'static str, listener: TcpListener) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = hyper::service::service_fn(move |request| answer(name, request));
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// Binds and starts every demo upstream on 127.0.0.1 at its port in [`SERVICES`].
pub async fn start() -> std::io::Result<Vec<(SocketAddr, JoinHandle<()>)>> {
    let mut started = Vec::new();
    for (name, port) in SERVICES {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|err| {
                std::io::Error::new(
                    err.kind(),
                    format!("demo upstream `{name}` cannot listen on 127.0.0.1:{port}: {err}"),
                )
            })?;
        let addr = listener.local_addr()?;
        started.push((addr, spawn(name, listener)));
    }
    Ok(started)
}

async fn answer(
    name: &'static str,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body_bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_else(|_| Bytes::new())
        .len();
    if parts.uri.path().ends_with("/fail") {
        return Ok(reply::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &serde_json::json!({ "error": "simulated failure" }),
        ));
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Ok(reply::json(
        StatusCode::OK,
        &serde_json::json!({
            "service": name,
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query().unwrap_or(""),
            "user": header("x-user-id"),
            "correlation_id": header("x-correlation-id"),
            "body_bytes": body_bytes,
        }),
    ))
}
