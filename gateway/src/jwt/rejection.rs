//! Why a request was not let through, and the response that says so.
//!
//! Messages follow Kong's jwt plugin where Kong has one ("Unauthorized", "Multiple tokens
//! provided", "Invalid signature", ...), so operators moving from Kong read familiar words.
//! A 401 body is `{"error": <message>, "code": <CODE>}` with a stable machine-readable code
//! (an expired token gets `{"error":"Token expired","code":"TOKEN_EXPIRED"}`, as the Express
//! recipe answers); a 403 body is just `{"error":"Missing required scope: <scope>"}`, the
//! recipe's body too. `WWW-Authenticate` follows RFC 6750: `Bearer` when no token was sent,
//! `Bearer error="invalid_token"` when one was refused, and `Bearer error="insufficient_scope"`
//! on a 403, each with `realm="..."` first when the plugin names one.

use std::fmt;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use super::token::Malformed;
use crate::body::Body;

/// Why a request failed JWT authentication (401) or authorisation (403).
///
/// ```
/// use sluicegate_gateway::jwt::Rejection;
/// let rejection = Rejection::MissingScope("admin".into());
/// assert_eq!(rejection.status(), http::StatusCode::FORBIDDEN);
/// assert_eq!(rejection.to_string(), "Missing required scope: admin");
/// let response = rejection.into_response();
/// assert_eq!(response.headers()["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No token in any configured header, query parameter or cookie.
    MissingToken,
    /// Different tokens in the configured places.
    MultipleTokens,
    /// A token, or a header a token is read from, longer than
    /// [`MAX_TOKEN_BYTES`](super::MAX_TOKEN_BYTES). Refused before any decoding.
    TooLarge,
    /// Not a well-formed compact JWS; the text says what is wrong.
    Malformed(String),
    /// The header's `alg` is `none`, in some case.
    AlgorithmNone,
    /// The header lists `crit` extensions; none are supported.
    CriticalHeader,
    /// Neither claims nor header carry the key claim (named here).
    KeyClaimMissing(String),
    /// The key claim (named here) is empty or not a string.
    KeyClaimInvalid(String),
    /// No credential has the key claim's value as its key (the claim is named here).
    UnknownCredential(String),
    /// The header's `alg` is not the algorithm the credential is pinned to.
    AlgorithmMismatch,
    /// The signature does not verify with the credential's key.
    InvalidSignature,
    /// A claim to verify is missing or not a number (the claim is named here).
    ClaimNotNumeric(&'static str),
    /// `exp` has passed (leeway included). Only ever said of genuinely signed tokens.
    Expired,
    /// `nbf` has not come yet (leeway included).
    NotYetValid,
    /// `exp` is further away than the configured `maximum_expiration`.
    ExpirationTooFar,
    /// A claim the gateway reads (`sub`, `scopes`) has the wrong type (named here).
    InvalidClaim(&'static str),
    /// The token verified but does not grant this required scope (403).
    MissingScope(String),
}

impl Rejection {
    /// The HTTP status: 403 for [`Rejection::MissingScope`], 401 for everything else.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingScope(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// A stable, machine-readable code for the body's `code` member, e.g. `TOKEN_EXPIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "TOKEN_MISSING",
            Self::MultipleTokens => "TOKEN_MULTIPLE",
            Self::TooLarge => "TOKEN_TOO_LARGE",
            Self::Malformed(_) => "TOKEN_MALFORMED",
            Self::AlgorithmNone => "ALGORITHM_NONE",
            Self::CriticalHeader => "CRIT_UNSUPPORTED",
            Self::KeyClaimMissing(_) => "KEY_CLAIM_MISSING",
            Self::KeyClaimInvalid(_) => "KEY_CLAIM_INVALID",
            Self::UnknownCredential(_) => "CREDENTIAL_UNKNOWN",
            Self::AlgorithmMismatch => "ALGORITHM_MISMATCH",
            Self::InvalidSignature => "SIGNATURE_INVALID",
            Self::ClaimNotNumeric(_) => "CLAIM_NOT_NUMERIC",
            Self::Expired => "TOKEN_EXPIRED",
            Self::NotYetValid => "TOKEN_NOT_YET_VALID",
            Self::ExpirationTooFar => "EXPIRATION_TOO_FAR",
            Self::InvalidClaim(_) => "CLAIM_INVALID",
            Self::MissingScope(_) => "SCOPE_MISSING",
        }
    }

    /// The JSON response: status, `WWW-Authenticate` (without a realm),
    /// `Cache-Control: no-store`, and `{"error": <message>, "code": <code>}` (no `code` on a
    /// 403).
    pub fn into_response(self) -> Response<Body> {
        self.response(&Challenges::default())
    }

    /// The JSON response, with the `WWW-Authenticate` challenge taken from `challenges`.
    pub(crate) fn response(&self, challenges: &Challenges) -> Response<Body> {
        let body = match self {
            // The recipe's exact 403 body, which clients already parse.
            Self::MissingScope(_) => serde_json::json!({ "error": self.to_string() }),
            _ => serde_json::json!({ "error": self.to_string(), "code": self.code() }),
        };
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = self.status();
        let challenge = match self {
            Self::MissingToken => &challenges.no_token,
            Self::MissingScope(_) => &challenges.insufficient_scope,
            _ => &challenges.invalid_token,
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(WWW_AUTHENTICATE, challenge.clone());
        response
    }
}

/// The three `WWW-Authenticate` values a layer answers with, its realm included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenges {
    no_token: HeaderValue,
    invalid_token: HeaderValue,
    insufficient_scope: HeaderValue,
}

impl Challenges {
    /// The challenges for `realm`; `None` if the realm cannot be written into a header.
    pub(crate) fn new(realm: Option<&str>) -> Option<Self> {
        let (bare, prefix) = match realm {
            None => ("Bearer".to_owned(), "Bearer ".to_owned()),
            Some(realm) => {
                let quoted = realm.replace('\\', "\\\\").replace('"', "\\\"");
                let bare = format!("Bearer realm=\"{quoted}\"");
                let prefix = format!("{bare}, ");
                (bare, prefix)
            }
        };
        let value = |text: String| HeaderValue::from_str(&text).ok();
        Some(Self {
            no_token: value(bare)?,
            invalid_token: value(format!("{prefix}error=\"invalid_token\""))?,
            insufficient_scope: value(format!("{prefix}error=\"insufficient_scope\""))?,
        })
    }
}

impl Default for Challenges {
    fn default() -> Self {
        Self {
            no_token: HeaderValue::from_static("Bearer"),
            invalid_token: HeaderValue::from_static("Bearer error=\"invalid_token\""),
            insufficient_scope: HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingToken => f.write_str("Unauthorized"),
            Self::MultipleTokens => f.write_str("Multiple tokens provided"),
            Self::TooLarge => f.write_str("Token too large"),
            Self::Malformed(reason) => write!(f, "Bad token; {reason}"),
            Self::AlgorithmNone => {
                f.write_str("Bad token; unsigned tokens (alg 'none') are refused")
            }
            Self::CriticalHeader => f.write_str("Bad token; 'crit' extensions are not supported"),
            Self::KeyClaimMissing(claim) => write!(f, "No mandatory '{claim}' in claims"),
            Self::KeyClaimInvalid(claim) => write!(f, "Invalid '{claim}' in claims"),
            Self::UnknownCredential(claim) => {
                write!(f, "No credentials found for given '{claim}'")
            }
            Self::AlgorithmMismatch => f.write_str("Invalid algorithm"),
            Self::InvalidSignature => f.write_str("Invalid signature"),
            Self::ClaimNotNumeric(claim) => write!(f, "'{claim}' must be a number"),
            Self::Expired => f.write_str("Token expired"),
            Self::NotYetValid => f.write_str("Token not valid yet"),
            Self::ExpirationTooFar => f.write_str("'exp' exceeds maximum allowed expiration"),
            Self::InvalidClaim(claim) => write!(f, "Invalid '{claim}' claim"),
            Self::MissingScope(scope) => write!(f, "Missing required scope: {scope}"),
        }
    }
}

impl std::error::Error for Rejection {}

impl From<Malformed> for Rejection {
    fn from(malformed: Malformed) -> Self {
        match malformed {
            Malformed::AlgorithmNone => Self::AlgorithmNone,
            Malformed::Critical => Self::CriticalHeader,
            other => Self::Malformed(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn a_missing_token_gets_a_bare_challenge() {
        let challenge = |r: Rejection| r.into_response().headers()[WWW_AUTHENTICATE].clone();
        assert_eq!(challenge(Rejection::MissingToken), "Bearer");
        assert_eq!(
            challenge(Rejection::Expired),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(
            challenge(Rejection::MissingScope("a".into())),
            "Bearer error=\"insufficient_scope\""
        );
    }

    #[test]
    fn the_realm_is_quoted_into_every_challenge() {
        let challenges = Challenges::new(Some(r#"my "api""#)).unwrap();
        let response = Rejection::InvalidSignature.response(&challenges);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="my \"api\"", error="invalid_token""#
        );
        let response = Rejection::MissingToken.response(&challenges);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="my \"api\"""#
        );
        assert_eq!(Challenges::new(None), Some(Challenges::default()));
        assert_eq!(Challenges::new(Some("line\nbreak")), None);
    }

    #[test]
    fn the_body_is_json_with_error_and_code() {
        let response = Rejection::Expired.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let bytes = futures_lite_block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "Token expired", "code": "TOKEN_EXPIRED"})
        );
    }

    /// Polls a future that never waits (a buffered body) to completion without a runtime.
    fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => unreachable!("a buffered body never waits"),
        }
    }
}
