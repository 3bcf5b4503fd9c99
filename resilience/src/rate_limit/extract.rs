//! [`KeyExtractor`]: what identifies a request's client, and [`ByIp`], by its IP address.

use std::net::IpAddr;

use super::key::ClientKey;

/// Names the client whose budget a request draws on. `None` lets the request through
/// unlimited (a request the limiter does not apply to).
///
/// Any `Fn(&Req) -> Option<ClientKey>` is one.
pub trait KeyExtractor<Req> {
    /// The client of `req`, or `None` when it is not limited.
    fn key(&self, req: &Req) -> Option<ClientKey>;
}

impl<Req, F> KeyExtractor<Req> for F
where
    F: Fn(&Req) -> Option<ClientKey>,
{
    fn key(&self, req: &Req) -> Option<ClientKey> {
        self(req)
    }
}

/// One budget per client IP address ([`ip_key`]); `F` finds the address in the request.
/// Requests without one share the key `unknown`, so that they are limited together rather
/// than not at all.
#[derive(Debug, Clone, Copy)]
pub struct ByIp<F>(pub F);

impl<Req, F> KeyExtractor<Req> for ByIp<F>
where
    F: Fn(&Req) -> Option<IpAddr>,
{
    fn key(&self, req: &Req) -> Option<ClientKey> {
        Some((self.0)(req).map_or_else(unknown, ip_key))
    }
}

fn unknown() -> ClientKey {
    ClientKey::from_valid("unknown")
}

/// The key of the client at `ip`: an IPv4 address as itself (also when it reached a
/// dual-stack socket as `::ffff:a.b.c.d`); an IPv6 address as its /64 network
/// (`2001:db8:1:2::/64`), the block one host or one site is given, so that a client cannot
/// get a fresh budget from every address of its own network.
pub fn ip_key(ip: IpAddr) -> ClientKey {
    match ip.to_canonical() {
        IpAddr::V4(v4) => ClientKey::from_valid(v4.to_string()),
        IpAddr::V6(v6) => {
            let network = std::net::Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX));
            ClientKey::from_valid(format!("{network}/64"))
        }
    }
}
