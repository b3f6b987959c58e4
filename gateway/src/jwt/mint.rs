//! Minting RS256 tokens for local demos and tests.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// The claims of a development token: who signs (the credential key, as `iss`), who the
/// caller is (`sub`), what it may do (`scopes`) and how long it lives.
///
/// ```
/// use std::time::Duration;
/// use sluicegate_gateway::jwt::DevToken;
/// let token = DevToken::new("demo-key", "user-1")
///     .scopes(["orders:read"])
///     .lifetime(Duration::from_secs(600));
/// assert_eq!(token.subject, "user-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevToken {
    /// The `iss` claim: the `key` of the consumer credential that verifies the token.
    pub issuer: String,
    /// The `sub` claim: the user the token speaks for.
    pub subject: String,
    /// The `scopes` claim.
    pub scopes: Vec<String>,
    /// How long from now until `exp`; the default is one hour.
    pub lifetime: Duration,
}

impl DevToken {
    /// A token from `issuer` for `subject`, with no scopes and a one-hour lifetime.
    pub fn new(issuer: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            subject: subject.into(),
            scopes: Vec::new(),
            lifetime: Duration::from_secs(3_600),
        }
    }

    /// Sets the scopes.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the lifetime.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

/// Why a development token could not be minted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MintError {
    /// The PEM is not an RSA private key.
    InvalidPrivateKey,
    /// The lifetime reaches past what a NumericDate can say.
    LifetimeTooLong,
    /// Signing failed (the key is malformed inside its PEM armour).
    Signing(String),
}

impl fmt::Display for MintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPrivateKey => f.write_str("not a PEM-encoded RSA private key"),
            Self::LifetimeTooLong => f.write_str("the token lifetime is too long"),
            Self::Signing(reason) => write!(f, "signing failed: {reason}"),
        }
    }
}

impl std::error::Error for MintError {}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scopes: &'a [String],
    iat: u64,
    exp: u64,
}

/// Signs `token` with an RSA private key (PKCS#1 or PKCS#8 PEM) as an RS256 JWT, issued now.
///
/// This is what `sluicegate-gateway token` runs with `examples/keys/dev-rsa-private.pem`, whose
/// public half the example configuration trusts. The dev key is public: never trust it in a
/// real deployment.
///
/// ```
/// use sluicegate_gateway::jwt::{DevToken, mint_dev_token};
/// let pem = include_str!("../../../examples/keys/dev-rsa-private.pem");
/// let token = mint_dev_token(pem, &DevToken::new("demo-key", "user-1").scopes(["orders:read"]))?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), sluicegate_gateway::jwt::MintError>(())
/// ```
pub fn mint_dev_token(private_pem: &str, token: &DevToken) -> Result<String, MintError> {
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes())
        .map_err(|_| MintError::InvalidPrivateKey)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let exp = now
        .checked_add(token.lifetime.as_secs())
        .ok_or(MintError::LifetimeTooLong)?;
    let claims = Claims {
        iss: &token.issuer,
        sub: &token.subject,
        scopes: &token.scopes,
        iat: now,
        exp,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
        .map_err(|e| MintError::Signing(e.to_string()))
}
