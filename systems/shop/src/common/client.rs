//! The client's IP: the peer's, or behind a trusted proxy the one the proxy saw.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use serde::{Deserialize, Deserializer};

/// The header a proxy puts the client's address in.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn contains(self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                net.to_bits() & mask == ip.to_bits() & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                net.to_bits() & mask == ip.to_bits() & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed: a comma-separated list of addresses and
/// networks (`127.0.0.1, 10.0.0.0/8, ::1`), `loopback` for 127.0.0.0/8 and ::1, or empty for
/// none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// 127.0.0.0/8 and ::1.
    pub fn loopback() -> Self {
        Self(vec![
            Network {
                addr: IpAddr::from([127, 0, 0, 0]),
                prefix: 8,
            },
            Network {
                addr: IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1]),
                prefix: 128,
            },
        ])
    }

    /// No proxy is trusted: the client is always the peer.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client of a request from `peer`: walking `X-Forwarded-For` from the end while the
    /// hop is trusted, the first address not trusted (each proxy appends the one it saw, so
    /// behind two trusted proxies the client is second to last); `peer` when it is not
    /// trusted, and the last good address when an entry does not parse.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        let list = forwarded_for(headers).unwrap_or_default();
        for hop in list.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }

    /// The `X-Forwarded-For` to send on for a request from `peer` made by `client`: the
    /// incoming list plus `peer` when `peer` is trusted, else `peer` alone, so that a client
    /// cannot pass a made-up address through.
    pub fn forward(&self, peer: IpAddr, headers: &HeaderMap) -> String {
        match forwarded_for(headers) {
            Some(list) if self.trusts(peer) => format!("{list}, {peer}"),
            _ => peer.to_string(),
        }
    }
}

fn forwarded_for(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(FORWARDED_FOR)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "loopback" {
            return Ok(Self::loopback());
        }
        let networks = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self(networks))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|n| format!("{}/{}", n.addr, n.prefix))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The peer's address, from the connection (service-kit serves with `ConnectInfo`); loopback
/// when a router is driven without a socket.
pub fn peer_ip(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(FORWARDED_FOR, xff.parse().expect("header value"));
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an IP")
    }

    #[test]
    fn only_a_trusted_peer_names_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8, ::1".parse().expect("valid");
        let h = headers("1.2.3.4, 5.6.7.8");
        assert_eq!(trusted.client(ip("10.1.2.3"), &h), ip("5.6.7.8"));
        assert_eq!(trusted.client(ip("::1"), &h), ip("5.6.7.8"));
        assert_eq!(trusted.client(ip("11.0.0.1"), &h), ip("11.0.0.1"));
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &headers("junk")),
            ip("10.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_a_chain_of_trusted_proxies_the_client_is_the_first_untrusted_hop() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().expect("valid");
        let chain = headers("6.6.6.6, 1.2.3.4, 10.0.0.7");
        assert_eq!(trusted.client(ip("10.0.0.1"), &chain), ip("1.2.3.4"));
        let all_trusted = headers("10.0.0.9, 10.0.0.7");
        assert_eq!(trusted.client(ip("10.0.0.1"), &all_trusted), ip("10.0.0.9"));
        let broken = headers("1.2.3.4, junk, 10.0.0.7");
        assert_eq!(trusted.client(ip("10.0.0.1"), &broken), ip("10.0.0.7"));
    }

    #[test]
    fn forwarding_appends_behind_a_trusted_peer_and_replaces_otherwise() {
        let trusted = TrustedProxies::loopback();
        let h = headers("1.2.3.4");
        assert_eq!(trusted.forward(ip("127.0.0.1"), &h), "1.2.3.4, 127.0.0.1");
        assert_eq!(trusted.forward(ip("8.8.8.8"), &h), "8.8.8.8");
        assert_eq!(
            TrustedProxies::none().forward(ip("127.0.0.1"), &h),
            "127.0.0.1"
        );
    }

    #[test]
    fn the_list_parses_or_names_the_bad_part() {
        assert_eq!("loopback".parse(), Ok(TrustedProxies::loopback()));
        assert_eq!("".parse(), Ok(TrustedProxies::none()));
        assert!(TrustedProxies::loopback().trusts(ip("127.0.0.2")));
        assert!(TrustedProxies::loopback().trusts(ip("::ffff:127.0.0.1")));
        let err = "10.0.0.0/33"
            .parse::<TrustedProxies>()
            .expect_err("too long");
        assert!(err.contains("0 to 32"), "{err}");
        let err = "nope".parse::<TrustedProxies>().expect_err("not an IP");
        assert!(err.contains("\"nope\""), "{err}");
    }
}
