//! Request paths: normalising what clients send, and Kong's rule for the upstream path.

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

/// The path Kong sends upstream, from the service's `path` (`base`, `/` when unset), the
/// normalised request path, and whether the route strips the matched part.
///
/// `rest` is what follows the part of the request path the route matched; it matters only when
/// `strip_path` is set. The table below is Kong's (3.x, `path_handling: v0`):
///
/// | service path | route path | strip_path | request | upstream |
/// |---|---|---|---|---|
/// | `/` | `/route` | true | `/route` | `/` |
/// | `/service` | `/route` | true | `/route/` | `/service/` |
/// | `/service` | `/route` | true | `/routereq` | `/service/req` |
/// | `/service` | `/route` | false | `/route` | `/service/route` |
/// | `/service/` | `/route` | true | `/route` | `/service` |
///
/// ```
/// use sluicegate_gateway::proxy::path::upstream_path;
/// assert_eq!(upstream_path("/service", "/routereq", "req", true), "/service/req");
/// assert_eq!(upstream_path("/service", "/route", "", false), "/service/route");
/// assert_eq!(upstream_path("/service/", "/route", "", true), "/service");
/// ```
pub fn upstream_path(base: &str, request: &str, rest: &str, strip_path: bool) -> String {
    let base = if base.is_empty() { "/" } else { base };
    let mut out = String::with_capacity(base.len() + request.len());
    if !strip_path {
        if base.ends_with('/') {
            // The request path starts with '/': join without doubling it.
            out.push_str(base);
            out.push_str(&request[1.min(request.len())..]);
        } else if request == "/" {
            out.push_str(base);
        } else {
            out.push_str(base);
            out.push_str(request);
        }
        return out;
    }
    if let Some(trimmed) = base.strip_suffix('/') {
        if rest.is_empty() {
            if base == "/" {
                out.push('/');
            } else if request.ends_with('/') {
                out.push_str(base);
            } else {
                out.push_str(trimmed);
            }
        } else if rest.starts_with('/') {
            out.push_str(trimmed);
            out.push_str(rest);
        } else {
            out.push_str(base);
            out.push_str(rest);
        }
    } else if rest.is_empty() {
        out.push_str(base);
        if request.len() > 1 && request.ends_with('/') {
            out.push('/');
        }
    } else {
        out.push_str(base);
        if !rest.starts_with('/') {
            out.push('/');
        }
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_strip_path_table() {
        // (service path, request, rest after the route's match, strip_path, upstream)
        let table = [
            ("/", "/route", "", true, "/"),
            ("/service", "/route/", "/", true, "/service/"),
            ("/service", "/routereq", "req", true, "/service/req"),
            ("/service", "/route", "", false, "/service/route"),
            ("/service/", "/route", "", true, "/service"),
            ("/service/", "/route/", "", true, "/service/"),
            ("/service/", "/route/x", "/x", true, "/service/x"),
            ("/service/", "/routex", "x", true, "/service/x"),
            ("/service/", "/route", "", false, "/service/route"),
            ("/service", "/", "", false, "/service"),
            ("/", "/route/x", "/x", true, "/x"),
            ("/", "/route", "", false, "/route"),
            ("", "/route/x", "/x", true, "/x"),
        ];
        for (base, request, rest, strip, expected) in table {
            assert_eq!(
                upstream_path(base, request, rest, strip),
                expected,
                "{base} {request} {rest} {strip}"
            );
        }
    }

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
