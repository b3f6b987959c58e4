//! The shapes of names and paths, checked as Kong checks them.

use crate::config::decode::{At, Result};

/// An entity name: letters, digits and `.`, `-`, `_`, `~`, as in Kong's names.
pub(crate) fn check_name(at: &At<'_>) -> Result<String> {
    let name = at.non_empty_string()?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~');
    if name.chars().all(allowed) {
        Ok(name)
    } else {
        Err(at.invalid(format!(
            "`{name}` is not a valid name: use letters, digits, `.`, `-`, `_` and `~`"
        )))
    }
}

/// A URI path as Kong accepts one: starts with `/`, holds only RFC 3986 unreserved
/// characters, sub-delimiters, `:`, `@`, `/` and well-formed `%XX` escapes.
pub(crate) fn check_uri_path(at: &At<'_>) -> Result<String> {
    let path = at.str()?;
    match uri_path_problem(path) {
        None => Ok(path.to_owned()),
        Some(why) => Err(at.invalid(format!("`{path}` is not a valid path: {why}"))),
    }
}

/// What is wrong with `path` as a URI path, if anything.
pub(crate) fn uri_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("it must start with `/`".to_owned());
    }
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let escape = bytes.get(i + 1..i + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return Some("`%` must start a two-digit hex escape".to_owned());
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b);
        if !allowed {
            let c = path[i..].chars().next().unwrap_or('?');
            return Some(format!(
                "{c:?} is not allowed in a path (percent-encode it)"
            ));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_rfc_3986() {
        for good in ["/", "/api/v1/users", "/a%20b", "/~user/x;y=1", "/a:b@c"] {
            assert_eq!(uri_path_problem(good), None, "{good}");
        }
        for bad in ["", "api", "/a b", "/a%2", "/a%zz", "/a?b", "/a#b", "/é"] {
            assert!(uri_path_problem(bad).is_some(), "{bad}");
        }
    }
}
