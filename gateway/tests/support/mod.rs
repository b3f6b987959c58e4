//! What the gateway's integration tests share: real hyper upstreams and a real gateway on
//! ephemeral loopback ports, a real HTTP client, and dev tokens.

#![allow(dead_code)] // each test file uses its own part

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sluicegate_gateway::body::Body;
use sluicegate_gateway::config::Config;
use sluicegate_gateway::jwt::{DevToken, mint_dev_token};
use sluicegate_gateway::server::{Gateway, GatewayOptions, serve_with_grace};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest any single exchange of a test may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The dev key pair of the examples.
pub const PRIVATE_PEM: &str = include_str!("../../../examples/keys/dev-rsa-private.pem");
pub const PUBLIC_PEM: &str = include_str!("../../../examples/keys/dev-rsa-public.pem");

/// The credential key (`iss`) tests' tokens name.
pub const ISSUER: &str = "test-issuer";

/// A `consumers:` block with one consumer whose RS256 credential is the dev public key.
pub fn consumers_yaml() -> String {
    let key = PUBLIC_PEM
        .lines()
        .map(|l| format!("          {l}\n"))
        .collect::<String>();
    format!(
        "consumers:\n  - username: tester\n    jwt_secrets:\n      - key: {ISSUER}\n        algorithm: RS256\n        rsa_public_key: |\n{key}"
    )
}

/// A token for `subject` with `scopes`, valid for an hour.
pub fn token(subject: &str, scopes: &[&str]) -> String {
    let claims = DevToken::new(ISSUER, subject).scopes(scopes.iter().copied());
    mint_dev_token(PRIVATE_PEM, &claims).expect("the dev key signs")
}

/// Starts an upstream answering with `handler` on an ephemeral loopback port; it serves until
/// the test's runtime ends.
pub async fn upstream<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let service = hyper::service::service_fn(move |request| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(handler(request).await) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// An upstream that answers every request with its own body, and reports what it received in
/// headers: `x-seen-method`, `x-seen-path`, `x-seen-query`, and `x-seen-headers` (the request
/// headers as a JSON object of arrays).
pub async fn echo_upstream() -> SocketAddr {
    upstream(|request: Request<Incoming>| async move {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut seen = serde_json::Map::new();
        for name in parts.headers.keys() {
            let values: Vec<_> = parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| serde_json::Value::from(v.to_str().unwrap_or("<binary>")))
                .collect();
            seen.insert(name.to_string(), values.into());
        }
        let mut response = Response::new(Body::from(body));
        let h = response.headers_mut();
        h.insert("x-seen-method", parts.method.as_str().parse().unwrap());
        h.insert("x-seen-path", parts.uri.path().parse().unwrap());
        h.insert(
            "x-seen-query",
            parts.uri.query().unwrap_or("").parse().unwrap(),
        );
        h.insert(
            "x-seen-headers",
            serde_json::Value::from(seen).to_string().parse().unwrap(),
        );
        if let Some(ct) = parts.headers.get("content-type") {
            h.insert("content-type", ct.clone());
        }
        response
    })
    .await
}

/// A gateway serving a configuration on an ephemeral loopback port.
pub struct TestGateway {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: Option<oneshot::Sender<()>>,
    pub served: JoinHandle<std::io::Result<()>>,
}

impl TestGateway {
    /// Serves `yaml` with `options`.
    pub async fn start_with(yaml: &str, options: GatewayOptions) -> Self {
        Self::start_with_grace(yaml, options, DEADLINE).await
    }

    /// Serves `yaml` with `options` and a shutdown grace period.
    pub async fn start_with_grace(yaml: &str, options: GatewayOptions, grace: Duration) -> Self {
        let config = Config::from_yaml(yaml, "test").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let gateway = Gateway::new(&config, options).expect("the gateway builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(serve_with_grace(
            listener,
            gateway.clone(),
            async move {
                let _ = stopped.await;
            },
            grace,
        ));
        Self {
            addr,
            gateway,
            stop: Some(stop),
            served,
        }
    }

    /// Serves `yaml` trusting no proxy.
    pub async fn start(yaml: &str) -> Self {
        Self::start_with(yaml, GatewayOptions::default()).await
    }

    /// The URL of `path_and_query` on this gateway.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// Asks the server to shut down gracefully.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct Answer {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().unwrap_or("<binary>"))
    }

    /// The request headers the echo upstream saw.
    pub fn seen_headers(&self) -> serde_json::Value {
        serde_json::from_str(self.header("x-seen-headers")).expect("echo upstream headers")
    }
}

/// The test client: a pooled hyper client, as a real caller would use.
pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// Sends `request` and reads the whole answer, within [`DEADLINE`].
pub async fn send(request: Request<Body>) -> Answer {
    tokio::time::timeout(DEADLINE, async {
        let response = client()
            .request(request)
            .await
            .expect("the gateway answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the body arrives").to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    })
    .await
    .expect("answered within the deadline")
}

/// GETs `url` with the given headers.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request.body(Body::empty()).unwrap()).await
}

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
