//! Attack tokens against a real gateway on loopback: each must be refused with the right
//! status, code and challenge, and a forged token must never be called "expired".

mod jwt_support;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_support::*;
use serde_json::json;
use sluicegate_gateway::jwt::{MAX_TOKEN_BYTES, Rejection};

const ALICE: Cred<'static> = Cred {
    username: "alice",
    key: "alice-key",
    algorithm: "RS256",
    material: RSA_PUBLIC,
};

async fn gateway(plugin_config: &str) -> Gateway {
    Gateway::start(layer_at_now(plugin_config, &[ALICE]).0).await
}

fn claims_valid() -> serde_json::Value {
    json!({"iss": "alice-key", "sub": "user-1", "exp": NOW + 600})
}

fn assert_refused(answer: &Answer, code: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.code(), code, "{answer:?}");
    assert_eq!(
        answer.headers["www-authenticate"], "Bearer error=\"invalid_token\"",
        "{answer:?}"
    );
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn a_genuine_token_passes_with_its_identity() {
    let gw = gateway("{ claims_to_verify: [exp] }").await;
    let token = rs256(&json!({
        "iss": "alice-key", "sub": "user-1", "exp": NOW + 600, "scopes": ["orders:read"]
    }));
    let answer = gw.get_with(&token).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({
            "consumer": "alice", "credential": "alice-key", "subject": "user-1",
            "scopes": ["orders:read"], "expires_at": NOW + 600,
        })
    );
}

#[tokio::test]
async fn alg_none_is_refused_in_any_case() {
    let gw = gateway("{}").await;
    let claims = URL_SAFE_NO_PAD.encode(claims_valid().to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        for signature in ["", "c2ln"] {
            let answer = gw.get_with(&format!("{header}.{claims}.{signature}")).await;
            assert_refused(&answer, "ALGORITHM_NONE");
        }
    }
}

#[tokio::test]
async fn an_hs256_token_keyed_with_the_rsa_public_pem_is_refused() {
    let gw = gateway("{}").await;
    for secret in [RSA_PUBLIC, RSA_PUBLIC.trim_end()] {
        let forged = sign(
            &claims_valid(),
            Algorithm::HS256,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        );
        let answer = gw.get_with(&forged).await;
        assert_refused(&answer, "ALGORITHM_MISMATCH");
        assert_eq!(answer.body["error"], "Invalid algorithm");
    }
}

#[tokio::test]
async fn a_crit_header_is_refused_even_on_a_genuine_signature() {
    let gw = gateway("{}").await;
    for header in [
        r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
    ] {
        let token = sign_raw(
            header,
            &claims_valid().to_string(),
            Algorithm::RS256,
            &rsa_key(),
        );
        assert_refused(&gw.get_with(&token).await, "CRIT_UNSUPPORTED");
    }
}

#[tokio::test]
async fn expired_is_said_only_of_genuine_tokens() {
    let gw = gateway("{ claims_to_verify: [exp] }").await;
    let expired = json!({"iss": "alice-key", "sub": "user-1", "exp": NOW - 60});

    let genuine = rs256(&expired);
    assert_refused(&gw.get_with(&genuine).await, "TOKEN_EXPIRED");
    assert_eq!(gw.get_with(&genuine).await.body["error"], "Token expired");

    let other_key = sign(&expired, Algorithm::RS256, &rsa_other_key());
    assert_refused(&gw.get_with(&other_key).await, "SIGNATURE_INVALID");

    // A genuine token's signature on someone else's (expired) claims.
    let donor = rs256(&claims_valid());
    let mut parts: Vec<&str> = donor.split('.').collect();
    let tampered_claims = URL_SAFE_NO_PAD
        .encode(json!({"iss": "alice-key", "sub": "admin", "exp": NOW - 60}).to_string());
    parts[1] = &tampered_claims;
    let tampered = parts.join(".");
    assert_refused(&gw.get_with(&tampered).await, "SIGNATURE_INVALID");

    let hs_with_pem = sign(
        &expired,
        Algorithm::HS256,
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()).unwrap(),
    );
    assert_refused(&gw.get_with(&hs_with_pem).await, "ALGORITHM_MISMATCH");

    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(expired.to_string())
    );
    assert_refused(&gw.get_with(&unsigned).await, "SIGNATURE_INVALID");
}

#[tokio::test]
async fn exp_is_expired_at_exactly_now() {
    let gw = gateway("{ claims_to_verify: [exp] }").await;
    let at = |exp: u64| rs256(&json!({"iss": "alice-key", "exp": exp}));
    assert_eq!(gw.get_with(&at(NOW + 1)).await.status, StatusCode::OK);
    assert_refused(&gw.get_with(&at(NOW)).await, "TOKEN_EXPIRED");
}

#[tokio::test]
async fn leeway_tolerates_skew_on_exp_and_nbf_and_no_more() {
    let gw = gateway("{ claims_to_verify: [exp, nbf], leeway: 30 }").await;
    let token = |exp: u64, nbf: u64| rs256(&json!({"iss": "alice-key", "exp": exp, "nbf": nbf}));
    assert_eq!(
        gw.get_with(&token(NOW - 29, NOW)).await.status,
        StatusCode::OK
    );
    assert_refused(&gw.get_with(&token(NOW - 30, NOW)).await, "TOKEN_EXPIRED");
    assert_eq!(
        gw.get_with(&token(NOW + 60, NOW + 30)).await.status,
        StatusCode::OK
    );
    assert_refused(
        &gw.get_with(&token(NOW + 60, NOW + 31)).await,
        "TOKEN_NOT_YET_VALID",
    );
}

#[tokio::test]
async fn nbf_without_leeway_is_checked_to_the_second() {
    let gw = gateway("{ claims_to_verify: [nbf] }").await;
    let token = |nbf: u64| rs256(&json!({"iss": "alice-key", "nbf": nbf}));
    assert_eq!(gw.get_with(&token(NOW)).await.status, StatusCode::OK);
    assert_refused(&gw.get_with(&token(NOW + 1)).await, "TOKEN_NOT_YET_VALID");
}

#[tokio::test]
async fn a_missing_or_unparseable_exp_to_verify_is_an_error_not_absent() {
    let gw = gateway("{ claims_to_verify: [exp] }").await;
    for claims in [
        json!({"iss": "alice-key"}),
        json!({"iss": "alice-key", "exp": "1900000000"}),
        json!({"iss": "alice-key", "exp": null}),
        json!({"iss": "alice-key", "exp": [NOW + 60]}),
    ] {
        let answer = gw.get_with(&rs256(&claims)).await;
        assert_refused(&answer, "CLAIM_NOT_NUMERIC");
        assert_eq!(answer.body["error"], "'exp' must be a number");
    }
}

#[tokio::test]
async fn maximum_expiration_refuses_tokens_that_live_too_long() {
    let gw = gateway("{ claims_to_verify: [exp], maximum_expiration: 3600 }").await;
    let token = |exp: u64| rs256(&json!({"iss": "alice-key", "exp": exp}));
    assert_eq!(gw.get_with(&token(NOW + 3600)).await.status, StatusCode::OK);
    assert_refused(&gw.get_with(&token(NOW + 3601)).await, "EXPIRATION_TOO_FAR");
}

#[tokio::test]
async fn unknown_missing_and_malformed_issuers_are_refused() {
    let gw = gateway("{}").await;
    let answer = gw.get_with(&rs256(&json!({"iss": "mallory-key"}))).await;
    assert_refused(&answer, "CREDENTIAL_UNKNOWN");
    assert_eq!(answer.body["error"], "No credentials found for given 'iss'");
    assert_refused(
        &gw.get_with(&rs256(&json!({"sub": "x"}))).await,
        "KEY_CLAIM_MISSING",
    );
    for iss in [json!(""), json!(42), json!(["alice-key"])] {
        let answer = gw.get_with(&rs256(&json!({ "iss": iss }))).await;
        assert_refused(&answer, "KEY_CLAIM_INVALID");
    }
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_an_invalid_signature() {
    let gw = gateway("{}").await;
    let forged = sign(&claims_valid(), Algorithm::RS256, &rsa_other_key());
    let answer = gw.get_with(&forged).await;
    assert_refused(&answer, "SIGNATURE_INVALID");
    assert_eq!(answer.body["error"], "Invalid signature");
}

#[tokio::test]
async fn bad_base64_is_malformed() {
    let gw = gateway("{}").await;
    let genuine = rs256(&claims_valid());
    let (head, signature) = genuine.rsplit_once('.').unwrap();
    for bad in [
        format!("{head}.*{}", &signature[1..]),
        format!("*{genuine}"),
        format!("{head}.{}", &signature[..signature.len() - 1]), // a length no base64 has
        "not-a-token".to_owned(),
        format!("{genuine}.extra.parts"),
    ] {
        assert_refused(&gw.get_with(&bad).await, "TOKEN_MALFORMED");
    }
}

#[tokio::test]
async fn padded_base64_is_malformed_even_when_the_signature_covers_it() {
    let gw = gateway("{}").await;
    // Header and claims whose encodings need padding, signed as padded by the trusted key.
    let header = URL_SAFE.encode(r#"{"alg":"RS256" }"#);
    let claims = URL_SAFE.encode(r#"{"iss":"alice-key","sub":"u12"}"#);
    assert!(header.ends_with('=') && claims.ends_with('='));
    let signing_input = format!("{header}.{claims}");
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &rsa_key(), Algorithm::RS256).unwrap();
    let answer = gw.get_with(&format!("{signing_input}.{signature}")).await;
    assert_refused(&answer, "TOKEN_MALFORMED");

    // A padded signature on an otherwise genuine token: RSA-2048 signatures are 256 bytes,
    // 342 characters unpadded, so padded they end in "==".
    let genuine = rs256(&json!({"iss": "alice-key", "sub": "u"}));
    assert_eq!(genuine.rsplit('.').next().unwrap().len() % 4, 2);
    assert_refused(
        &gw.get_with(&format!("{genuine}==")).await,
        "TOKEN_MALFORMED",
    );
}

#[tokio::test]
async fn non_canonical_trailing_bits_are_malformed_not_a_second_valid_spelling() {
    let gw = gateway("{}").await;
    let genuine = rs256(&claims_valid());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // An RSA-2048 signature is 256 bytes: 342 characters, the last carrying 4 unused bits.
    let last = *genuine.as_bytes().last().unwrap();
    let index = alphabet.iter().position(|c| *c == last).unwrap();
    let twin = alphabet[index ^ 1] as char;
    let variant = format!("{}{twin}", &genuine[..genuine.len() - 1]);
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let signature = |token: &str| lenient.decode(token.rsplit('.').next().unwrap()).unwrap();
    assert_eq!(
        signature(&variant),
        signature(&genuine),
        "a lenient decoder reads the same signature from both spellings"
    );
    assert_refused(&gw.get_with(&variant).await, "TOKEN_MALFORMED");
}

#[tokio::test]
async fn duplicate_claims_and_header_members_are_refused_even_when_signed() {
    let gw = gateway("{}").await;
    let token = sign_raw(
        r#"{"alg":"RS256"}"#,
        r#"{"iss":"alice-key","sub":"user-1","sub":"admin"}"#,
        Algorithm::RS256,
        &rsa_key(),
    );
    let answer = gw.get_with(&token).await;
    assert_refused(&answer, "TOKEN_MALFORMED");
    assert!(
        answer.body["error"]
            .as_str()
            .unwrap()
            .contains("'sub' appears twice")
    );

    let token = sign_raw(
        r#"{"alg":"RS256","alg":"HS256"}"#,
        &claims_valid().to_string(),
        Algorithm::RS256,
        &rsa_key(),
    );
    assert_refused(&gw.get_with(&token).await, "TOKEN_MALFORMED");
}

#[tokio::test]
async fn embedded_keys_and_key_urls_are_never_used() {
    let gw = gateway("{}").await;
    // Signed by the attacker, who also ships their key (or a link to it) in the header.
    for header in [
        r#"{"alg":"RS256","jku":"http://127.0.0.1:1/keys.json"}"#,
        r#"{"alg":"RS256","x5u":"http://127.0.0.1:1/cert.pem"}"#,
        r#"{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}"#,
        r#"{"alg":"RS256","kid":"../../../../dev/null"}"#,
    ] {
        let token = sign_raw(
            header,
            &claims_valid().to_string(),
            Algorithm::RS256,
            &rsa_other_key(),
        );
        assert_refused(&gw.get_with(&token).await, "SIGNATURE_INVALID");
    }
}

#[tokio::test]
async fn kid_is_only_a_lookup_key() {
    let (layer, _clock) = layer_at_now("{ key_claim_name: kid }", &[ALICE]);
    let gw = Gateway::start(layer).await;
    let token = |kid: &str| {
        sign_raw(
            &json!({"alg": "RS256", "kid": kid}).to_string(),
            r#"{"sub":"user-1"}"#,
            Algorithm::RS256,
            &rsa_key(),
        )
    };
    assert_eq!(
        gw.get_with(&token("alice-key")).await.status,
        StatusCode::OK
    );
    for kid in ["../alice-key", "/etc/passwd", "alice-key\u{0}", "ALICE-KEY"] {
        assert_refused(&gw.get_with(&token(kid)).await, "CREDENTIAL_UNKNOWN");
    }
}

#[tokio::test]
async fn an_oversized_authorization_header_is_refused_before_decoding() {
    let gw = gateway("{}").await;
    // Just over the cap: refused by the layer, whatever the bytes are.
    let over = "x".repeat(MAX_TOKEN_BYTES);
    assert_refused(&gw.get_with(&over).await, "TOKEN_TOO_LARGE");
    // A whole token of exactly the cap is still read (and here, malformed).
    let at_cap = "x".repeat(MAX_TOKEN_BYTES - "Bearer ".len());
    assert_refused(&gw.get_with(&at_cap).await, "TOKEN_MALFORMED");

    // 1 MB: the HTTP server refuses the head before any layer runs; it is never a 200.
    let huge = "x".repeat(1 << 20);
    let answer = gw.get_with(&huge).await;
    assert_eq!(answer.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn a_one_megabyte_token_is_refused_by_the_layer_itself() {
    let (layer, _clock) = layer_at_now("{}", &[ALICE]);
    let huge = format!("Bearer {}", rs256(&claims_valid()).repeat(3_000));
    assert!(huge.len() > 1 << 20);
    let request = http::Request::get("/")
        .header("authorization", huge)
        .body(())
        .unwrap();
    assert_eq!(layer.authenticate(&request), Err(Rejection::TooLarge));
}

#[tokio::test]
async fn the_key_claim_may_come_from_the_header_as_in_kong() {
    let gw = gateway("{}").await;
    let token = sign_raw(
        r#"{"alg":"RS256","iss":"alice-key"}"#,
        r#"{"sub":"user-1"}"#,
        Algorithm::RS256,
        &rsa_key(),
    );
    assert_eq!(gw.get_with(&token).await.status, StatusCode::OK);
}
