//! Where tokens come from (headers, query parameters, cookies), what happens when there are
//! none or several, CORS preflights, required scopes and the realm, over real HTTP.

mod jwt_support;

use http::StatusCode;
use jwt_support::*;
use serde_json::json;

const ALICE: Cred<'static> = Cred {
    username: "alice",
    key: "alice-key",
    algorithm: "RS256",
    material: RSA_PUBLIC,
};

async fn gateway(plugin_config: &str) -> Gateway {
    Gateway::start(layer_at_now(plugin_config, &[ALICE]).0).await
}

fn token_for(sub: &str) -> String {
    rs256(&json!({"iss": "alice-key", "sub": sub, "exp": NOW + 600}))
}

#[tokio::test]
async fn no_token_is_a_bare_bearer_challenge() {
    let gw = gateway("{}").await;
    let answer = gw.send("GET", "/orders", &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers["www-authenticate"], "Bearer");
    assert_eq!(
        answer.body,
        json!({"error": "Unauthorized", "code": "TOKEN_MISSING"})
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let gw = gateway("{}").await;
    let token = token_for("u1");
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {token}");
        let answer = gw
            .send("GET", "/orders", &[("authorization", &value)])
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{scheme}");
        assert_eq!(answer.body["subject"], "u1");
    }
}

#[tokio::test]
async fn the_default_query_parameter_carries_a_token() {
    let gw = gateway("{}").await;
    let answer = gw
        .send(
            "GET",
            &format!("/orders?page=2&jwt={}", token_for("u2")),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["subject"], "u2");
}

#[tokio::test]
async fn configured_headers_parameters_and_cookies_carry_tokens() {
    let gw = gateway(
        "{ header_names: [x-api-token], uri_param_names: [access_token], cookie_names: [session] }",
    )
    .await;
    let token = token_for("u3");

    let header = gw.send("GET", "/", &[("x-api-token", &token)]).await;
    assert_eq!(header.status, StatusCode::OK);

    let query = gw
        .send("GET", &format!("/?access_token={token}"), &[])
        .await;
    assert_eq!(query.status, StatusCode::OK);

    let cookie = format!("theme=dark; session={token}");
    let cookie = gw.send("GET", "/", &[("cookie", &cookie)]).await;
    assert_eq!(cookie.status, StatusCode::OK);
    assert_eq!(cookie.body["subject"], "u3");

    // The defaults are replaced, not extended.
    let authorization = format!("Bearer {token}");
    let answer = gw
        .send("GET", "/", &[("authorization", &authorization)])
        .await;
    assert_eq!(answer.code(), "TOKEN_MISSING");
    assert_eq!(
        gw.send("GET", &format!("/?jwt={token}"), &[]).await.code(),
        "TOKEN_MISSING"
    );
}

#[tokio::test]
async fn different_tokens_in_different_places_are_refused() {
    let gw = gateway("{ cookie_names: [session] }").await;
    let (first, second) = (token_for("u1"), token_for("u2"));
    let bearer = format!("Bearer {first}");
    let answer = gw
        .send(
            "GET",
            &format!("/?jwt={second}"),
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.body,
        json!({"error": "Multiple tokens provided", "code": "TOKEN_MULTIPLE"})
    );
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    let cookie = format!("session={second}");
    let answer = gw
        .send(
            "GET",
            "/",
            &[("authorization", &bearer), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(answer.code(), "TOKEN_MULTIPLE");
}

#[tokio::test]
async fn a_second_authorization_header_cannot_hide_behind_the_first() {
    let gw = gateway("{}").await;
    let first = format!("Bearer {}", token_for("u1"));
    let second = format!("Bearer {}", token_for("admin"));
    let answer = gw
        .send(
            "GET",
            "/",
            &[("authorization", &first), ("authorization", &second)],
        )
        .await;
    assert_eq!(answer.code(), "TOKEN_MULTIPLE");
}

#[tokio::test]
async fn the_same_token_in_several_places_counts_once() {
    let gw = gateway("{ cookie_names: [session] }").await;
    let token = token_for("u1");
    let bearer = format!("Bearer {token}");
    let cookie = format!("session={token}");
    let answer = gw
        .send(
            "GET",
            &format!("/?jwt={token}"),
            &[("authorization", &bearer), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn preflights_skip_authentication_only_when_told_to() {
    let preflight = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "POST"),
    ];
    let strict = gateway("{}").await;
    assert_eq!(
        strict.send("OPTIONS", "/orders", &preflight).await.code(),
        "TOKEN_MISSING"
    );

    let relaxed = gateway("{ run_on_preflight: false }").await;
    let answer = relaxed.send("OPTIONS", "/orders", &preflight).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        serde_json::Value::Null,
        "no identity is made up"
    );
    // An OPTIONS that is not a preflight still needs a token.
    let answer = relaxed
        .send("OPTIONS", "/orders", &[("origin", "https://app.example")])
        .await;
    assert_eq!(answer.code(), "TOKEN_MISSING");
    assert_eq!(
        relaxed.send("GET", "/orders", &preflight).await.code(),
        "TOKEN_MISSING"
    );
}

#[tokio::test]
async fn a_missing_required_scope_is_a_403_with_the_recipes_body() {
    let gw = gateway("{ scopes: [orders:read, orders:write] }").await;
    let with_scopes = |scopes: serde_json::Value| {
        rs256(&json!({"iss": "alice-key", "sub": "u1", "exp": NOW + 60, "scopes": scopes}))
    };

    let answer = gw.get_with(&with_scopes(json!(["orders:read"]))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.body,
        json!({"error": "Missing required scope: orders:write"})
    );
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer error=\"insufficient_scope\""
    );

    let answer = gw
        .get_with(&with_scopes(json!(["orders:write", "orders:read"])))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = gw
        .get_with(&with_scopes(json!("orders:read orders:write")))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body["scopes"],
        json!(["orders:read", "orders:write"])
    );

    let no_claim = rs256(&json!({"iss": "alice-key", "exp": NOW + 60}));
    assert_eq!(
        gw.get_with(&no_claim).await.body,
        json!({"error": "Missing required scope: orders:read"})
    );
    let wrong_type = with_scopes(json!({"orders:read": true}));
    assert_eq!(gw.get_with(&wrong_type).await.code(), "CLAIM_INVALID");
}

#[tokio::test]
async fn the_realm_is_named_in_every_challenge() {
    let gw = gateway("{ realm: orders-api, scopes: [admin] }").await;
    let answer = gw.send("GET", "/", &[]).await;
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"orders-api\""
    );
    let answer = gw.get_with("garbage").await;
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"orders-api\", error=\"invalid_token\""
    );
    let answer = gw.get_with(&token_for("u1")).await;
    assert_eq!(
        answer.headers["www-authenticate"],
        "Bearer realm=\"orders-api\", error=\"insufficient_scope\""
    );
}
