//! Free loopback ports.

use std::net::{Ipv4Addr, TcpListener};

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
///
/// The port is found by binding port 0 and closing the listener, so another process may take it
/// before the caller binds it: callers that start servers must detect that and retry (as
/// [`RedisServer::start`](crate::RedisServer::start) does).
///
/// # Panics
///
/// If no loopback port can be bound at all, which means the machine cannot run these tests.
pub fn free_port() -> u16 {
    try_free_port().expect("binding 127.0.0.1:0 to find a free port")
}

/// `n` distinct free loopback ports: [`free_port`] may hand out a port it gave before, so the
/// ones already taken, and those in `besides`, are skipped.
pub fn free_ports_besides(n: usize, besides: &[u16]) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::with_capacity(n);
    while ports.len() < n {
        let port = free_port();
        if !ports.contains(&port) && !besides.contains(&port) {
            ports.push(port);
        }
    }
    ports
}

/// `n` distinct free loopback ports, for a test that starts several servers.
pub fn free_ports(n: usize) -> Vec<u16> {
    free_ports_besides(n, &[])
}

/// Like [`free_port`], returning the error instead of panicking.
pub fn try_free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
