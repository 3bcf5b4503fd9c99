//! The command line, and the validated [`Plan`] it becomes.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;

/// Runs Redis, service-b and the service-a replicas as local processes, prints what to try,
/// and stops them all on Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "demo", version, about, long_about = None)]
pub struct Cli {
    /// Port of the private redis-server started on 127.0.0.1 [default: 6379].
    #[arg(long, env = "DEMO_REDIS_PORT", value_parser = port())]
    pub redis_port: Option<u16>,

    /// Use this Redis instead of starting one, e.g. redis://127.0.0.1:6379.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Port of service-b.
    #[arg(long, env = "DEMO_SERVICE_B_PORT", default_value_t = 8081, value_parser = port())]
    pub service_b_port: u16,

    /// Ports of the service-a replicas, comma-separated: one replica per port.
    #[arg(
        long,
        env = "DEMO_SERVICE_A_PORTS",
        value_delimiter = ',',
        default_value = "8080,8082",
        value_parser = port(),
    )]
    pub service_a_ports: Vec<u16>,

    /// Address the services bind (Redis always binds 127.0.0.1).
    #[arg(long, env = "DEMO_BIND_ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind_addr: IpAddr,

    /// Directory holding the service-a and service-b binaries [default: the demo's own
    /// directory, built first when the demo runs under `cargo run`].
    #[arg(long, env = "DEMO_BIN_DIR")]
    pub bin_dir: Option<PathBuf>,

    /// Under `cargo run`, do not build service-a and service-b first.
    #[arg(long, env = "DEMO_NO_BUILD")]
    pub no_build: bool,

    /// Token for service-a's admin endpoints (POST /breaker/open|close|reset).
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// How long each process may take to answer after it starts.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub startup_timeout: Duration,

    /// How long each process may take to exit after SIGTERM before it is killed.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub stop_timeout: Duration,
}

fn port() -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(1..)
}

/// The port of the private Redis unless `--redis-port` says otherwise.
pub const DEFAULT_REDIS_PORT: u16 = 6379;

/// Where Redis comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisPlan {
    /// Start `redis-server` on 127.0.0.1 at this port.
    Private {
        /// The port.
        port: u16,
    },
    /// Use a running Redis.
    External {
        /// Its URL, as given.
        url: String,
    },
}

/// Where the service binaries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinDir {
    /// `--bin-dir`: used as it is.
    Given(PathBuf),
    /// The demo's own directory; `build` says whether building under cargo is allowed.
    OwnDir {
        /// Whether `--no-build` was not given.
        build: bool,
    },
}

/// A validated configuration: every port distinct and non-zero, at least one replica.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Redis.
    pub redis: RedisPlan,
    /// service-b's port.
    pub service_b_port: u16,
    /// One service-a replica per port, named `service-a-1`, `service-a-2`, ...
    pub service_a_ports: Vec<u16>,
    /// What the services bind.
    pub bind_addr: IpAddr,
    /// The binaries.
    pub bin_dir: BinDir,
    /// Passed to every service-a replica as `ADMIN_TOKEN`.
    pub admin_token: Option<String>,
    /// Per process.
    pub startup_timeout: Duration,
    /// Per process.
    pub stop_timeout: Duration,
}

impl Cli {
    /// Checks what clap cannot: distinct ports, a usable Redis URL, a non-empty token.
    pub fn into_plan(self) -> anyhow::Result<Plan> {
        let redis = match (self.redis_url, self.redis_port) {
            (Some(_), Some(port)) => bail!(
                "both --redis-port {port} and --redis-url (or REDIS_URL) are set: give \
                 --redis-port to start a private Redis, --redis-url to use a running one"
            ),
            (Some(url), None) => {
                if let Err(e) = redis::Client::open(url.as_str()) {
                    bail!("invalid --redis-url (or REDIS_URL) {url:?}: {e}");
                }
                RedisPlan::External { url }
            }
            (None, port) => RedisPlan::Private {
                port: port.unwrap_or(DEFAULT_REDIS_PORT),
            },
        };
        if self.service_a_ports.is_empty() {
            bail!("--service-a-ports needs at least one port");
        }
        if self.admin_token.as_deref().is_some_and(str::is_empty) {
            bail!("--admin-token (or ADMIN_TOKEN) is empty; give a token or leave it unset");
        }
        let plan = Plan {
            redis,
            service_b_port: self.service_b_port,
            service_a_ports: self.service_a_ports,
            bind_addr: self.bind_addr,
            bin_dir: match self.bin_dir {
                Some(dir) => BinDir::Given(dir),
                None => BinDir::OwnDir {
                    build: !self.no_build,
                },
            },
            admin_token: self.admin_token,
            startup_timeout: self.startup_timeout,
            stop_timeout: self.stop_timeout,
        };
        plan.check_distinct_ports()?;
        Ok(plan)
    }
}

impl Plan {
    /// Every port this plan listens on, with the process that listens there.
    pub fn ports(&self) -> Vec<(String, u16)> {
        let mut ports = Vec::new();
        if let RedisPlan::Private { port } = self.redis {
            ports.push(("redis".to_owned(), port));
        }
        ports.push(("service-b".to_owned(), self.service_b_port));
        ports.extend(
            self.service_a_ports
                .iter()
                .enumerate()
                .map(|(i, &port)| (replica_name(i), port)),
        );
        ports
    }

    fn check_distinct_ports(&self) -> anyhow::Result<()> {
        let ports = self.ports();
        for (i, (name, port)) in ports.iter().enumerate() {
            if let Some((other, _)) = ports[..i].iter().find(|(_, p)| p == port) {
                bail!("port {port} is given to both {other} and {name}; every port must differ");
            }
        }
        Ok(())
    }

    /// The URL the services use for Redis.
    pub fn redis_url(&self) -> String {
        match &self.redis {
            RedisPlan::Private { port } => format!("redis://127.0.0.1:{port}"),
            RedisPlan::External { url } => url.clone(),
        }
    }

    /// The address to reach the services at: the bound one, or loopback for a wildcard.
    pub fn connect_addr(&self) -> IpAddr {
        if self.bind_addr.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            self.bind_addr
        }
    }

    /// `http://<addr>:<port>`, with brackets for IPv6.
    pub fn base_url(&self, port: u16) -> String {
        match self.connect_addr() {
            IpAddr::V4(ip) => format!("http://{ip}:{port}"),
            IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
        }
    }
}

/// `service-a-1` for index 0.
pub fn replica_name(index: usize) -> String {
    format!("service-a-{}", index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::{CommandFactory, FromArgMatches};

    /// Parses `args` ignoring the environment, so that a REDIS_URL or ADMIN_TOKEN exported where
    /// the tests run changes nothing.
    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let matches = Cli::command()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(std::iter::once("demo").chain(args.iter().copied()))?;
        Cli::from_arg_matches(&matches)
    }

    #[test]
    fn defaults_are_the_documented_ports() {
        let plan = parse(&[])
            .expect("no arguments parse")
            .into_plan()
            .expect("defaults are valid");
        let ports: Vec<u16> = plan.ports().into_iter().map(|(_, p)| p).collect();
        assert_eq!(ports, [6379, 8081, 8080, 8082]);
        assert_eq!(plan.redis_url(), "redis://127.0.0.1:6379");
        assert_eq!(plan.base_url(8081), "http://127.0.0.1:8081");
    }

    #[test]
    fn replicas_follow_the_port_list() {
        let cli = parse(&[
            "--service-a-ports",
            "9000,9001,9002",
            "--redis-port",
            "7000",
        ]);
        let plan = cli.expect("parses").into_plan().expect("valid");
        let names: Vec<String> = plan.ports().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "redis",
                "service-b",
                "service-a-1",
                "service-a-2",
                "service-a-3"
            ]
        );
    }

    #[test]
    fn a_port_used_twice_is_refused_with_both_names() {
        let err = parse(&["--redis-port", "8080", "--redis-url", "redis://x"])
            .expect("parses")
            .into_plan()
            .expect_err("--redis-port and --redis-url conflict");
        assert!(
            err.to_string().starts_with("both --redis-port 8080"),
            "{err}"
        );
        let err = parse(&["--service-b-port", "8082", "--redis-port", "7000"])
            .expect("parses")
            .into_plan()
            .expect_err("8082 twice");
        assert_eq!(
            err.to_string(),
            "port 8082 is given to both service-b and service-a-2; every port must differ"
        );
    }

    #[test]
    fn port_zero_and_bad_urls_are_refused() {
        assert!(parse(&["--service-b-port", "0"]).is_err());
        assert!(parse(&["--service-a-ports", "8080,0"]).is_err());
        let err = parse(&["--redis-url", "http://nope"])
            .expect("parses")
            .into_plan()
            .expect_err("not a redis URL");
        assert!(err.to_string().starts_with("invalid --redis-url"), "{err}");
    }

    #[test]
    fn a_wildcard_bind_is_reached_on_loopback() {
        let plan = parse(&["--bind-addr", "0.0.0.0", "--redis-port", "7000"])
            .expect("parses")
            .into_plan()
            .expect("valid");
        assert_eq!(plan.base_url(1), "http://127.0.0.1:1");
    }
}
