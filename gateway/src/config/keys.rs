//! Credential keys, checked at load with the very checks the JWT layer makes when it starts,
//! so a key it would refuse stops the gateway here, with the key's line in the message.

use crate::config::consumer::JwtAlgorithm;
use crate::config::decode::{At, Result};
use crate::jwt::Credential;

/// Checks that `at` holds a PEM public key `algorithm` can verify with (of the right type,
/// not a private key, RSA of at least [`MIN_RSA_BITS`](crate::jwt::MIN_RSA_BITS)), and
/// returns the PEM text.
pub(crate) fn check_public_key(at: &At<'_>, algorithm: JwtAlgorithm) -> Result<String> {
    let pem = at.str()?;
    Credential::with_public_key("", "", algorithm, pem)
        .map(|_| pem.to_owned())
        .map_err(|err| at.invalid(format!("unusable for {algorithm}: {err}")))
}

/// Checks that the HS256 secret at `at` decodes as base64, for a `jwt` plugin with
/// `secret_is_base64`.
pub(crate) fn check_base64_secret(at: &At<'_>) -> Result<()> {
    let secret = at.str()?;
    Credential::with_secret("", "", JwtAlgorithm::HS256, secret, true)
        .map(drop)
        .map_err(|err| {
            at.invalid(format!(
                "{err}: a `jwt` plugin sets `secret_is_base64`, so every HS256 secret must be base64"
            ))
        })
}
