//! Request paths: normalising what clients send. The upstream path is computed by
//! [`config::upstream_path`](crate::config::upstream_path).

/// Normalises a request path before routing, so that one resource has one spelling: percent-
/// encoded unreserved characters are decoded (`%7Eadmin` is `~admin`) and dot segments are
/// resolved (RFC 3986, section 5.2.4). Routing on the raw path would let
/// `/api/v1/users/../admin` pass the users route's checks and reach the admin service.
///
/// Other percent-escapes (`%2F`, `%20`, ...) stay as sent, in upper case.
///
/// ```
/// use sluicegate_gateway::proxy::path::normalize;
/// assert_eq!(normalize("/api/v1/users/../admin"), "/api/v1/admin");
/// assert_eq!(normalize("/a/./b/%7euser/%2f"), "/a/b/~user/%2F");
/// assert_eq!(normalize("/.."), "/");
/// assert_eq!(normalize("*"), "*");
/// ```
pub fn normalize(path: &str) -> String {
    // Most paths have nothing to normalise: no escape, no dot segment. A path that does not
    // start with '/' (`OPTIONS *`) names no resource and is left as it is.
    if !path.starts_with('/') || (!path.contains('%') && !path.contains("/.")) {
        return path.to_owned();
    }
    remove_dot_segments(&decode_unreserved(path))
}

fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| hex(bytes[i + 1]).zip(hex(bytes[i + 2])))
            .flatten();
        match escape {
            Some((hi, lo)) => {
                let c = hi << 4 | lo;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c);
                } else {
                    out.extend([b'%', bytes[i + 1], bytes[i + 2]].map(|b| b.to_ascii_uppercase()));
                }
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    // Only ASCII escapes were replaced, by ASCII bytes: the text is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut pieces = path.split('/').peekable();
    // A path starts with '/', so the first piece is empty.
    pieces.next();
    let mut trailing_slash = false;
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        match piece {
            "." => trailing_slash = last,
            ".." => {
                segments.pop();
                trailing_slash = last;
            }
            other => {
                segments.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        for (raw, expected) in [
            ("/", "/"),
            ("/a/b/", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/b/../", "/a/"),
            ("/a/./b", "/a/b"),
            ("/a//b", "/a//b"),
            ("/../../x", "/x"),
            ("/%2e%2E/x", "/x"),
            ("/%41%zz%4", "/A%zz%4"),
            ("/a%2fb", "/a%2Fb"),
        ] {
            assert_eq!(normalize(raw), expected, "{raw}");
        }
    }
}
