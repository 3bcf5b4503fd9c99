//! Who is calling: the client's IP address, the key of its rate-limit budget (see
//! [`resilience::rate_limit::ip_key`]: an IPv4 address, or an IPv6 /64).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The peer's IP address, from the connection (service-kit serves with `ConnectInfo`). `None`
/// when the router is called without connection info (a test driving it directly); such
/// requests share one budget. Behind a proxy every client is the proxy: `X-Forwarded-For` is
/// deliberately not read, as any client could forge it to get a fresh budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>();
        Ok(ClientIp(addr.map(|ConnectInfo(addr)| addr.ip())))
    }
}

#[cfg(test)]
mod tests {
    use resilience::rate_limit::{ByIp, KeyExtractor};

    use super::*;

    fn key(ip: Option<&str>) -> String {
        let ip: Option<IpAddr> = ip.map(|ip| ip.parse().expect("an IP address"));
        let by_ip = ByIp(|ip: &Option<IpAddr>| *ip);
        by_ip.key(&ip).expect("a key").as_str().to_owned()
    }

    #[test]
    fn an_ipv4_address_is_its_own_key_and_an_ipv6_client_is_its_64() {
        assert_eq!(key(Some("10.0.0.1")), "10.0.0.1");
        assert_ne!(key(Some("10.0.0.1")), key(Some("10.0.0.2")));
        // A host is given a /64: every address in it is one client.
        assert_eq!(key(Some("2001:db8::1")), key(Some("2001:db8::2")));
        assert_ne!(key(Some("2001:db8::1")), key(Some("2001:db8:0:1::1")));
    }

    #[test]
    fn an_ipv4_client_has_one_key_whatever_the_socket() {
        assert_eq!(key(Some("::ffff:10.0.0.1")), key(Some("10.0.0.1")));
    }

    #[test]
    fn without_an_address_every_request_shares_one_key() {
        assert_eq!(key(None), "unknown");
    }
}
