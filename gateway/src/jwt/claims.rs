//! The registered claims a verifier checks, and the claims it reads into an [`Identity`].
//!
//! Time is whole seconds since the Unix epoch, like Kong's `ngx.time()`. `exp` and `nbf` are
//! NumericDates: any JSON number, fractions allowed. A claim listed in `claims_to_verify` that
//! is missing or not a number is an error, never "absent, so fine".

use std::time::Duration;

use serde_json::{Map, Value};

use super::Identity;
use super::rejection::Rejection;

/// What a verifier checks beyond the signature, and how it finds the credential.
///
/// The defaults are Kong's: the key claim is `iss`, no registered claim is verified, no leeway
/// and no maximum expiration. A gateway operator almost always wants `verify_exp: true`.
///
/// ```
/// use std::time::Duration;
/// use sluicegate_gateway::jwt::VerifyOptions;
/// let options = VerifyOptions {
///     verify_exp: true,
///     leeway: Duration::from_secs(30),
///     ..VerifyOptions::default()
/// };
/// assert_eq!(options.key_claim_name, "iss");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The claim (or, failing that, header member) whose value is the credential's `key`.
    pub key_claim_name: String,
    /// Refuse tokens whose `exp` is missing, not a number, or `<= now - leeway`.
    pub verify_exp: bool,
    /// Refuse tokens whose `nbf` is missing, not a number, or `> now + leeway`.
    pub verify_nbf: bool,
    /// Clock skew tolerated on `exp` and `nbf` (whole seconds; a fraction is dropped).
    pub leeway: Duration,
    /// Refuse tokens whose `exp` is missing or more than this far in the future. `None` (or
    /// zero, as in Kong) disables the check.
    pub maximum_expiration: Option<Duration>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            key_claim_name: "iss".to_owned(),
            verify_exp: false,
            verify_nbf: false,
            leeway: Duration::ZERO,
            maximum_expiration: None,
        }
    }
}

impl VerifyOptions {
    /// Checks `exp`, `nbf` and the maximum expiration, in Kong's order, at `now`.
    pub(crate) fn check_time_claims(
        &self,
        claims: &Map<String, Value>,
        now: u64,
    ) -> Result<(), Rejection> {
        let now = now as f64;
        let leeway = self.leeway.as_secs() as f64;
        if self.verify_exp && numeric(claims, "exp")? + leeway <= now {
            return Err(Rejection::Expired);
        }
        if self.verify_nbf && numeric(claims, "nbf")? - leeway > now {
            return Err(Rejection::NotYetValid);
        }
        if let Some(maximum) = self.maximum_expiration.filter(|m| !m.is_zero()) {
            let exp = numeric(claims, "exp").map_err(|_| Rejection::ExpirationTooFar)?;
            if exp - now > maximum.as_secs() as f64 {
                return Err(Rejection::ExpirationTooFar);
            }
        }
        Ok(())
    }

    /// The last second (exclusive) at which a token verified now still verifies: `exp` plus
    /// leeway when `exp` is checked, otherwise never-ending (`u64::MAX`).
    pub(crate) fn valid_until(&self, claims: &Map<String, Value>) -> u64 {
        match claims.get("exp").and_then(Value::as_f64) {
            // Saturating float-to-int casts: a far-future exp is "forever", a negative one 0.
            Some(exp) if self.verify_exp => (exp + self.leeway.as_secs() as f64).ceil() as u64,
            _ => u64::MAX,
        }
    }
}

/// Reads a NumericDate claim that must be there.
fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<f64, Rejection> {
    claims
        .get(name)
        .and_then(Value::as_f64)
        .ok_or(Rejection::ClaimNotNumeric(name))
}

/// Builds the identity a verified token carries.
pub(crate) fn identity(
    consumer: &str,
    credential: &str,
    claims: &Map<String, Value>,
) -> Result<Identity, Rejection> {
    let subject = match claims.get("sub") {
        None => None,
        Some(Value::String(sub)) => Some(sub.clone()),
        Some(_) => return Err(Rejection::InvalidClaim("sub")),
    };
    let scopes = match claims.get("scopes") {
        Some(value) => scopes(value).ok_or(Rejection::InvalidClaim("scopes"))?,
        None => match claims.get("scope") {
            Some(value) => scopes(value).ok_or(Rejection::InvalidClaim("scope"))?,
            None => Vec::new(),
        },
    };
    let expires_at = claims
        .get("exp")
        .and_then(Value::as_f64)
        .map(|exp| exp.floor() as u64);
    Ok(Identity {
        consumer: consumer.to_owned(),
        credential: credential.to_owned(),
        subject,
        scopes,
        expires_at,
    })
}

/// A scopes claim: an array of strings, or one string of space-separated scopes.
fn scopes(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(list) => Some(list.split_ascii_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn checking(exp: bool, nbf: bool, leeway: u64) -> VerifyOptions {
        VerifyOptions {
            verify_exp: exp,
            verify_nbf: nbf,
            leeway: Duration::from_secs(leeway),
            ..VerifyOptions::default()
        }
    }

    #[test]
    fn exp_is_expired_at_exactly_now() {
        let options = checking(true, false, 0);
        let c = claims(json!({"exp": 100}));
        assert_eq!(options.check_time_claims(&c, 99), Ok(()));
        assert_eq!(options.check_time_claims(&c, 100), Err(Rejection::Expired));
    }

    #[test]
    fn leeway_extends_exp_and_brings_nbf_forward() {
        let options = checking(true, true, 10);
        let c = claims(json!({"exp": 100, "nbf": 50}));
        assert_eq!(options.check_time_claims(&c, 109), Ok(()));
        assert_eq!(options.check_time_claims(&c, 110), Err(Rejection::Expired));
        assert_eq!(options.check_time_claims(&c, 40), Ok(()));
        assert_eq!(
            options.check_time_claims(&c, 39),
            Err(Rejection::NotYetValid)
        );
    }

    #[test]
    fn a_missing_or_textual_claim_to_verify_is_an_error() {
        let options = checking(true, true, 0);
        for c in [json!({"nbf": 1}), json!({"exp": "9999999999", "nbf": 1})] {
            assert_eq!(
                options.check_time_claims(&claims(c), 5),
                Err(Rejection::ClaimNotNumeric("exp"))
            );
        }
        assert_eq!(
            options.check_time_claims(&claims(json!({"exp": 10})), 5),
            Err(Rejection::ClaimNotNumeric("nbf"))
        );
    }

    #[test]
    fn unverified_claims_are_not_looked_at() {
        let c = claims(json!({"exp": "garbage", "nbf": 1e18}));
        assert_eq!(VerifyOptions::default().check_time_claims(&c, 5), Ok(()));
    }

    #[test]
    fn maximum_expiration_needs_an_exp_close_enough() {
        let options = VerifyOptions {
            maximum_expiration: Some(Duration::from_secs(60)),
            ..VerifyOptions::default()
        };
        let at = |exp: Value| options.check_time_claims(&claims(json!({ "exp": exp })), 1_000);
        assert_eq!(at(json!(1_060)), Ok(()));
        assert_eq!(at(json!(1_061)), Err(Rejection::ExpirationTooFar));
        assert_eq!(
            options.check_time_claims(&claims(json!({})), 1_000),
            Err(Rejection::ExpirationTooFar)
        );
    }

    #[test]
    fn valid_until_is_exp_plus_leeway_rounded_up() {
        let c = claims(json!({"exp": 100.5}));
        assert_eq!(checking(true, false, 3).valid_until(&c), 104);
        assert_eq!(checking(false, false, 3).valid_until(&c), u64::MAX);
    }

    #[test]
    fn scopes_come_from_an_array_or_a_spaced_string() {
        let from = |c: Value| identity("c", "k", &claims(c)).map(|i| i.scopes);
        assert_eq!(
            from(json!({"scopes": ["a", "b"]})),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            from(json!({"scope": " a  b "})),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(from(json!({})), Ok(vec![]));
        assert_eq!(
            from(json!({"scopes": ["a", 1]})),
            Err(Rejection::InvalidClaim("scopes"))
        );
        assert_eq!(
            from(json!({"scope": {"a": true}})),
            Err(Rejection::InvalidClaim("scope"))
        );
    }

    #[test]
    fn a_non_string_subject_is_refused() {
        assert_eq!(
            identity("c", "k", &claims(json!({"sub": 42}))),
            Err(Rejection::InvalidClaim("sub"))
        );
    }
}
