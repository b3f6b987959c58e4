//! The verified-token cache: it remembers only tokens that verified, answers exactly as a fresh
//! verification would until the token expires, and stays inside its memory budget.

mod jwt_support;

use std::time::Duration;

use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_support::*;
use serde_json::json;
use sluicegate_gateway::jwt::Rejection;

const ALICE: Cred<'static> = Cred {
    username: "alice",
    key: "alice-key",
    algorithm: "RS256",
    material: RSA_PUBLIC,
};

fn cached(layer: &sluicegate_gateway::jwt::JwtAuthLayer) -> usize {
    layer.cache().expect("the layer caches by default").len()
}

#[tokio::test]
async fn a_verified_token_is_cached_once_and_answers_the_same() {
    let (layer, _clock) = layer_at_now("{ claims_to_verify: [exp] }", &[ALICE]);
    let gw = Gateway::start(layer.clone()).await;
    let token = rs256(&json!({"iss": "alice-key", "sub": "u1", "exp": NOW + 60}));
    assert_eq!(cached(&layer), 0);
    let first = gw.get_with(&token).await;
    assert_eq!(cached(&layer), 1);
    for _ in 0..3 {
        let again = gw.get_with(&token).await;
        assert_eq!((again.status, &again.body), (first.status, &first.body));
    }
    assert_eq!(cached(&layer), 1);
}

#[tokio::test]
async fn a_cached_token_expires_at_exp_plus_leeway() {
    let (layer, clock) = layer_at_now("{ claims_to_verify: [exp], leeway: 10 }", &[ALICE]);
    let gw = Gateway::start(layer.clone()).await;
    let token = rs256(&json!({"iss": "alice-key", "exp": NOW + 60}));
    assert_eq!(gw.get_with(&token).await.status, StatusCode::OK);
    assert_eq!(cached(&layer), 1);

    clock.advance(Duration::from_secs(69)); // exp + leeway - 1
    assert_eq!(gw.get_with(&token).await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(1)); // exp + leeway
    assert_eq!(gw.get_with(&token).await.code(), "TOKEN_EXPIRED");
}

#[tokio::test]
async fn refused_tokens_are_not_cached() {
    let (layer, _clock) = layer_at_now("{ claims_to_verify: [exp, nbf] }", &[ALICE]);
    let gw = Gateway::start(layer.clone()).await;
    let refused = [
        rs256(&json!({"iss": "alice-key", "exp": NOW - 1, "nbf": NOW})),
        rs256(&json!({"iss": "alice-key", "exp": NOW + 60, "nbf": NOW + 30})),
        sign(
            &json!({"iss": "alice-key", "exp": NOW + 60, "nbf": NOW}),
            Algorithm::RS256,
            &rsa_other_key(),
        ),
    ];
    for token in &refused {
        for _ in 0..2 {
            assert_eq!(gw.get_with(token).await.status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(cached(&layer), 0);
}

#[tokio::test]
async fn a_not_yet_valid_token_is_accepted_once_nbf_comes() {
    let (layer, clock) = layer_at_now("{ claims_to_verify: [nbf] }", &[ALICE]);
    let gw = Gateway::start(layer).await;
    let token = rs256(&json!({"iss": "alice-key", "nbf": NOW + 5}));
    assert_eq!(gw.get_with(&token).await.code(), "TOKEN_NOT_YET_VALID");
    clock.advance(Duration::from_secs(5));
    assert_eq!(gw.get_with(&token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn scopes_are_checked_on_every_request_even_from_the_cache() {
    let (layer, _clock) = layer_at_now("{ scopes: [admin] }", &[ALICE]);
    let gw = Gateway::start(layer.clone()).await;
    let token = rs256(&json!({"iss": "alice-key", "scopes": ["orders:read"]}));
    for _ in 0..3 {
        assert_eq!(gw.get_with(&token).await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        cached(&layer),
        1,
        "the identity is cached, the verdict is not"
    );
}

#[tokio::test]
async fn a_cached_token_lends_nothing_to_a_sibling_with_another_signature() {
    let (layer, _clock) = layer_at_now("{}", &[ALICE]);
    let gw = Gateway::start(layer).await;
    let claims = json!({"iss": "alice-key", "sub": "u1"});
    let genuine = rs256(&claims);
    assert_eq!(gw.get_with(&genuine).await.status, StatusCode::OK);

    let forged = sign(&claims, Algorithm::RS256, &rsa_other_key());
    let (genuine_head, _) = genuine.rsplit_once('.').unwrap();
    let (forged_head, _) = forged.rsplit_once('.').unwrap();
    assert_eq!(genuine_head, forged_head, "same header and claims");
    assert_eq!(gw.get_with(&forged).await.code(), "SIGNATURE_INVALID");
}

#[test]
fn the_cache_can_be_turned_off() {
    let (layer, _clock) = layer_at_now("{}", &[ALICE]);
    let layer = layer.with_cache_bytes(0);
    assert!(layer.cache().is_none());
    let token = rs256(&json!({"iss": "alice-key", "sub": "u1"}));
    let request = http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    let identity = layer.authenticate(&request).unwrap().unwrap();
    assert_eq!(identity.subject.as_deref(), Some("u1"));
}

#[test]
fn memory_stays_within_the_budget_with_many_distinct_tokens() {
    let hs = Cred {
        username: "svc",
        key: "svc-key",
        algorithm: "HS256",
        material: HMAC_SECRET,
    };
    let (layer, _clock) = layer_at_now("{}", &[hs]);
    let budget = 64 * 1024;
    let layer = layer.with_cache_bytes(budget);
    let key = EncodingKey::from_secret(HMAC_SECRET.as_bytes()).unwrap();
    for i in 0..3_000 {
        let token = sign(
            &json!({"iss": "svc-key", "sub": format!("user-{i}")}),
            Algorithm::HS256,
            &key,
        );
        let request = http::Request::get("/")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap();
        assert!(layer.authenticate(&request).is_ok());
        let cache = layer.cache().unwrap();
        assert!(
            cache.bytes() <= budget,
            "{} bytes at token {i}",
            cache.bytes()
        );
    }
    let cache = layer.cache().unwrap();
    assert!(
        (100..3_000).contains(&cache.len()),
        "{} tokens cached",
        cache.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_cache_entry() {
    let (layer, _clock) = layer_at_now("{}", &[ALICE]);
    let gw = std::sync::Arc::new(Gateway::start(layer.clone()).await);
    let token = std::sync::Arc::new(rs256(&json!({"iss": "alice-key", "sub": "u1"})));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (gw, token) = (gw.clone(), token.clone());
            tokio::spawn(async move { gw.get_with(&token).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(cached(&layer), 1);
}

#[test]
fn oversized_tokens_never_reach_the_cache() {
    let (layer, _clock) = layer_at_now("{}", &[ALICE]);
    let request = http::Request::get("/")
        .header("authorization", format!("Bearer {}", "a".repeat(10_000)))
        .body(())
        .unwrap();
    assert_eq!(layer.authenticate(&request), Err(Rejection::TooLarge));
    assert_eq!(cached(&layer), 0);
}
