//! A compact-serialised JWS split, decoded and parsed, but not yet trusted.
//!
//! Parsing is strict so that no two parsers can disagree about what a token says: exactly three
//! base64url segments without padding and with canonical trailing bits, a header and claims that
//! are JSON objects with distinct member names, a string `alg` that is not `none` in any case,
//! and no `crit` header (this verifier understands no extension, so RFC 7515 §4.1.11 requires
//! refusing any token that lists one). Header members that point at keys (`jwk`, `jku`, `x5u`,
//! `x5c`) are never read: keys come only from configured credentials.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::json::{self, JsonError};

/// The part of a token a parsing error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Header,
    Claims,
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Claims => "claims",
            Self::Signature => "signature",
        })
    }
}

/// Why a token could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Not three dot-separated segments.
    Segments,
    /// A segment is not unpadded, canonical base64url.
    Base64(Part),
    /// The header or claims are not a strict JSON object.
    Json(Part, JsonError),
    /// The header has no string `alg`.
    AlgorithmMissing,
    /// The header's `alg` is `none`, in some case.
    AlgorithmNone,
    /// The header lists critical extensions.
    Critical,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Segments => f.write_str("not three base64url segments"),
            Self::Base64(part) => write!(f, "{part} is not unpadded base64url"),
            Self::Json(part, error) => write!(f, "{part} is {error}"),
            Self::AlgorithmMissing => f.write_str("header has no 'alg'"),
            Self::AlgorithmNone => f.write_str("unsigned tokens (alg 'none') are refused"),
            Self::Critical => f.write_str("header lists 'crit' extensions, none are supported"),
        }
    }
}

/// A token whose structure is sound and whose signature is still unchecked.
#[derive(Debug)]
pub(crate) struct UnverifiedToken<'a> {
    /// `BASE64URL(header) "." BASE64URL(claims)`: the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The header's `alg`, exactly as written.
    pub algorithm: String,
    /// The header's members.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl<'a> UnverifiedToken<'a> {
    /// Splits, decodes and parses a compact-serialised JWS.
    pub(crate) fn parse(token: &'a str) -> Result<Self, Malformed> {
        let mut segments = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(Malformed::Segments);
        };
        let signing_input = &token[..header.len() + 1 + claims.len()];

        let header = json::parse_object(&decode(header, Part::Header)?)
            .map_err(|e| Malformed::Json(Part::Header, e))?;
        let algorithm = match header.get("alg") {
            Some(Value::String(alg)) if alg.eq_ignore_ascii_case("none") => {
                return Err(Malformed::AlgorithmNone);
            }
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(Malformed::AlgorithmMissing),
        };
        if header.contains_key("crit") {
            return Err(Malformed::Critical);
        }
        let claims = json::parse_object(&decode(claims, Part::Claims)?)
            .map_err(|e| Malformed::Json(Part::Claims, e))?;
        let signature = decode(signature, Part::Signature)?;

        Ok(Self {
            signing_input,
            signature,
            algorithm,
            header,
            claims,
        })
    }
}

/// Decodes one segment: base64url, no padding, canonical trailing bits.
fn decode(segment: &str, part: Part) -> Result<Vec<u8>, Malformed> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| Malformed::Base64(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(claims), b64("sig"))
    }

    #[test]
    fn parses_a_well_formed_token() {
        let text = token(r#"{"alg":"RS256","typ":"JWT"}"#, r#"{"iss":"k","exp":5}"#);
        let parsed = UnverifiedToken::parse(&text).unwrap();
        assert_eq!(parsed.algorithm, "RS256");
        assert_eq!(parsed.claims["iss"], "k");
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(
            parsed.signing_input,
            &text[..text.rfind('.').unwrap()],
            "the signature covers header and claims as sent"
        );
    }

    #[test]
    fn refuses_the_wrong_number_of_segments() {
        for text in ["", "a", "a.b", "a.b.c.d", "a.b.c.d.e"] {
            assert_eq!(
                UnverifiedToken::parse(text).unwrap_err(),
                Malformed::Segments
            );
        }
    }

    #[test]
    fn refuses_padding_and_non_canonical_base64() {
        let good = token(r#"{"alg":"HS256"}"#, r#"{"a":1}"#);
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[2] = "c2lnbg==".into(); // "sign" with padding
        assert_eq!(
            UnverifiedToken::parse(&parts.join(".")).unwrap_err(),
            Malformed::Base64(Part::Signature)
        );
        parts[2] = "c2lnbh".into(); // "sign" with non-zero trailing bits
        assert_eq!(
            UnverifiedToken::parse(&parts.join(".")).unwrap_err(),
            Malformed::Base64(Part::Signature)
        );
        parts[2] = "c2ln+w".into(); // standard alphabet, not url-safe
        assert_eq!(
            UnverifiedToken::parse(&parts.join(".")).unwrap_err(),
            Malformed::Base64(Part::Signature)
        );
    }

    #[test]
    fn refuses_alg_none_in_any_case() {
        for alg in ["none", "None", "NONE", "nOnE"] {
            let text = token(&format!(r#"{{"alg":"{alg}"}}"#), "{}");
            assert_eq!(
                UnverifiedToken::parse(&text).unwrap_err(),
                Malformed::AlgorithmNone
            );
        }
    }

    #[test]
    fn refuses_a_missing_or_non_string_alg() {
        for header in [r#"{}"#, r#"{"alg":256}"#, r#"{"alg":null}"#] {
            assert_eq!(
                UnverifiedToken::parse(&token(header, "{}")).unwrap_err(),
                Malformed::AlgorithmMissing
            );
        }
    }

    #[test]
    fn refuses_crit_even_when_empty() {
        for header in [
            r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"RS256","crit":[]}"#,
        ] {
            assert_eq!(
                UnverifiedToken::parse(&token(header, "{}")).unwrap_err(),
                Malformed::Critical
            );
        }
    }

    #[test]
    fn refuses_duplicate_members_in_header_and_claims() {
        let text = token(r#"{"alg":"RS256","alg":"HS256"}"#, "{}");
        assert!(matches!(
            UnverifiedToken::parse(&text).unwrap_err(),
            Malformed::Json(Part::Header, JsonError::DuplicateMember(_))
        ));
        let text = token(r#"{"alg":"RS256"}"#, r#"{"sub":"a","sub":"b"}"#);
        assert!(matches!(
            UnverifiedToken::parse(&text).unwrap_err(),
            Malformed::Json(Part::Claims, JsonError::DuplicateMember(_))
        ));
    }
}
