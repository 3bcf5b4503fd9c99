//! Who is calling: the client's IP address, the key of its rate-limit budget.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use ::resilience::rate_limit::{ClientKey, InvalidKey};
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

/// The budget `ip` draws on: its address as text, an IPv4 client reaching a dual-stack socket
/// (`::ffff:10.0.0.1`) under its IPv4 form so that it has one budget whichever way it came;
/// `unknown` without an address.
pub(crate) fn client_key(ip: Option<IpAddr>) -> Result<ClientKey, InvalidKey> {
    match ip {
        Some(ip) => ClientKey::new(ip.to_canonical().to_string()),
        None => ClientKey::new("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> String {
        let ip: IpAddr = ip.parse().expect("an IP address");
        client_key(Some(ip))
            .expect("a valid key")
            .as_str()
            .to_owned()
    }

    #[test]
    fn each_address_is_its_own_key() {
        assert_eq!(key("10.0.0.1"), "10.0.0.1");
        assert_ne!(key("10.0.0.1"), key("10.0.0.2"));
        assert_eq!(key("2001:db8::1"), "2001:db8::1");
        assert_ne!(key("2001:db8::1"), key("2001:db8::2"));
    }

    #[test]
    fn an_ipv4_client_has_one_key_whatever_the_socket() {
        assert_eq!(key("::ffff:10.0.0.1"), key("10.0.0.1"));
    }

    #[test]
    fn without_an_address_every_request_shares_one_key() {
        assert_eq!(client_key(None).expect("valid").as_str(), "unknown");
    }
}
