//! Where a request's token is looked for: headers, query parameters, cookies.
//!
//! Like Kong, every configured place is looked at, identical tokens found in several places
//! count once, and different ones are refused ("Multiple tokens provided") rather than
//! silently picking one. Unlike Kong, every value of a repeated header, parameter or cookie is
//! looked at, not only the first, so a second `Authorization` header cannot smuggle a token
//! past whatever read the first.
//!
//! In a header, a token is `Bearer <token>` (the scheme in any case, any whitespace around).
//! `Authorization` and `Proxy-Authorization` carry nothing else; another configured header may
//! also carry the bare token, as long as it contains no whitespace. Any single header value or
//! token longer than [`MAX_TOKEN_BYTES`] is refused before it is looked at further.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderName, Uri};

use super::MAX_TOKEN_BYTES;
use super::rejection::Rejection;

/// The places a token may come in, in Kong's order of looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenSources {
    pub header_names: Vec<HeaderName>,
    pub uri_param_names: Vec<String>,
    pub cookie_names: Vec<String>,
}

impl TokenSources {
    /// The one token the request carries.
    pub(crate) fn find<'r>(
        &self,
        headers: &'r HeaderMap,
        uri: &'r Uri,
    ) -> Result<Cow<'r, str>, Rejection> {
        let mut found = Found::default();
        if !self.uri_param_names.is_empty()
            && let Some(query) = uri.query()
        {
            for (name, value) in form_urlencoded::parse(query.as_bytes()) {
                if self.uri_param_names.iter().any(|n| *n == name) {
                    found.add(value)?;
                }
            }
        }
        if !self.cookie_names.is_empty() {
            for header in headers.get_all(COOKIE) {
                let Ok(header) = header.to_str() else {
                    continue;
                };
                for (name, value) in cookies(header) {
                    if self.cookie_names.iter().any(|n| n == name) {
                        found.add(Cow::Borrowed(value))?;
                    }
                }
            }
        }
        for name in &self.header_names {
            let bare_allowed = *name != AUTHORIZATION && *name != PROXY_AUTHORIZATION;
            for value in headers.get_all(name) {
                if value.len() > MAX_TOKEN_BYTES {
                    return Err(Rejection::TooLarge);
                }
                if let Some(token) = header_token(value.as_bytes(), bare_allowed)? {
                    found.add(Cow::Borrowed(token))?;
                }
            }
        }
        found.token.ok_or(Rejection::MissingToken)
    }
}

/// The distinct token seen so far.
#[derive(Default)]
struct Found<'r> {
    token: Option<Cow<'r, str>>,
}

impl<'r> Found<'r> {
    fn add(&mut self, token: Cow<'r, str>) -> Result<(), Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLarge);
        }
        if token.is_empty() {
            return Ok(());
        }
        match &self.token {
            Some(seen) if *seen != token => Err(Rejection::MultipleTokens),
            Some(_) => Ok(()),
            None => {
                self.token = Some(token);
                Ok(())
            }
        }
    }
}

/// The token in one header value, if it carries one.
fn header_token(value: &[u8], bare_allowed: bool) -> Result<Option<&str>, Rejection> {
    let value = value.trim_ascii();
    let token = match value.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer") => {
            let rest = &value[6..];
            if !rest.first().is_some_and(u8::is_ascii_whitespace) {
                return Ok(None); // "Bearerx...": some other scheme
            }
            rest.trim_ascii_start()
        }
        _ if bare_allowed && !value.iter().any(u8::is_ascii_whitespace) => value,
        _ => return Ok(None),
    };
    std::str::from_utf8(token)
        .map(Some)
        .map_err(|_| Rejection::Malformed("token is not ASCII".to_owned()))
}

/// The `name=value` pairs of a `Cookie` header, values unquoted.
fn cookies(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some((name.trim(), value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> TokenSources {
        TokenSources {
            header_names: vec![AUTHORIZATION, HeaderName::from_static("x-token")],
            uri_param_names: vec!["jwt".into()],
            cookie_names: vec!["session".into()],
        }
    }

    fn find(headers: &[(&str, &str)], uri: &str) -> Result<String, Rejection> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let uri: Uri = uri.parse().unwrap();
        sources().find(&map, &uri).map(Cow::into_owned)
    }

    #[test]
    fn reads_a_bearer_token_in_any_case_with_any_spacing() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER   a.b.c  ",
            "  bEaReR\ta.b.c",
        ] {
            assert_eq!(find(&[("authorization", value)], "/"), Ok("a.b.c".into()));
        }
    }

    #[test]
    fn authorization_needs_the_bearer_scheme_other_headers_do_not() {
        assert_eq!(
            find(&[("authorization", "a.b.c")], "/"),
            Err(Rejection::MissingToken)
        );
        assert_eq!(
            find(&[("authorization", "Basic dXNlcjpwYXNz")], "/"),
            Err(Rejection::MissingToken)
        );
        assert_eq!(
            find(&[("authorization", "Bearerish a.b.c")], "/"),
            Err(Rejection::MissingToken)
        );
        assert_eq!(find(&[("x-token", "a.b.c")], "/"), Ok("a.b.c".into()));
    }

    #[test]
    fn reads_query_parameters_and_cookies() {
        assert_eq!(find(&[], "/orders?page=2&jwt=a.b.c"), Ok("a.b.c".into()));
        assert_eq!(
            find(&[("cookie", "theme=dark; session=\"a.b.c\"")], "/"),
            Ok("a.b.c".into())
        );
    }

    #[test]
    fn the_same_token_in_several_places_counts_once() {
        assert_eq!(
            find(
                &[
                    ("authorization", "Bearer a.b.c"),
                    ("cookie", "session=a.b.c")
                ],
                "/?jwt=a.b.c"
            ),
            Ok("a.b.c".into())
        );
    }

    #[test]
    fn different_tokens_are_refused_wherever_they_are() {
        let multiple = Err(Rejection::MultipleTokens);
        assert_eq!(
            find(&[("authorization", "Bearer a.b.c")], "/?jwt=x.y.z"),
            multiple
        );
        assert_eq!(find(&[], "/?jwt=a.b.c&jwt=x.y.z"), multiple);
        assert_eq!(
            find(
                &[
                    ("authorization", "Bearer a.b.c"),
                    ("authorization", "Bearer x.y.z")
                ],
                "/"
            ),
            multiple
        );
        assert_eq!(
            find(
                &[("cookie", "session=a.b.c"), ("cookie", "session=x.y.z")],
                "/"
            ),
            multiple
        );
    }

    #[test]
    fn empty_values_are_not_tokens() {
        assert_eq!(
            find(&[("authorization", "Bearer ")], "/?jwt="),
            Err(Rejection::MissingToken)
        );
    }

    #[test]
    fn oversized_values_are_refused_before_parsing() {
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
        assert_eq!(
            find(&[("authorization", &huge)], "/"),
            Err(Rejection::TooLarge)
        );
        let huge_query = format!("/?jwt={}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(find(&[], &huge_query), Err(Rejection::TooLarge));
        // A large header that is not a configured token source is not our business.
        let other = "a".repeat(MAX_TOKEN_BYTES * 2);
        assert_eq!(
            find(&[("x-other", &other)], "/"),
            Err(Rejection::MissingToken)
        );
    }

    #[test]
    fn a_non_ascii_bearer_token_is_malformed() {
        let mut map = HeaderMap::new();
        map.insert(
            AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer a.\xff.c").unwrap(),
        );
        assert!(matches!(
            sources().find(&map, &Uri::from_static("/")),
            Err(Rejection::Malformed(_))
        ));
    }
}
