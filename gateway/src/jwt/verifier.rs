//! Token verification in Kong's order, with the defences Kong's order leaves out.
//!
//! 1. size: a token over [`MAX_TOKEN_BYTES`] is refused before anything is decoded;
//! 2. decode: strict structure (see the token module): no `none`, no `crit`, no duplicates;
//! 3. key claim: `key_claim_name` from the claims, else from the header; a lookup key only;
//! 4. credential: the one whose key is that value;
//! 5. algorithm: the header's `alg` must be exactly the credential's algorithm;
//! 6. signature;
//! 7. claims: `exp`, `nbf` (with leeway), then `maximum_expiration`;
//! 8. identity: `sub` and the scopes.
//!
//! Because the signature is checked before any claim, a forged or tampered token is always
//! "Invalid signature": "Token expired" is only ever said of a token the credential signed.

use super::claims::identity;
use super::credentials::Credentials;
use super::rejection::Rejection;
use super::token::UnverifiedToken;
use super::{Identity, MAX_TOKEN_BYTES, VerifyOptions};
use serde_json::Value;

/// Checks tokens against a set of credentials.
///
/// ```
/// use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
/// use sluicegate_gateway::config::JwtAlgorithm;
/// use sluicegate_gateway::jwt::{Credential, Credentials, Rejection, Verifier, VerifyOptions};
///
/// let mut credentials = Credentials::default();
/// credentials.insert(Credential::with_secret("svc", "svc-key", JwtAlgorithm::HS256, "s3cret", false)?)?;
/// let options = VerifyOptions { verify_exp: true, ..VerifyOptions::default() };
/// let verifier = Verifier::new(credentials, options);
///
/// let claims = serde_json::json!({"iss": "svc-key", "sub": "job-7", "exp": 2_000});
/// let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"s3cret")?)?;
/// assert_eq!(verifier.verify(&token, 1_999)?.subject.as_deref(), Some("job-7"));
/// assert_eq!(verifier.verify(&token, 2_000), Err(Rejection::Expired));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    credentials: Credentials,
    options: VerifyOptions,
}

/// A verified token: who it identifies, and until when that stays true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    pub identity: Identity,
    /// The first second, since the Unix epoch, at which the token no longer verifies.
    pub valid_until: u64,
}

impl Verifier {
    /// A verifier for `credentials` with these options.
    pub fn new(credentials: Credentials, options: VerifyOptions) -> Self {
        Self {
            credentials,
            options,
        }
    }

    /// The options this verifier checks tokens with.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// Verifies `token` at `now` (seconds since the Unix epoch) and returns its identity.
    pub fn verify(&self, token: &str, now: u64) -> Result<Identity, Rejection> {
        self.verify_until(token, now)
            .map(|verified| verified.identity)
    }

    /// Verifies `token` at `now`, also saying until when the answer holds.
    pub(crate) fn verify_until(&self, token: &str, now: u64) -> Result<Verified, Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLarge);
        }
        let token = UnverifiedToken::parse(token)?;

        let key_claim = self.options.key_claim_name.as_str();
        let key = match token
            .claims
            .get(key_claim)
            .or_else(|| token.header.get(key_claim))
        {
            None | Some(Value::Null) => {
                return Err(Rejection::KeyClaimMissing(key_claim.to_owned()));
            }
            Some(Value::String(key)) if !key.is_empty() => key.as_str(),
            Some(_) => return Err(Rejection::KeyClaimInvalid(key_claim.to_owned())),
        };
        let credential = self
            .credentials
            .get(key)
            .ok_or_else(|| Rejection::UnknownCredential(key_claim.to_owned()))?;
        if !credential.accepts(&token.algorithm) {
            return Err(Rejection::AlgorithmMismatch);
        }
        if !credential.verifies(token.signing_input.as_bytes(), &token.signature) {
            return Err(Rejection::InvalidSignature);
        }

        self.options.check_time_claims(&token.claims, now)?;
        Ok(Verified {
            identity: identity(credential.consumer(), credential.key(), &token.claims)?,
            valid_until: self.options.valid_until(&token.claims),
        })
    }
}
