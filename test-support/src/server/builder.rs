//! Options for starting a [`RedisServer`].

use std::path::PathBuf;

use super::RedisServer;
use crate::TestCerts;

/// Builds a [`RedisServer`] with extra `redis-server` arguments or in cluster mode.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let server = test_support::RedisServer::builder()
///     .args(["--maxmemory", "1mb"])
///     .start()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "call start() to launch the server"]
pub struct RedisServerBuilder {
    pub(crate) extra_args: Vec<String>,
    pub(crate) cluster: bool,
    pub(crate) attempts: Option<u32>,
    pub(crate) clock_offset: Option<i64>,
    pub(crate) tls: Option<Tls>,
    pub(crate) admin: Option<(String, String)>,
}

/// A server's TLS settings: its certificates and whether clients must present one.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) auth_clients: bool,
}

impl RedisServerBuilder {
    /// Appends one argument, passed after the harness's own (later arguments win in Redis).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Cluster mode: adds `--cluster-enabled yes`, a `nodes.conf` in the server's temp dir and
    /// an explicit, free `--cluster-port` (the default bus port, port + 10000, may be taken or
    /// above 65535).
    pub fn cluster_enabled(mut self) -> Self {
        self.cluster = true;
        self
    }

    /// Runs the server with its wall clock `seconds` ahead of this machine's (behind when
    /// negative), through libfaketime, so that Redis `TIME` disagrees with every client. Starting
    /// fails with an install hint when libfaketime is missing (Debian package `faketime`).
    pub fn clock_offset(mut self, seconds: i64) -> Self {
        self.clock_offset = Some(seconds);
        self
    }

    /// TLS only: the server listens with TLS on its port (`--tls-port`, with `certs`' server
    /// certificate and CA) and on no plain TCP port (`--port 0`); the harness itself talks to it
    /// over a unix socket ([`RedisServer::url`]), clients under test over
    /// [`RedisServer::tls_url`]. With `auth_clients`, a client must present a certificate
    /// signed by the CA (`--tls-auth-clients yes`, mutual TLS).
    pub fn tls(mut self, certs: &TestCerts, auth_clients: bool) -> Self {
        self.tls = Some(Tls {
            ca: certs.ca(),
            cert: certs.server_cert(),
            key: certs.server_key(),
            auth_clients,
        });
        self
    }

    /// The ACL user the harness itself connects as (to check that the server is up, and in
    /// [`RedisServer::url`] and [`RedisServer::client`]), for a server whose `--aclfile`
    /// disables or restricts the default user. The user needs `PING` and `INFO`.
    pub fn admin(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.admin = Some((user.into(), password.into()));
        self
    }

    /// How many ports to try when the chosen one turns out to be taken (default 5).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts.max(1));
        self
    }

    /// Starts the server; see [`RedisServer::start`].
    pub fn start(self) -> anyhow::Result<RedisServer> {
        RedisServer::launch(self)
    }
}
