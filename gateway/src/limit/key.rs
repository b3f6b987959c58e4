//! What a rate limit counts by.
//!
//! A [`KeyExtractor`] names the bucket a request is counted in. Keys carry a one-letter kind
//! prefix (`c:` consumer, `i:` IP, ...), so a consumer called `203.0.113.7` and the client at
//! that address never share a bucket. An extractor that finds nothing returns `None`, and the
//! layer falls back to the client's IP, as Kong does.

use http::Request;
use http::header::HeaderName;

use crate::jwt::Identity;
use crate::peer::{ClientIp, PeerAddr};

/// Names the bucket a request is counted in.
///
/// ```
/// use http::Request;
/// use sluicegate_gateway::limit::KeyExtractor;
/// /// Counts every request of a tenant together, by an `x-tenant` header.
/// struct Tenant;
/// impl KeyExtractor for Tenant {
///     fn key<B>(&self, request: &Request<B>) -> Option<Vec<u8>> {
///         let tenant = request.headers().get("x-tenant")?;
///         Some([b"t:".as_slice(), tenant.as_bytes()].concat())
///     }
/// }
/// let request = Request::builder().header("x-tenant", "acme").body(()).unwrap();
/// assert_eq!(Tenant.key(&request), Some(b"t:acme".to_vec()));
/// ```
pub trait KeyExtractor: Send + Sync + 'static {
    /// The request's bucket, or `None` to fall back to the client's IP.
    fn key<B>(&self, request: &Request<B>) -> Option<Vec<u8>>;
}

/// Kong's `limit_by` choices, as one extractor.
///
/// ```
/// use http::Request;
/// use sluicegate_gateway::limit::{KeyExtractor, LimitBy};
/// let by_header = LimitBy::Header("x-api-key".parse().unwrap());
/// let request = Request::builder().header("x-api-key", "k1").body(()).unwrap();
/// assert_eq!(by_header.key(&request), Some(b"h:k1".to_vec()));
/// // Without the header, the layer falls back to the client's IP.
/// assert_eq!(by_header.key(&Request::new(())), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitBy {
    /// The authenticated caller: the JWT subject when the token has one, else the consumer
    /// owning the credential. Tokens usually name an end user in `sub` while one consumer
    /// stands for a whole application, so the subject is the finer and fairer key.
    Consumer,
    /// The JWT credential (the consumer's `jwt_secrets` entry) that verified the token.
    Credential,
    /// The client's IP, resolved through the trusted proxies.
    Ip,
    /// One bucket for every request through this plugin: a limit on the service as a whole.
    Service,
    /// The value of a request header.
    Header(HeaderName),
    /// Requests to exactly this (normalised) path share one bucket; others fall back to IP.
    Path(String),
}

impl KeyExtractor for LimitBy {
    fn key<B>(&self, request: &Request<B>) -> Option<Vec<u8>> {
        let tagged = |tag: &[u8], value: &[u8]| [tag, value].concat();
        match self {
            Self::Consumer => {
                let identity = request.extensions().get::<Identity>()?;
                Some(match &identity.subject {
                    Some(subject) => tagged(b"c:", subject.as_bytes()),
                    None => tagged(b"u:", identity.consumer.as_bytes()),
                })
            }
            Self::Credential => {
                let identity = request.extensions().get::<Identity>()?;
                Some(tagged(b"k:", identity.credential.as_bytes()))
            }
            Self::Ip => client_ip_key(request),
            Self::Service => Some(b"s:".to_vec()),
            Self::Header(name) => request
                .headers()
                .get(name)
                .map(|v| tagged(b"h:", v.as_bytes())),
            Self::Path(path) => {
                let routed = request.extensions().get::<crate::proxy::RoutedPath>();
                let actual = routed.map_or(request.uri().path(), |r| r.path.as_str());
                (actual == path).then(|| tagged(b"p:", path.as_bytes()))
            }
        }
    }
}

/// The client-IP key: from [`ClientIp`], else the connection's [`PeerAddr`]. `None` when the
/// server inserted neither.
pub fn client_ip_key<B>(request: &Request<B>) -> Option<Vec<u8>> {
    let extensions = request.extensions();
    let ip = extensions
        .get::<ClientIp>()
        .map(|c| c.0)
        .or_else(|| extensions.get::<PeerAddr>().map(|p| p.0.ip()))?;
    let ip = crate::peer::normalize(ip);
    let mut key = b"i:".to_vec();
    match ip {
        std::net::IpAddr::V4(v4) => key.extend_from_slice(&v4.octets()),
        std::net::IpAddr::V6(v6) => key.extend_from_slice(&v6.octets()),
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use super::*;

    fn identity(subject: Option<&str>) -> Identity {
        Identity {
            consumer: "app".into(),
            credential: "issuer-1".into(),
            subject: subject.map(Into::into),
            scopes: Vec::new(),
            expires_at: None,
        }
    }

    #[test]
    fn consumer_prefers_the_subject() {
        let mut request = Request::new(());
        assert_eq!(LimitBy::Consumer.key(&request), None);
        request.extensions_mut().insert(identity(Some("alice")));
        assert_eq!(LimitBy::Consumer.key(&request), Some(b"c:alice".to_vec()));
        assert_eq!(
            LimitBy::Credential.key(&request),
            Some(b"k:issuer-1".to_vec())
        );
        request.extensions_mut().insert(identity(None));
        assert_eq!(LimitBy::Consumer.key(&request), Some(b"u:app".to_vec()));
    }

    #[test]
    fn ip_keys_are_normalised_and_prefer_the_resolved_client() {
        let mut request = Request::new(());
        let mapped: SocketAddr = "[::ffff:198.51.100.9]:5000".parse().unwrap();
        request.extensions_mut().insert(PeerAddr(mapped));
        assert_eq!(
            LimitBy::Ip.key(&request),
            Some(b"i:\xc6\x33\x64\x09".to_vec())
        );
        let client: IpAddr = "203.0.113.1".parse().unwrap();
        request.extensions_mut().insert(ClientIp(client));
        assert_eq!(
            LimitBy::Ip.key(&request),
            Some(b"i:\xcb\x00\x71\x01".to_vec())
        );
    }

    #[test]
    fn path_counts_only_its_own_path() {
        let by_path = LimitBy::Path("/login".into());
        let login = Request::builder().uri("/login?x=1").body(()).unwrap();
        let other = Request::builder().uri("/logout").body(()).unwrap();
        assert_eq!(by_path.key(&login), Some(b"p:/login".to_vec()));
        assert_eq!(by_path.key(&other), None);
        assert_eq!(LimitBy::Service.key(&other), Some(b"s:".to_vec()));
    }
}
