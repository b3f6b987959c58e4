//! Every algorithm the configuration accepts verifies its own tokens, and only its own; keys
//! that cannot be trusted stop the layer from being built.

mod jwt_support;

use base64::Engine as _;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_support::*;
use serde_json::json;
use sluicegate_gateway::config::{Config, Consumer, JwtAlgorithm, JwtSecret};
use sluicegate_gateway::jwt::{Credential, CredentialError, JwtAuthLayer, SetupError};

/// Each configurable algorithm with the public material the credential holds and the key
/// that signs its tokens.
fn every_algorithm() -> Vec<(&'static str, Algorithm, &'static str, EncodingKey)> {
    let rsa = || EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    vec![
        ("RS256", Algorithm::RS256, RSA_PUBLIC, rsa()),
        ("RS384", Algorithm::RS384, RSA_PUBLIC, rsa()),
        ("RS512", Algorithm::RS512, RSA_PUBLIC, rsa()),
        ("PS256", Algorithm::PS256, RSA_PUBLIC, rsa()),
        (
            "ES256",
            Algorithm::ES256,
            EC256_PUBLIC,
            EncodingKey::from_ec_pem(EC256_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            "ES384",
            Algorithm::ES384,
            EC384_PUBLIC,
            EncodingKey::from_ec_pem(EC384_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            "EdDSA",
            Algorithm::EdDSA,
            ED25519_PUBLIC,
            EncodingKey::from_ed_pem(ED25519_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            "HS256",
            Algorithm::HS256,
            HMAC_SECRET,
            EncodingKey::from_secret(HMAC_SECRET.as_bytes()).unwrap(),
        ),
    ]
}

#[test]
fn the_test_table_covers_every_configurable_algorithm() {
    let tested: Vec<&str> = every_algorithm().iter().map(|a| a.0).collect();
    let configurable: Vec<&str> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(tested, configurable);
}

#[tokio::test]
async fn each_algorithm_verifies_its_own_tokens_and_refuses_the_others() {
    let table = every_algorithm();
    let creds: Vec<Cred<'_>> = table
        .iter()
        .map(|(name, _, material, _)| Cred {
            username: name,
            key: name,
            algorithm: name,
            material,
        })
        .collect();
    let (layer, _clock) = layer_at_now("{ claims_to_verify: [exp] }", &creds);
    let gw = Gateway::start(layer).await;

    for (name, algorithm, _, key) in &table {
        let claims = json!({"iss": name, "sub": format!("user-of-{name}"), "exp": NOW + 60});
        let answer = gw.get_with(&sign(&claims, *algorithm, key)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {answer:?}");
        assert_eq!(answer.body["consumer"], *name);

        // The same signer presenting its token for every other credential.
        for (other, ..) in table.iter().filter(|(other, ..)| other != name) {
            let claims = json!({"iss": other, "exp": NOW + 60});
            let answer = gw.get_with(&sign(&claims, *algorithm, key)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name} as {other}");
            assert_eq!(answer.code(), "ALGORITHM_MISMATCH", "{name} as {other}");
        }
    }
}

#[tokio::test]
async fn a_right_algorithm_with_the_wrong_key_is_an_invalid_signature() {
    let wrong_keys = [
        (
            "ES256",
            Algorithm::ES256,
            EC256_PUBLIC,
            EncodingKey::from_ec_pem(EC256_OTHER_PRIVATE.as_bytes()).unwrap(),
        ),
        (
            "HS256",
            Algorithm::HS256,
            HMAC_SECRET,
            EncodingKey::from_secret(b"another-secret-of-thirty-two-bytes!!").unwrap(),
        ),
        (
            "PS256",
            Algorithm::PS256,
            RSA_PUBLIC,
            EncodingKey::from_rsa_pem(RSA_OTHER_PRIVATE.as_bytes()).unwrap(),
        ),
    ];
    for (name, algorithm, material, key) in wrong_keys {
        let cred = Cred {
            username: "c",
            key: "k",
            algorithm: name,
            material,
        };
        let (layer, _clock) = layer_at_now("{}", &[cred]);
        let gw = Gateway::start(layer).await;
        let answer = gw
            .get_with(&sign(&json!({"iss": "k"}), algorithm, &key))
            .await;
        assert_eq!(answer.code(), "SIGNATURE_INVALID", "{name}");
    }
}

#[tokio::test]
async fn a_base64_secret_is_decoded_when_the_plugin_says_so() {
    let raw_secret = b"\x00\x01binary secret bytes \xff\xfe that are not text";
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw_secret);
    let cred = Cred {
        username: "svc",
        key: "svc-key",
        algorithm: "HS256",
        material: &encoded,
    };
    let (layer, _clock) = layer_at_now("{ secret_is_base64: true }", &[cred]);
    let gw = Gateway::start(layer).await;
    let key = EncodingKey::from_secret(raw_secret).unwrap();
    let token = sign(&json!({"iss": "svc-key"}), Algorithm::HS256, &key);
    assert_eq!(gw.get_with(&token).await.status, StatusCode::OK);
    let by_text = EncodingKey::from_secret(encoded.as_bytes()).unwrap();
    let token = sign(&json!({"iss": "svc-key"}), Algorithm::HS256, &by_text);
    assert_eq!(gw.get_with(&token).await.code(), "SIGNATURE_INVALID");
}

fn credential_error(algorithm: JwtAlgorithm, pem: &str) -> CredentialError {
    Credential::with_public_key("c", "k", algorithm, pem).unwrap_err()
}

#[test]
fn an_rsa_key_under_2048_bits_is_refused() {
    for algorithm in [JwtAlgorithm::RS256, JwtAlgorithm::PS256] {
        assert_eq!(
            credential_error(algorithm, RSA_1024_PUBLIC),
            CredentialError::RsaKeyTooShort(1024)
        );
    }
}

#[test]
fn an_ec_key_on_the_wrong_curve_is_refused() {
    assert_eq!(
        credential_error(JwtAlgorithm::ES256, EC384_PUBLIC),
        CredentialError::InvalidPublicKey("P-256")
    );
    assert_eq!(
        credential_error(JwtAlgorithm::ES384, EC256_PUBLIC),
        CredentialError::InvalidPublicKey("P-384")
    );
}

#[test]
fn a_key_of_another_type_is_refused() {
    assert_eq!(
        credential_error(JwtAlgorithm::EdDSA, RSA_PUBLIC),
        CredentialError::InvalidPublicKey("Ed25519")
    );
    assert_eq!(
        credential_error(JwtAlgorithm::RS256, EC256_PUBLIC),
        CredentialError::InvalidPublicKey("RSA")
    );
    assert_eq!(
        credential_error(
            JwtAlgorithm::ES256,
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"
        ),
        CredentialError::InvalidPublicKey("P-256")
    );
}

#[test]
fn the_configuration_refuses_an_unusable_key_naming_its_path_and_line() {
    let cred = Cred {
        username: "carol",
        key: "carol-key",
        algorithm: "RS512",
        material: RSA_1024_PUBLIC,
    };
    let error = Config::from_yaml(&yaml("{}", &[cred]), "test.yaml").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("consumers[0].jwt_secrets[0].rsa_public_key"),
        "{message}"
    );
    assert!(message.contains("test.yaml:8:"), "{message}");
    assert!(message.contains("the RSA key has 1024 bits"), "{message}");
}

#[test]
fn the_layer_itself_refuses_an_unusable_key_naming_consumer_and_credential() {
    // Built without the configuration loader, which would have refused the key first.
    let (plugin, _) = config("{}", &[]);
    let consumers = [Consumer {
        username: "carol".into(),
        custom_id: None,
        jwt_secrets: vec![JwtSecret {
            key: "carol-key".into(),
            algorithm: JwtAlgorithm::ES256,
            rsa_public_key: Some(EC384_PUBLIC.into()),
            secret: None,
        }],
    }];
    let error = JwtAuthLayer::new(&plugin, &consumers).unwrap_err();
    assert_eq!(
        error,
        SetupError::Credential {
            consumer: "carol".into(),
            key: "carol-key".into(),
            error: CredentialError::InvalidPublicKey("P-256"),
        }
    );
    assert_eq!(
        error.to_string(),
        "consumer `carol`, JWT credential `carol-key`: 'rsa_public_key' is not a PEM-encoded P-256 public key"
    );
}
