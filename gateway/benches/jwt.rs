//! What authenticating a request costs: a full verification per algorithm, and the layer's
//! path with and without the verified-token cache.
//!
//! ```sh
//! cargo bench -p sluicegate-gateway --bench jwt
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sluicegate_gateway::config::{Config, JwtAlgorithm, Plugin};
use sluicegate_gateway::jwt::{
    Credential, Credentials, Identity, JwtAuthLayer, TokenCache, Verifier, VerifyOptions,
};

const RSA_PRIVATE: &str = include_str!("../tests/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../tests/keys/rsa-public.pem");
const EC256_PRIVATE: &str = include_str!("../tests/keys/ec256-private.pem");
const EC256_PUBLIC: &str = include_str!("../tests/keys/ec256-public.pem");
const ED25519_PRIVATE: &str = include_str!("../tests/keys/ed25519-private.pem");
const ED25519_PUBLIC: &str = include_str!("../tests/keys/ed25519-public.pem");
const SECRET: &str = "a-bench-secret-of-at-least-thirty-two-bytes";

/// Far enough ahead that no token expires during a run.
const EXP: u64 = 4_000_000_000;

fn token(algorithm: Algorithm, key: &EncodingKey) -> String {
    let claims = json!({
        "iss": format!("{algorithm:?}"), "sub": "user-1", "exp": EXP,
        "scopes": ["orders:read", "orders:write"],
    });
    jsonwebtoken::encode(&Header::new(algorithm), &claims, key).unwrap()
}

fn verify(c: &mut Criterion) {
    let cases = [
        (
            JwtAlgorithm::RS256,
            Algorithm::RS256,
            RSA_PUBLIC,
            EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            JwtAlgorithm::PS256,
            Algorithm::PS256,
            RSA_PUBLIC,
            EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            JwtAlgorithm::ES256,
            Algorithm::ES256,
            EC256_PUBLIC,
            EncodingKey::from_ec_pem(EC256_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            JwtAlgorithm::EdDSA,
            Algorithm::EdDSA,
            ED25519_PUBLIC,
            EncodingKey::from_ed_pem(ED25519_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            JwtAlgorithm::HS256,
            Algorithm::HS256,
            SECRET,
            EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        ),
    ];
    let mut group = c.benchmark_group("verify");
    for (configured, algorithm, material, key) in cases {
        let name = configured.as_str();
        let credential = if configured.is_asymmetric() {
            Credential::with_public_key("c", name, configured, material)
        } else {
            Credential::with_secret("c", name, configured, material, false)
        }
        .unwrap();
        let mut credentials = Credentials::default();
        credentials.insert(credential).unwrap();
        let options = VerifyOptions {
            verify_exp: true,
            ..VerifyOptions::default()
        };
        let verifier = Verifier::new(credentials, options);
        let token = token(algorithm, &key);
        assert!(verifier.verify(&token, 1).is_ok());
        group.bench_function(name, |b| {
            b.iter(|| verifier.verify(black_box(&token), 1).unwrap())
        });
    }
    group.finish();
}

fn layer(c: &mut Criterion) {
    let pem: String = RSA_PUBLIC
        .lines()
        .map(|line| format!("          {line}\n"))
        .collect();
    let yaml = format!(
        "_format_version: \"3.0\"\nconsumers:\n  - username: alice\n    jwt_secrets:\n      \
         - key: RS256\n        algorithm: RS256\n        rsa_public_key: |\n{pem}\
         plugins:\n  - name: jwt\n    config: {{ claims_to_verify: [exp], scopes: [orders:read] }}\n"
    );
    let config = Config::from_yaml(&yaml, "bench.yaml").unwrap();
    let Some(Plugin::Jwt(plugin)) = config.plugins.first() else {
        unreachable!("the bench configuration has one jwt plugin")
    };
    let cached = JwtAuthLayer::new(plugin, &config.consumers).unwrap();
    let uncached = cached.clone().with_cache_bytes(0);
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    let request = http::Request::get("/api/v1/orders?page=2")
        .header(
            "authorization",
            format!("Bearer {}", token(Algorithm::RS256, &rsa)),
        )
        .header("accept", "application/json")
        .header("user-agent", "bench")
        .body(())
        .unwrap();
    assert!(matches!(cached.authenticate(&request), Ok(Some(_))));

    let mut group = c.benchmark_group("authenticate_rs256");
    group.bench_function("uncached", |b| {
        b.iter(|| uncached.authenticate(black_box(&request)).unwrap())
    });
    group.bench_function("cached", |b| {
        b.iter(|| cached.authenticate(black_box(&request)).unwrap())
    });
    group.finish();

    let cache = TokenCache::default();
    let identity = Identity {
        consumer: "alice".into(),
        credential: "RS256".into(),
        subject: Some("user-1".into()),
        scopes: vec!["orders:read".into(), "orders:write".into()],
        expires_at: Some(EXP),
    };
    let token = token(Algorithm::RS256, &rsa);
    cache.insert(&token, identity, EXP, 1);
    c.bench_function("cache_get_hit", |b| {
        b.iter(|| cache.get(black_box(&token), 1).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = verify, layer
}
criterion_main!(benches);
