//! What the `jwt_*` tests share: test keys, token forging, configuration from YAML, and a
//! real hyper server on an ephemeral loopback port with the layer in front of an echo service.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use sluicegate::clock::ManualClock;
use sluicegate_gateway::body::Body;
use sluicegate_gateway::config::{Config, Consumer, JwtPlugin, Plugin};
use sluicegate_gateway::jwt::{Identity, JwtAuthLayer};
use tower::{Layer, ServiceExt};

/// A fixed "now" for tests that need exact times: 2027-01-15T08:00:00Z.
pub const NOW: u64 = 1_800_000_000;

pub const RSA_PRIVATE: &str = include_str!("../keys/rsa-private.pem");
pub const RSA_PUBLIC: &str = include_str!("../keys/rsa-public.pem");
pub const RSA_OTHER_PRIVATE: &str = include_str!("../keys/rsa-other-private.pem");
pub const RSA_OTHER_PUBLIC: &str = include_str!("../keys/rsa-other-public.pem");
pub const RSA_1024_PUBLIC: &str = include_str!("../keys/rsa1024-public.pem");
pub const EC256_PRIVATE: &str = include_str!("../keys/ec256-private.pem");
pub const EC256_PUBLIC: &str = include_str!("../keys/ec256-public.pem");
pub const EC256_OTHER_PRIVATE: &str = include_str!("../keys/ec256-other-private.pem");
pub const EC384_PRIVATE: &str = include_str!("../keys/ec384-private.pem");
pub const EC384_PUBLIC: &str = include_str!("../keys/ec384-public.pem");
pub const ED25519_PRIVATE: &str = include_str!("../keys/ed25519-private.pem");
pub const ED25519_PUBLIC: &str = include_str!("../keys/ed25519-public.pem");
pub const HMAC_SECRET: &str = "a-test-secret-of-at-least-thirty-two-bytes";

/// One consumer credential, as the YAML will spell it.
pub struct Cred<'a> {
    pub username: &'a str,
    pub key: &'a str,
    pub algorithm: &'a str,
    /// The PEM public key, or the HS256 secret.
    pub material: &'a str,
}

impl<'a> Cred<'a> {
    pub fn rs256(username: &'a str, key: &'a str) -> Self {
        Self {
            username,
            key,
            algorithm: "RS256",
            material: RSA_PUBLIC,
        }
    }
}

/// A declarative configuration with these consumers and one global jwt plugin whose
/// `config:` body is `plugin_config` (a YAML flow mapping, e.g. `{ claims_to_verify: [exp] }`).
pub fn yaml(plugin_config: &str, creds: &[Cred<'_>]) -> String {
    let mut text = String::from("_format_version: \"3.0\"\nconsumers:\n");
    for cred in creds {
        text.push_str(&format!(
            "  - username: {}\n    jwt_secrets:\n      - key: {}\n        algorithm: {}\n",
            cred.username, cred.key, cred.algorithm
        ));
        if cred.algorithm == "HS256" {
            text.push_str(&format!("        secret: \"{}\"\n", cred.material));
        } else {
            text.push_str("        rsa_public_key: |\n");
            for line in cred.material.lines() {
                text.push_str(&format!("          {line}\n"));
            }
        }
    }
    text.push_str(&format!(
        "plugins:\n  - name: jwt\n    config: {plugin_config}\n"
    ));
    text
}

/// The jwt plugin and consumers of [`yaml`]'s configuration.
pub fn config(plugin_config: &str, creds: &[Cred<'_>]) -> (JwtPlugin, Vec<Consumer>) {
    let config = Config::from_yaml(&yaml(plugin_config, creds), "test.yaml")
        .unwrap_or_else(|e| panic!("test configuration: {e}"));
    let plugin = config
        .plugins
        .iter()
        .find_map(|p| match p {
            Plugin::Jwt(jwt) => Some(jwt.clone()),
            _ => None,
        })
        .expect("the configuration has a jwt plugin");
    (plugin, config.consumers)
}

/// A layer for `plugin_config` and `creds`, reading time from a manual clock set to [`NOW`].
pub fn layer_at_now(plugin_config: &str, creds: &[Cred<'_>]) -> (JwtAuthLayer, ManualClock) {
    let (plugin, consumers) = config(plugin_config, creds);
    let clock = ManualClock::new(NOW * 1_000_000);
    let layer = JwtAuthLayer::new(&plugin, &consumers)
        .unwrap_or_else(|e| panic!("layer: {e}"))
        .with_clock(clock.clone());
    (layer, clock)
}

/// Signs a token whose header and claims are given as raw JSON text, so tests can write
/// headers and claims no well-behaved library would produce (duplicates, `crit`, ...).
pub fn sign_raw(header: &str, claims: &str, algorithm: Algorithm, key: &EncodingKey) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm).expect("test signing");
    format!("{signing_input}.{signature}")
}

/// Signs `claims` with `algorithm` and a header of just `alg` and `typ`.
pub fn sign(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    let header = json!({"alg": format!("{algorithm:?}"), "typ": "JWT"}).to_string();
    sign_raw(&header, &claims.to_string(), algorithm, key)
}

pub fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap()
}

pub fn rsa_other_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_OTHER_PRIVATE.as_bytes()).unwrap()
}

/// An RS256 token from the trusted key.
pub fn rs256(claims: &Value) -> String {
    sign(claims, Algorithm::RS256, &rsa_key())
}

/// A gateway on 127.0.0.1: the layer in front of a service that answers 200 with the
/// request's [`Identity`] as JSON (`null` when there is none).
pub struct Gateway {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    server: tokio::task::JoinHandle<()>,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `code` of a refusal body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Gateway {
    pub async fn start(layer: JwtAuthLayer) -> Self {
        let service = layer.layer(tower::service_fn(echo_identity));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let hyper_service =
                        hyper::service::service_fn(move |request| service.clone().oneshot(request));
                    // Connections end when the client or the test ends; errors are the
                    // client's business (e.g. a 431 for an oversized head).
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), hyper_service)
                        .await;
                });
            }
        });
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            addr,
            client,
            server,
        }
    }

    /// Sends `method path` with `headers` and reads the whole answer (at most 5 s).
    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::new())).unwrap();
        let response = tokio::time::timeout(Duration::from_secs(5), self.client.request(request))
            .await
            .expect("the gateway answers within 5 s")
            .expect("the request reaches the gateway");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path` with `Authorization: Bearer <token>`.
    pub async fn get_with(&self, token: &str) -> Answer {
        self.send(
            "GET",
            "/orders",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn echo_identity<B>(request: Request<B>) -> Result<Response<Body>, Infallible> {
    let body = match request.extensions().get::<Identity>() {
        Some(identity) => json!({
            "consumer": identity.consumer,
            "credential": identity.credential,
            "subject": identity.subject,
            "scopes": identity.scopes,
            "expires_at": identity.expires_at,
        }),
        None => Value::Null,
    };
    Ok(Response::new(Body::from(body.to_string())))
}
