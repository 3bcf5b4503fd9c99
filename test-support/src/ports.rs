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

/// Like [`free_port`], returning the error instead of panicking.
pub fn try_free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
