//! The headers a proxy must drop or set on the way through.

use std::net::IpAddr;

use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};

/// Headers that describe one connection, not the message (RFC 9110, section 7.6.1), plus the
/// legacy `Proxy-Connection`. A proxy must not forward them.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes the hop-by-hop headers, and every header the `Connection` header names.
///
/// ```
/// use http::HeaderMap;
/// use sluicegate_gateway::proxy::headers::remove_hop_by_hop;
/// let mut headers = HeaderMap::new();
/// headers.insert("connection", "keep-alive, x-private".parse().unwrap());
/// headers.insert("x-private", "1".parse().unwrap());
/// headers.insert("keep-alive", "timeout=5".parse().unwrap());
/// headers.insert("accept", "*/*".parse().unwrap());
/// remove_hop_by_hop(&mut headers);
/// assert_eq!(headers.len(), 1);
/// assert!(headers.contains_key("accept"));
/// ```
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// `X-Forwarded-For`.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// `X-Forwarded-Port`.
pub const X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");

/// What the proxy knows about the hop it received a request on.
#[derive(Debug, Clone, Copy)]
pub struct Hop {
    /// The connection's peer.
    pub peer: IpAddr,
    /// Whether the peer is a trusted proxy, whose `X-Forwarded-*` headers are kept.
    pub trusted: bool,
    /// The port the gateway received the request on.
    pub local_port: Option<u16>,
}

/// Sets `X-Forwarded-For`, `-Proto`, `-Host` and `-Port` for the upstream, as Kong does: a
/// trusted peer's values are kept (`For` gets the peer appended); an untrusted peer's are
/// replaced, so a client cannot forge them.
///
/// ```
/// use http::HeaderMap;
/// use sluicegate_gateway::proxy::headers::{set_forwarded, Hop};
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "api.example.com".parse().unwrap());
/// headers.insert("x-forwarded-for", "6.6.6.6".parse().unwrap());
/// let hop = Hop { peer: "203.0.113.7".parse().unwrap(), trusted: false, local_port: Some(8080) };
/// set_forwarded(&mut headers, hop);
/// assert_eq!(headers["x-forwarded-for"], "203.0.113.7");
/// assert_eq!(headers["x-forwarded-proto"], "http");
/// assert_eq!(headers["x-forwarded-host"], "api.example.com");
/// assert_eq!(headers["x-forwarded-port"], "8080");
/// ```
pub fn set_forwarded(headers: &mut HeaderMap, hop: Hop) {
    let peer = hop.peer.to_string();
    let chain = match (hop.trusted, joined(headers, &X_FORWARDED_FOR)) {
        (true, Some(earlier)) => format!("{earlier}, {peer}"),
        _ => peer,
    };
    if let Ok(value) = HeaderValue::try_from(chain) {
        headers.insert(X_FORWARDED_FOR, value);
    }
    let keep = |headers: &HeaderMap, name: &HeaderName| hop.trusted && headers.contains_key(name);
    if !keep(headers, &X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if !keep(headers, &X_FORWARDED_HOST) {
        match headers.get(header::HOST).cloned() {
            Some(host) => headers.insert(X_FORWARDED_HOST, host),
            None => headers.remove(X_FORWARDED_HOST),
        };
    }
    if !keep(headers, &X_FORWARDED_PORT) {
        match hop.local_port {
            Some(port) => headers.insert(X_FORWARDED_PORT, HeaderValue::from(port)),
            None => headers.remove(X_FORWARDED_PORT),
        };
    }
}

/// All values of a header joined with ", ", if there are any.
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_peer_appends_and_keeps() {
        let mut headers = HeaderMap::new();
        headers.append(X_FORWARDED_FOR, "1.1.1.1".parse().unwrap());
        headers.append(X_FORWARDED_FOR, "2.2.2.2".parse().unwrap());
        headers.insert(X_FORWARDED_PROTO, "https".parse().unwrap());
        headers.insert(X_FORWARDED_HOST, "public.example".parse().unwrap());
        let hop = Hop {
            peer: "10.0.0.1".parse().unwrap(),
            trusted: true,
            local_port: None,
        };
        set_forwarded(&mut headers, hop);
        assert_eq!(headers[X_FORWARDED_FOR], "1.1.1.1, 2.2.2.2, 10.0.0.1");
        assert_eq!(headers[X_FORWARDED_PROTO], "https");
        assert_eq!(headers[X_FORWARDED_HOST], "public.example");
        assert!(!headers.contains_key(X_FORWARDED_PORT));
    }

    #[test]
    fn te_and_upgrade_never_pass() {
        let mut headers = HeaderMap::new();
        headers.insert(header::TE, "trailers".parse().unwrap());
        headers.insert(header::UPGRADE, "websocket".parse().unwrap());
        headers.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        remove_hop_by_hop(&mut headers);
        assert!(headers.is_empty());
    }
}
