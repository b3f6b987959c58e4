//! Public keys in credentials, parsed at load so a bad key stops the gateway before it
//! serves, with the key's line in the message.

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::config::consumer::JwtAlgorithm;
use crate::config::decode::{At, Result};

impl From<JwtAlgorithm> for Algorithm {
    fn from(algorithm: JwtAlgorithm) -> Self {
        match algorithm {
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::RS384 => Algorithm::RS384,
            JwtAlgorithm::RS512 => Algorithm::RS512,
            JwtAlgorithm::PS256 => Algorithm::PS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
            JwtAlgorithm::ES384 => Algorithm::ES384,
            JwtAlgorithm::EdDSA => Algorithm::EdDSA,
            JwtAlgorithm::HS256 => Algorithm::HS256,
        }
    }
}

/// Checks that `at` holds a PEM public key of the kind `algorithm` verifies with, and
/// returns the PEM text.
pub(crate) fn check_public_key(at: &At<'_>, algorithm: JwtAlgorithm) -> Result<String> {
    let pem = at.str()?;
    let refuse = |why: &str| {
        at.invalid(format!(
            "`rsa_public_key` is not usable for {algorithm}: {why}"
        ))
    };
    if pem.contains("PRIVATE KEY-----") {
        return Err(refuse("it is a private key; give the public half"));
    }
    let parsed = match algorithm {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => DecodingKey::from_ec_pem(pem.as_bytes()),
        JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(pem.as_bytes()),
        _ => DecodingKey::from_rsa_pem(pem.as_bytes()),
    };
    parsed
        .map(|_| pem.to_owned())
        .map_err(|err| refuse(&format!("not a PEM public key of that type ({err})")))
}
