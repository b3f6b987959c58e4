//! Consumers' JWT credentials: each a key, a pinned algorithm and checked key material.
//!
//! Every key is parsed and checked once, when the gateway starts, so a bad PEM stops the
//! gateway instead of failing requests later: RSA keys must be public keys of at least 2048 bits
//! (NIST has disallowed shorter ones for signatures since 2013), EC keys must be points on the
//! curve the algorithm names, Ed25519 keys must be valid curve points, HMAC secrets must not be
//! empty. A credential verifies only tokens whose header `alg` is exactly its own algorithm, so
//! an RSA public key can never be used as an HMAC secret.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use crate::config::{JwtAlgorithm, JwtSecret};

/// The shortest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a credential's key material was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    /// An asymmetric algorithm without a public key.
    MissingPublicKey(JwtAlgorithm),
    /// An HMAC algorithm without a secret.
    MissingSecret(JwtAlgorithm),
    /// A private key where the public key belongs.
    PrivateKeyGiven,
    /// Not a PEM-encoded public key of the kind the algorithm needs.
    InvalidPublicKey(&'static str),
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    RsaKeyTooShort(usize),
    /// An empty HMAC secret.
    EmptySecret,
    /// A secret that should be base64 (`secret_is_base64`) and is not.
    SecretNotBase64,
    /// Two credentials share a key, so a token's key claim could not choose between them.
    DuplicateKey(String),
    /// No JWT crypto backend is compiled in (a build problem, not a configuration one).
    NoCryptoBackend,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingPublicKey(alg) => write!(f, "{alg} needs a PEM public key in 'rsa_public_key'"),
            Self::MissingSecret(alg) => write!(f, "{alg} needs a 'secret'"),
            Self::PrivateKeyGiven => f.write_str(
                "'rsa_public_key' holds a private key; configure the public key and keep the private one secret",
            ),
            Self::InvalidPublicKey(expected) => {
                write!(f, "'rsa_public_key' is not a PEM-encoded {expected} public key")
            }
            Self::RsaKeyTooShort(bits) => {
                write!(f, "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required")
            }
            Self::EmptySecret => f.write_str("'secret' is empty"),
            Self::SecretNotBase64 => {
                f.write_str("'secret' is not base64, but 'secret_is_base64' is true")
            }
            Self::DuplicateKey(key) => write!(f, "two JWT credentials have the key '{key}'"),
            Self::NoCryptoBackend => f.write_str("no JWT crypto backend is compiled in"),
        }
    }
}

impl std::error::Error for CredentialError {}

/// One consumer's JWT credential: a key, the one algorithm it accepts, and its checked key.
///
/// ```
/// use sluicegate_gateway::config::JwtAlgorithm;
/// use sluicegate_gateway::jwt::Credential;
/// let pem = include_str!("../../../examples/keys/dev-rsa-public.pem");
/// let credential = Credential::with_public_key("alice", "alice-key", JwtAlgorithm::RS256, pem)?;
/// assert_eq!(credential.key(), "alice-key");
/// assert!(Credential::with_public_key("alice", "k", JwtAlgorithm::ES256, pem).is_err());
/// # Ok::<(), sluicegate_gateway::jwt::CredentialError>(())
/// ```
#[derive(Clone)]
pub struct Credential {
    consumer: String,
    key: String,
    algorithm: JwtAlgorithm,
    decoding_key: DecodingKey,
}

impl Credential {
    /// The credential a consumer's `jwt_secrets` entry describes. With `secret_is_base64` (the
    /// jwt plugin's setting) an HS256 secret is base64-decoded first.
    pub fn from_config(
        consumer: &str,
        secret: &JwtSecret,
        secret_is_base64: bool,
    ) -> Result<Self, CredentialError> {
        let algorithm = secret.algorithm;
        if algorithm.is_asymmetric() {
            let pem = (secret.rsa_public_key.as_deref())
                .ok_or(CredentialError::MissingPublicKey(algorithm))?;
            Self::with_public_key(consumer, &secret.key, algorithm, pem)
        } else {
            let shared =
                (secret.secret.as_deref()).ok_or(CredentialError::MissingSecret(algorithm))?;
            Self::with_secret(consumer, &secret.key, algorithm, shared, secret_is_base64)
        }
    }

    /// A credential for an RSA, RSA-PSS, ECDSA or EdDSA algorithm, from a PEM public key
    /// (SubjectPublicKeyInfo, or PKCS#1 `RSA PUBLIC KEY` for RSA).
    pub fn with_public_key(
        consumer: impl Into<String>,
        key: impl Into<String>,
        algorithm: JwtAlgorithm,
        pem: &str,
    ) -> Result<Self, CredentialError> {
        if !algorithm.is_asymmetric() {
            return Err(CredentialError::MissingSecret(algorithm));
        }
        if pem.contains("PRIVATE KEY-----") {
            return Err(CredentialError::PrivateKeyGiven);
        }
        let decoding_key = public_key(algorithm, pem.as_bytes())?;
        Ok(Self::checked(consumer, key, algorithm, decoding_key))
    }

    /// A credential for an HMAC algorithm. With `is_base64` the secret is first decoded from
    /// base64 (standard or URL-safe alphabet, padding optional, as Kong's `secret_is_base64`).
    pub fn with_secret(
        consumer: impl Into<String>,
        key: impl Into<String>,
        algorithm: JwtAlgorithm,
        secret: &str,
        is_base64: bool,
    ) -> Result<Self, CredentialError> {
        if algorithm.is_asymmetric() {
            return Err(CredentialError::MissingPublicKey(algorithm));
        }
        let secret = if is_base64 {
            decode_base64_secret(secret)?
        } else {
            secret.as_bytes().to_vec()
        };
        if secret.is_empty() {
            return Err(CredentialError::EmptySecret);
        }
        let decoding_key =
            DecodingKey::from_secret(&secret).map_err(|_| CredentialError::EmptySecret)?;
        Ok(Self::checked(consumer, key, algorithm, decoding_key))
    }

    fn checked(
        consumer: impl Into<String>,
        key: impl Into<String>,
        algorithm: JwtAlgorithm,
        decoding_key: DecodingKey,
    ) -> Self {
        Self {
            consumer: consumer.into(),
            key: key.into(),
            algorithm,
            decoding_key,
        }
    }

    /// The consumer this credential belongs to.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The credential's key: the value a token's key claim must carry.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The one algorithm this credential accepts.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// Whether a token header's `alg` is exactly (case included) this credential's algorithm.
    pub(crate) fn accepts(&self, alg: &str) -> bool {
        alg == self.algorithm.as_str()
    }

    /// Checks `signature` over `message` with this credential's key and algorithm.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Some(provider) = CryptoProvider::try_get_default() else {
            return false;
        };
        match (provider.verifier_factory)(&self.algorithm.into(), &self.decoding_key) {
            Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material: an HMAC secret is a password.
        f.debug_struct("Credential")
            .field("consumer", &self.consumer)
            .field("key", &self.key)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// All credentials a verifier knows, by key.
///
/// ```
/// use sluicegate_gateway::config::JwtAlgorithm;
/// use sluicegate_gateway::jwt::{Credential, CredentialError, Credentials};
/// let mut credentials = Credentials::default();
/// credentials.insert(Credential::with_secret("svc", "svc-key", JwtAlgorithm::HS256, "s3cret", false)?)?;
/// let again = Credential::with_secret("other", "svc-key", JwtAlgorithm::HS256, "x", false)?;
/// assert_eq!(credentials.insert(again), Err(CredentialError::DuplicateKey("svc-key".into())));
/// assert!(credentials.get("svc-key").is_some());
/// # Ok::<(), CredentialError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_key: HashMap<String, Credential>,
}

impl Credentials {
    /// Adds a credential, refusing one whose key is already taken.
    pub fn insert(&mut self, credential: Credential) -> Result<(), CredentialError> {
        match self.by_key.entry(credential.key.clone()) {
            Entry::Occupied(taken) => Err(CredentialError::DuplicateKey(taken.key().clone())),
            Entry::Vacant(slot) => {
                slot.insert(credential);
                Ok(())
            }
        }
    }

    /// The credential with this key.
    pub fn get(&self, key: &str) -> Option<&Credential> {
        self.by_key.get(key)
    }

    /// How many credentials there are.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Parses and checks a PEM public key for `algorithm`.
fn public_key(algorithm: JwtAlgorithm, pem: &[u8]) -> Result<DecodingKey, CredentialError> {
    match algorithm {
        JwtAlgorithm::ES256 | JwtAlgorithm::ES384 => {
            let curve = if algorithm == JwtAlgorithm::ES256 {
                "P-256"
            } else {
                "P-384"
            };
            let key = DecodingKey::from_ec_pem(pem)
                .map_err(|_| CredentialError::InvalidPublicKey(curve))?;
            let point = raw_bytes(&key);
            let on_curve = match algorithm {
                JwtAlgorithm::ES256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok(),
                _ => p384::ecdsa::VerifyingKey::from_sec1_bytes(point).is_ok(),
            };
            on_curve
                .then_some(key)
                .ok_or(CredentialError::InvalidPublicKey(curve))
        }
        JwtAlgorithm::EdDSA => {
            let key = DecodingKey::from_ed_pem(pem)
                .map_err(|_| CredentialError::InvalidPublicKey("Ed25519"))?;
            ed25519_dalek::VerifyingKey::try_from(raw_bytes(&key))
                .map(|_| key)
                .map_err(|_| CredentialError::InvalidPublicKey("Ed25519"))
        }
        JwtAlgorithm::RS256 | JwtAlgorithm::RS384 | JwtAlgorithm::RS512 | JwtAlgorithm::PS256 => {
            let key = DecodingKey::from_rsa_pem(pem)
                .map_err(|_| CredentialError::InvalidPublicKey("RSA"))?;
            let provider =
                CryptoProvider::try_get_default().ok_or(CredentialError::NoCryptoBackend)?;
            let (modulus, _exponent) =
                (provider.key_utils.rsa_pub_components_from_public_key)(raw_bytes(&key))
                    .map_err(|_| CredentialError::InvalidPublicKey("RSA"))?;
            let bits = modulus_bits(&modulus);
            if bits < MIN_RSA_BITS {
                return Err(CredentialError::RsaKeyTooShort(bits));
            }
            Ok(key)
        }
        JwtAlgorithm::HS256 => Err(CredentialError::MissingSecret(algorithm)),
    }
}

/// The DER or point bytes a PEM-built key holds.
fn raw_bytes(key: &DecodingKey) -> &[u8] {
    match key.kind() {
        DecodingKeyKind::SecretOrDer(bytes) => bytes,
        DecodingKeyKind::RsaModulusExponent { n, .. } => n,
    }
}

/// The bit length of a big-endian unsigned integer.
fn modulus_bits(modulus: &[u8]) -> usize {
    match modulus.iter().position(|byte| *byte != 0) {
        Some(first) => (modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize,
        None => 0,
    }
}

/// Decodes a base64 secret the way Kong does: either alphabet, padding optional.
fn decode_base64_secret(secret: &str) -> Result<Vec<u8>, CredentialError> {
    const EITHER_PADDING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let standard_alphabet: String = secret
        .trim()
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    EITHER_PADDING
        .decode(standard_alphabet)
        .map_err(|_| CredentialError::SecretNotBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_modulus_bits() {
        assert_eq!(modulus_bits(&[0, 0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0x80; 256]), 2048);
        assert_eq!(modulus_bits(&[0, 0]), 0);
    }

    #[test]
    fn decodes_base64_secrets_in_either_alphabet_with_or_without_padding() {
        assert_eq!(decode_base64_secret("c2VjcmV0Pz8_").unwrap(), b"secret???");
        assert_eq!(decode_base64_secret("c2VjcmV0Pz8/").unwrap(), b"secret???");
        assert_eq!(decode_base64_secret("c2VjcmV0").unwrap(), b"secret");
        assert_eq!(decode_base64_secret("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64_secret("YQ").unwrap(), b"a");
        assert_eq!(
            decode_base64_secret("not base64!"),
            Err(CredentialError::SecretNotBase64)
        );
    }

    #[test]
    fn an_hmac_algorithm_refuses_a_public_key_and_vice_versa() {
        let pem = include_str!("../../../examples/keys/dev-rsa-public.pem");
        assert_eq!(
            Credential::with_public_key("c", "k", JwtAlgorithm::HS256, pem).unwrap_err(),
            CredentialError::MissingSecret(JwtAlgorithm::HS256)
        );
        assert_eq!(
            Credential::with_secret("c", "k", JwtAlgorithm::RS256, pem, false).unwrap_err(),
            CredentialError::MissingPublicKey(JwtAlgorithm::RS256)
        );
    }

    #[test]
    fn a_private_key_is_refused_as_a_public_key() {
        let pem = include_str!("../../../examples/keys/dev-rsa-private.pem");
        assert_eq!(
            Credential::with_public_key("c", "k", JwtAlgorithm::RS256, pem).unwrap_err(),
            CredentialError::PrivateKeyGiven
        );
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let credential =
            Credential::with_secret("c", "k", JwtAlgorithm::HS256, "hunter2", false).unwrap();
        assert!(!format!("{credential:?}").contains("hunter2"));
    }
}
