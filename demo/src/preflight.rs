//! Checks made before anything starts, so that a busy port or a missing program fails with
//! advice instead of a half-started demo.

use std::io;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::plan::{Plan, PortUse, RedisPlan};

/// The advice given when `redis-server` is missing.
pub const INSTALL_REDIS: &str = "install it with `apt-get install -y --no-install-recommends redis-server redis-tools`, \
     or use a running Redis with --redis-url redis://HOST:PORT";

/// Fails, naming every busy port and the option that moves it, if any port of `plan` cannot be
/// bound now.
///
/// Binding is the only reliable test; the port may still be taken between this check and the
/// start, which the start then reports as an early exit.
pub fn ensure_ports_free(plan: &Plan) -> anyhow::Result<()> {
    let problems: Vec<String> = plan
        .ports()
        .into_iter()
        .filter_map(|used| {
            let addr = if used.name == "redis" {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                plan.addrs.bind_addr
            };
            let err = TcpListener::bind((addr, used.port)).err()?;
            Some(describe_busy(&used, addr, &err))
        })
        .collect();
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

fn describe_busy(used: &PortUse, addr: IpAddr, err: &io::Error) -> String {
    let PortUse { name, port, option } = used;
    let what = if err.kind() == io::ErrorKind::AddrInUse {
        "is already in use".to_owned()
    } else {
        format!("cannot be bound ({err})")
    };
    let mut line =
        format!("port {port} for {name} {what} on {addr}; choose another with {option} <PORT>");
    if name.as_str() == "redis" {
        line.push_str(&format!(
            " (or, if a Redis is running there, use it with --redis-url redis://127.0.0.1:{port})"
        ));
    }
    line
}

/// The path of `redis-server`, or how to install it.
pub fn find_redis_server() -> anyhow::Result<PathBuf> {
    find_on_path("redis-server")
        .with_context(|| format!("`redis-server` was not found on PATH; {INSTALL_REDIS}"))
}

/// `program` in a directory of `PATH`, if any.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Fails unless the Redis at `plan`'s external URL answers PING within a few seconds.
pub async fn ensure_external_redis(plan: &Plan) -> anyhow::Result<()> {
    let RedisPlan::External { url } = &plan.addrs.redis else {
        return Ok(());
    };
    let ping = async {
        let client = redis::Client::open(url.as_str())?;
        let mut con = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut con).await
    };
    match tokio::time::timeout(Duration::from_secs(5), ping).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => bail!("the Redis at {url} does not answer PING: {e}"),
        Err(_) => bail!("the Redis at {url} did not answer PING within 5s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_redis_port_suggests_both_ways_out() {
        let err = io::Error::from(io::ErrorKind::AddrInUse);
        let used = |name: &str, port, option| PortUse {
            name: name.to_owned(),
            port,
            option,
        };
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let text = describe_busy(&used("redis", 6379, "--redis-port"), loopback, &err);
        assert_eq!(
            text,
            "port 6379 for redis is already in use on 127.0.0.1; choose another with \
             --redis-port <PORT> (or, if a Redis is running there, use it with --redis-url \
             redis://127.0.0.1:6379)"
        );
        let gateway = used("gateway-2", 3010, "--gateway-port");
        let text = describe_busy(&gateway, loopback, &err);
        assert_eq!(
            text,
            "port 3010 for gateway-2 is already in use on 127.0.0.1; choose another with \
             --gateway-port <PORT>"
        );
    }

    #[test]
    fn programs_are_found_on_path() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-here").is_none());
    }
}
