//! `<binary> healthcheck [PATH]`: the container healthcheck, run by the service's own binary so
//! that the runtime image needs no curl.
//!
//! It reads the same settings as the server (`PORT`, `BIND_ADDR`, ...), sends one
//! `GET PATH` (default `/health`) over a plain TCP connection to the port the service listens on
//! (loopback when it binds every interface) and exits 0 on a 2xx answer, 1 otherwise; every step
//! has a short timeout, so a hung service fails the check instead of hanging it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{Loader, ServerConfig};
use crate::run::Service;

/// The longest the check waits for each of connect, write and read.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The most of the answer read: the status line is all that counts.
const MAX_ANSWER: u64 = 64 * 1024;

/// Runs the check of `service` on `path`; prints one line saying why it failed.
pub(crate) fn run(service: &Service, path: &str) -> ExitCode {
    match check(service, path) {
        Ok(status) => {
            println!("{}: {path} answered {status}", service.name);
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{}: healthcheck failed: {why}", service.name);
            ExitCode::FAILURE
        }
    }
}

/// Whether `path` may be sent as a request target: absolute, visible ASCII.
pub(crate) fn valid_path(path: &str) -> bool {
    path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic())
}

fn check(service: &Service, path: &str) -> Result<u16, String> {
    let loader = Loader::from_env().map_err(|e| e.to_string())?;
    let server = ServerConfig::from_loader(&loader, service.name, service.default_port)
        .map_err(|e| e.to_string())?;
    let addr = target(&server);
    let mut stream =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let status = status(&answer).ok_or_else(|| format!("{addr} sent no HTTP answer"))?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("{path} answered {status}"))
    }
}

/// Where the service listens, as seen from inside its container: loopback for a wildcard bind.
fn target(server: &ServerConfig) -> SocketAddr {
    let ip = match server.bind_addr {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, server.port)
}

/// The status code of an HTTP/1.x answer.
fn status(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_comes_from_the_status_line_only() {
        assert_eq!(status(b"HTTP/1.1 200 OK\r\n\r\n{}"), Some(200));
        assert_eq!(status(b"HTTP/1.0 503 Service Unavailable\r\n"), Some(503));
        for bad in [&b""[..], b"SSH-2.0\r\n", b"HTTP/1.1\r\n", b"HTTP/2 200\r\n"] {
            assert_eq!(status(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_wildcard_bind_is_checked_on_loopback() {
        let mut server = ServerConfig::new("kit-test", 8090);
        assert_eq!(target(&server).to_string(), "127.0.0.1:8090");
        server.bind_addr = "::".parse().expect("ip");
        assert_eq!(target(&server).to_string(), "[::1]:8090");
        server.bind_addr = "10.1.2.3".parse().expect("ip");
        assert_eq!(target(&server).to_string(), "10.1.2.3:8090");
    }

    #[test]
    fn only_absolute_visible_ascii_paths_are_sent() {
        assert!(valid_path("/health") && valid_path("/services?x=1"));
        for bad in ["health", "/a b", "/\r\nX: y", ""] {
            assert!(!valid_path(bad), "{bad:?}");
        }
    }
}
