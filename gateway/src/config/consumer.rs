//! Consumers and their JWT credentials.

use std::fmt;

use crate::config::ErrorKind;
use crate::config::decode::{At, Result, is_off};
use crate::config::keys::check_public_key;

/// A signing algorithm a JWT credential is pinned to.
///
/// A token is verified only with its credential's algorithm: a token whose header names
/// another one is refused, so an RSA public key can never be used as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
    /// HMAC with SHA-256, keyed by the credential's `secret`.
    HS256,
}

impl JwtAlgorithm {
    /// Every algorithm, in the order the documentation lists them.
    pub const ALL: [JwtAlgorithm; 8] = [
        JwtAlgorithm::RS256,
        JwtAlgorithm::RS384,
        JwtAlgorithm::RS512,
        JwtAlgorithm::PS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::ES384,
        JwtAlgorithm::EdDSA,
        JwtAlgorithm::HS256,
    ];

    /// The name a JWT header's `alg` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::RS384 => "RS384",
            JwtAlgorithm::RS512 => "RS512",
            JwtAlgorithm::PS256 => "PS256",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::ES384 => "ES384",
            JwtAlgorithm::EdDSA => "EdDSA",
            JwtAlgorithm::HS256 => "HS256",
        }
    }

    /// Whether the credential verifies with a public key (`rsa_public_key`) rather than a
    /// shared `secret`.
    pub fn is_asymmetric(self) -> bool {
        self != JwtAlgorithm::HS256
    }

    fn decode(at: &At<'_>) -> Result<Self> {
        let name = at.str()?;
        if let Some(algorithm) = Self::ALL.into_iter().find(|a| a.as_str() == name) {
            return Ok(algorithm);
        }
        let known = Self::ALL.map(JwtAlgorithm::as_str).join(", ");
        let kind = if ["HS384", "HS512", "ES512", "PS384", "PS512"].contains(&name) {
            ErrorKind::Unsupported
        } else {
            ErrorKind::Invalid
        };
        Err(at.error(
            kind,
            format!("algorithm `{name}` is not supported; use one of {known}"),
        ))
    }
}

impl From<JwtAlgorithm> for jsonwebtoken::Algorithm {
    fn from(algorithm: JwtAlgorithm) -> Self {
        use jsonwebtoken::Algorithm;
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

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A consumer's JWT credential: the key that tokens name (in the plugin's `key_claim_name`
/// claim, `iss` by default), the algorithm it is pinned to, and what verifies it.
///
/// Kong's default algorithm is HS256. An asymmetric algorithm needs `rsa_public_key` (a PEM
/// public key of the algorithm's type, whatever its letters: Kong keeps the field's name for
/// EC and Ed25519 keys too); HS256 needs `secret`. Kong would generate a missing key or
/// secret, which nobody could then know from a file, so Sluicegate requires them. The field
/// the algorithm does not use is ignored, as in Kong, whose exports carry a generated
/// `secret` on every credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSecret {
    /// The identifier tokens carry in the key claim; unique across all consumers.
    pub key: String,
    /// The one algorithm tokens for this credential may use.
    pub algorithm: JwtAlgorithm,
    /// The PEM public key, for asymmetric algorithms.
    pub rsa_public_key: Option<String>,
    /// The shared secret, for HS256.
    pub secret: Option<String>,
}

impl JwtSecret {
    fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let key = f.req("key", At::non_empty_string)?;
        let algorithm = f.or("algorithm", JwtAlgorithm::HS256, JwtAlgorithm::decode)?;
        let public_key = f.get("rsa_public_key");
        let secret = f.opt("secret", At::non_empty_string)?;
        for meta in ["tags", "id", "created_at", "consumer"] {
            f.ignore(meta);
        }
        let credential = f.at().clone();
        f.finish()?;
        let rsa_public_key = match (&public_key, algorithm.is_asymmetric()) {
            (Some(pem), true) => Some(check_public_key(pem, algorithm)?),
            (None, true) => {
                return Err(credential.error(
                    ErrorKind::MissingKey,
                    format!("an {algorithm} credential needs `rsa_public_key` (a PEM public key)"),
                ));
            }
            (_, false) => public_key
                .map(|pem| pem.str().map(str::to_owned))
                .transpose()?,
        };
        if !algorithm.is_asymmetric() && secret.is_none() {
            return Err(credential.error(
                ErrorKind::MissingKey,
                "an HS256 credential needs `secret` (Kong would generate one nobody knows)",
            ));
        }
        Ok(JwtSecret {
            key,
            algorithm,
            rsa_public_key,
            secret,
        })
    }
}

/// A consumer: someone whose requests the gateway can tell apart, with the credentials that
/// prove it.
///
/// Sluicegate names consumers by `username`, which it requires (Kong accepts a `custom_id`
/// alone): it is what limits count per and what a verified token's identity carries.
/// `custom_id` is kept for the operator's own use. Consumer-scoped plugins are not
/// supported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// The consumer's unique name.
    pub username: String,
    /// An optional unique identifier from another system.
    pub custom_id: Option<String>,
    /// The consumer's JWT credentials.
    pub jwt_secrets: Vec<JwtSecret>,
}

impl Consumer {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let username = f.req("username", At::non_empty_string)?;
        let custom_id = f.opt("custom_id", At::non_empty_string)?;
        let jwt_secrets = f.or("jwt_secrets", Vec::new(), |at| {
            at.list(|item| JwtSecret::decode(&item))
        })?;
        f.unsupported(
            "plugins",
            is_off,
            "plugins apply to services, routes or globally, not per consumer",
        )?;
        for meta in ["tags", "id", "created_at", "updated_at"] {
            f.ignore(meta);
        }
        f.finish()?;
        Ok(Consumer {
            username,
            custom_id,
            jwt_secrets,
        })
    }
}
