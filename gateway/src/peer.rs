//! Who is on the other end: the connection's peer and the client behind any trusted proxies.
//!
//! The server inserts a [`PeerAddr`] into every request's extensions, and the [`ClientIp`] it
//! resolved with the configured [`TrustedProxies`]. Layers that key on the client (the rate
//! limiter's `limit_by: ip`, the proxy's `X-Forwarded-For`) read those; an application that
//! uses the layers on its own server inserts them the same way.
//!
//! `X-Forwarded-For` is believed only as far as it was written by trusted proxies: reading it
//! from the right, the first address that is not a trusted proxy is the client. A client that
//! connects directly can therefore not pick its own rate-limit key by sending the header.
//! IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`) are normalised to IPv4 everywhere, so one
//! client has one key whichever socket family it arrived on.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::HeaderMap;
use ipnet::IpNet;

/// The remote address of the TCP connection a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The client's address, resolved through the trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The networks whose hosts may report a client's address in `X-Forwarded-For`.
///
/// ```
/// use std::net::IpAddr;
/// use http::HeaderMap;
/// use sluicegate_gateway::peer::TrustedProxies;
/// let trusted: TrustedProxies = "10.0.0.0/8,127.0.0.1".parse().unwrap();
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", "198.51.100.4, 10.1.2.3".parse().unwrap());
/// let peer: IpAddr = "10.0.0.9".parse().unwrap();
/// assert_eq!(trusted.client_ip(peer, &headers), "198.51.100.4".parse::<IpAddr>().unwrap());
/// // An untrusted peer's header is ignored.
/// let direct: IpAddr = "203.0.113.7".parse().unwrap();
/// assert_eq!(trusted.client_ip(direct, &headers), direct);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// A trusted-proxy entry that is neither an address nor a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadNetwork(pub String);

impl std::fmt::Display for BadNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not an IP address or network (expected e.g. 10.0.0.0/8 or 127.0.0.1)",
            self.0
        )
    }
}

impl std::error::Error for BadNetwork {}

impl TrustedProxies {
    /// Trusts nobody: every client is its TCP peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts the given networks.
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            nets: nets.into_iter().collect(),
        }
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = normalize(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted, else the rightmost
    /// untrusted address of `X-Forwarded-For` (the leftmost one if all are trusted). An entry
    /// that does not parse ends the walk: nothing left of it can be vouched for.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = normalize(peer);
        if !self.contains(client) {
            return client;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.contains(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = BadNetwork;

    /// Parses a comma-separated list of addresses and networks; an empty string trusts nobody.
    fn from_str(list: &str) -> Result<Self, BadNetwork> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_net)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { nets })
    }
}

fn parse_net(text: &str) -> Result<IpNet, BadNetwork> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| BadNetwork(text.to_owned()))
}

/// One `X-Forwarded-For` entry: an address, optionally `[v6]:port` or `v4:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(normalize(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| normalize(s.ip()))
}

/// Maps an IPv4-mapped IPv6 address to its IPv4 form; other addresses stay as they are.
///
/// ```
/// use std::net::IpAddr;
/// use sluicegate_gateway::peer::normalize;
/// let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
/// assert_eq!(normalize(mapped), "203.0.113.7".parse::<IpAddr>().unwrap());
/// ```
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn walks_right_to_left_past_trusted_hops() {
        let trusted: TrustedProxies = "10.0.0.0/8, ::1".parse().unwrap();
        let headers = xff(&["1.1.1.1, 2.2.2.2", "10.0.0.2"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("2.2.2.2"));
        assert_eq!(trusted.client_ip(ip("::1"), &headers), ip("2.2.2.2"));
    }

    #[test]
    fn all_trusted_yields_the_leftmost_and_garbage_stops_the_walk() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &xff(&["10.9.9.9, 10.0.0.2"])),
            ip("10.9.9.9")
        );
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &xff(&["1.1.1.1, unknown, 10.0.0.2"])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn mapped_addresses_and_ports_are_normalised() {
        let trusted: TrustedProxies = "127.0.0.1".parse().unwrap();
        let headers = xff(&["[::ffff:198.51.100.1]:4711"]);
        assert_eq!(
            trusted.client_ip(ip("::ffff:127.0.0.1"), &headers),
            ip("198.51.100.1")
        );
        assert_eq!(
            TrustedProxies::none().client_ip(ip("::ffff:1.2.3.4"), &headers),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let err = "10.0.0.0/8, nonsense"
            .parse::<TrustedProxies>()
            .unwrap_err();
        assert!(err.to_string().contains("`nonsense`"));
    }
}
