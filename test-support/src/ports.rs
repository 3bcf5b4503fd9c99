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

/// A loopback port that refuses connections for as long as this value lives: bound but never
/// listening, so connecting to it fails at once, and no other server can be handed it (a port
/// from [`free_port`], as another test's Redis gets, is never one that is bound). For a Redis or
/// a service that must be down; a port from [`free_port`] may be taken by another test's
/// server before it is used.
pub struct RefusingPort {
    _socket: socket2::Socket,
    port: u16,
}

impl RefusingPort {
    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A [`RefusingPort`].
///
/// # Panics
///
/// If no loopback port can be bound at all, which means the machine cannot run these tests.
pub fn refusing_port() -> RefusingPort {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
        .expect("a TCP socket");
    let addr = std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    socket.bind(&addr.into()).expect("binding 127.0.0.1:0");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("a bound port");
    RefusingPort {
        _socket: socket,
        port,
    }
}
