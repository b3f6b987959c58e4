//! The `jwt` plugin's configuration.

use std::time::Duration;

use http::HeaderName;

use crate::config::decode::{At, Result, is_off};

/// Kong's largest `maximum_expiration`: one year, in seconds.
const MAX_EXPIRATION_SECS: u64 = 31_536_000;

/// The largest `leeway`: one hour. More would accept tokens long expired.
const MAX_LEEWAY_SECS: u64 = 3_600;

/// A registered claim the plugin can be told to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisteredClaim {
    /// `exp`: the token has not expired.
    Exp,
    /// `nbf`: the token is already valid.
    Nbf,
}

/// The `jwt` plugin: which requests must carry a valid token, where to find it, and what to
/// check in it.
///
/// Kong's fields, with Kong's defaults: tokens are looked for in `header_names`
/// (`authorization`), then `uri_param_names` (`jwt`), then `cookie_names` (none);
/// `key_claim_name` (`iss`) names the claim holding the credential's key;
/// `claims_to_verify` lists the registered claims that must be present and valid (Kong
/// verifies none unless listed); `maximum_expiration` (seconds, 0 = no limit, at most a
/// year; needs `exp` in `claims_to_verify`) caps how far in the future `exp` may be;
/// `run_on_preflight` (true) says whether CORS preflight `OPTIONS` requests need a token;
/// `secret_is_base64` (false) says HS256 secrets are base64. Kong's `realm` goes into
/// `WWW-Authenticate`. Kong's `anonymous` fallback consumer is not supported.
///
/// Sluicegate extensions: `leeway` (seconds, default 0, at most 3600) of clock skew allowed
/// on `exp` and `nbf`, and `scopes`, the scopes a token must all carry (default none; a
/// missing one is answered 403 `{"error":"Missing required scope: X"}`).
///
/// ```
/// use std::time::Duration;
/// use sluicegate_gateway::config::{Config, Plugin, RegisteredClaim};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: jwt
///     config:
///       claims_to_verify: [exp]
///       leeway: 30
///       scopes: [orders:read]
/// "#, "inline")?;
/// let Plugin::Jwt(jwt) = &config.plugins[0] else { unreachable!() };
/// assert_eq!(jwt.key_claim_name, "iss");
/// assert_eq!(jwt.header_names, ["authorization"]);
/// assert_eq!(jwt.uri_param_names, ["jwt"]);
/// assert_eq!(jwt.claims_to_verify, [RegisteredClaim::Exp]);
/// assert_eq!(jwt.leeway, Duration::from_secs(30));
/// assert_eq!(jwt.scopes, ["orders:read"]);
/// assert!(jwt.run_on_preflight);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtPlugin {
    /// The claim holding the credential's key.
    pub key_claim_name: String,
    /// The registered claims that must be present and valid.
    pub claims_to_verify: Vec<RegisteredClaim>,
    /// How far in the future `exp` may be, if limited.
    pub maximum_expiration: Option<Duration>,
    /// Request headers a token may come in (`Bearer <token>`, or the bare token).
    pub header_names: Vec<HeaderName>,
    /// Query parameters a token may come in.
    pub uri_param_names: Vec<String>,
    /// Cookies a token may come in.
    pub cookie_names: Vec<String>,
    /// Whether `OPTIONS` preflight requests need a token too.
    pub run_on_preflight: bool,
    /// Whether HS256 secrets are given in base64.
    pub secret_is_base64: bool,
    /// The realm named in `WWW-Authenticate`, if any.
    pub realm: Option<String>,
    /// The clock skew allowed on `exp` and `nbf` (extension).
    pub leeway: Duration,
    /// The scopes a token must all carry (extension).
    pub scopes: Vec<String>,
}

impl JwtPlugin {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let key_claim_name = f.or("key_claim_name", "iss".to_owned(), At::non_empty_string)?;
        let claims_at = f.get("claims_to_verify");
        let claims_to_verify = match &claims_at {
            Some(at) => {
                let mut claims = Vec::new();
                for claim in at.list(|c| {
                    c.one_of(&[("exp", RegisteredClaim::Exp), ("nbf", RegisteredClaim::Nbf)])
                })? {
                    if !claims.contains(&claim) {
                        claims.push(claim);
                    }
                }
                claims
            }
            None => Vec::new(),
        };
        let expiration_at = f.get("maximum_expiration");
        let maximum_expiration = match &expiration_at {
            Some(at) => match at.integer(0..=MAX_EXPIRATION_SECS)? {
                0 => None,
                secs if !claims_to_verify.contains(&RegisteredClaim::Exp) => {
                    return Err(at.invalid(format!(
                        "maximum_expiration {secs} needs `exp` in `claims_to_verify`, or no token would be checked against it"
                    )));
                }
                secs => Some(Duration::from_secs(secs)),
            },
            None => None,
        };
        let header_names = f.or("header_names", vec![http::header::AUTHORIZATION], |at| {
            at.list(|h| header_name(&h))
        })?;
        let uri_param_names = f.or("uri_param_names", vec!["jwt".to_owned()], |at| {
            at.list(|p| p.non_empty_string())
        })?;
        let cookie_names = f.or("cookie_names", Vec::new(), |at| {
            at.list(|c| c.non_empty_string())
        })?;
        let run_on_preflight = f.or("run_on_preflight", true, At::bool)?;
        let secret_is_base64 = f.or("secret_is_base64", false, At::bool)?;
        let realm = f.opt("realm", |at| {
            let realm = at.non_empty_string()?;
            if realm.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
                Ok(realm)
            } else {
                Err(at.invalid("the realm goes into a header: printable ASCII only"))
            }
        })?;
        let leeway = f.or("leeway", Duration::ZERO, |at| {
            at.integer(0..=MAX_LEEWAY_SECS).map(Duration::from_secs)
        })?;
        let scopes = f.or("scopes", Vec::new(), |at| at.list(|s| scope(&s)))?;
        f.unsupported(
            "anonymous",
            is_off,
            "every request on a jwt-protected route needs a valid token",
        )?;
        f.finish()?;
        Ok(JwtPlugin {
            key_claim_name,
            claims_to_verify,
            maximum_expiration,
            header_names,
            uri_param_names,
            cookie_names,
            run_on_preflight,
            secret_is_base64,
            realm,
            leeway,
            scopes,
        })
    }
}

/// A header name, case-insensitive (stored lowercase).
pub(crate) fn header_name(at: &At<'_>) -> Result<HeaderName> {
    let text = at.str()?;
    HeaderName::from_bytes(text.as_bytes())
        .map_err(|_| at.invalid(format!("`{text}` is not a valid header name")))
}

/// A scope: a non-empty token with no spaces (RFC 6749 §3.3).
fn scope(at: &At<'_>) -> Result<String> {
    let text = at.non_empty_string()?;
    if text
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
    {
        Ok(text)
    } else {
        Err(at.invalid(format!(
            "`{text}` is not a scope: printable ASCII without spaces, quotes or backslashes"
        )))
    }
}
