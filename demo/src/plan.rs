//! The validated [`Plan`]: which system, where Redis is, what the services bind, and the
//! processes to start, each a [`Service`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::systems::SystemPlan;

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

/// Where things are: Redis and the address the services bind. Every system builds its
/// services' URLs and variables from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addrs {
    /// Redis.
    pub redis: RedisPlan,
    /// What the services bind.
    pub bind_addr: IpAddr,
}

impl Addrs {
    /// The URL the services use for Redis.
    pub fn redis_url(&self) -> String {
        match &self.redis {
            RedisPlan::Private { port } => format!("redis://127.0.0.1:{port}"),
            RedisPlan::External { url } => url.clone(),
        }
    }

    /// `redis-cli` with the flags that reach our Redis.
    pub fn redis_cli(&self) -> String {
        match &self.redis {
            RedisPlan::Private { port } => format!("redis-cli -p {port}"),
            RedisPlan::External { url } => format!("redis-cli -u {url}"),
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
        format!("http://{}:{port}", self.host_ip())
    }

    /// The host for the printed commands: `localhost` for loopback, else the address.
    pub fn host(&self) -> String {
        if self.connect_addr().is_loopback() {
            "localhost".to_owned()
        } else {
            self.host_ip()
        }
    }

    fn host_ip(&self) -> String {
        match self.connect_addr() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }
    }

    /// The variables every service reads; `RUST_LOG`, `LOG_FORMAT` and the rest of the demo's
    /// environment pass through unchanged.
    pub fn server_env(&self, instance: &str, port: u16) -> Vec<(String, String)> {
        vec![
            ("PORT".to_owned(), port.to_string()),
            ("BIND_ADDR".to_owned(), self.bind_addr.to_string()),
            ("INSTANCE_ID".to_owned(), instance.to_owned()),
        ]
    }
}

/// One service process of a system, in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its name in the output and its instance id, e.g. `service-a-1`, `gateway-2`.
    pub name: String,
    /// The port it listens on; ready when `GET /health` (or its system's `ready_path`) there
    /// answers 200.
    pub port: u16,
    /// The option that moves the port, for messages.
    pub port_option: &'static str,
    /// The binary, found in the bin dir: `service-a`, `shop`.
    pub binary: &'static str,
    /// Its arguments, e.g. the subcommand `gateway`.
    pub args: Vec<String>,
    /// Variables set on top of the demo's own environment.
    pub env: Vec<(String, String)>,
}

/// A port the plan listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortUse {
    /// The process: `redis` or a service's name.
    pub name: String,
    /// The port.
    pub port: u16,
    /// The option that moves it.
    pub option: &'static str,
}

/// A validated configuration: every port distinct and non-zero.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The system and its own settings.
    pub system: SystemPlan,
    /// Redis and the bind address.
    pub addrs: Addrs,
    /// The binaries.
    pub bin_dir: BinDir,
    /// Per process.
    pub startup_timeout: Duration,
    /// Per process.
    pub stop_timeout: Duration,
    /// Restarts of one process allowed within a minute; `None`: no limit.
    pub max_restarts_per_minute: Option<u32>,
    /// The fleet dashboard's port, unless `--no-fleet-dashboard`.
    pub fleet_dashboard: Option<u16>,
}

impl Plan {
    /// The system's services, in start order (after Redis).
    pub fn services(&self) -> Vec<Service> {
        self.system.services(&self.addrs)
    }

    /// Every port this plan listens on, with the process that listens there.
    pub fn ports(&self) -> Vec<PortUse> {
        let mut ports = Vec::new();
        if let RedisPlan::Private { port } = self.addrs.redis {
            ports.push(PortUse {
                name: "redis".to_owned(),
                port,
                option: "--redis-port",
            });
        }
        ports.extend(self.services().into_iter().map(|s| PortUse {
            name: s.name,
            port: s.port,
            option: s.port_option,
        }));
        ports.extend(self.system.other_ports());
        ports.extend(crate::fleet_dashboard::port(self));
        ports
    }

    /// The binaries to find (or build): the system's, and the fleet dashboard's when it runs.
    pub fn binaries(&self) -> Vec<&'static str> {
        let mut binaries = self.system.binaries().to_vec();
        if self.fleet_dashboard.is_some() {
            binaries.push(crate::fleet_dashboard::BINARY);
        }
        binaries
    }

    /// Fails naming both processes if two of them would listen on the same port.
    pub fn check_distinct_ports(&self) -> anyhow::Result<()> {
        let ports = self.ports();
        for (i, used) in ports.iter().enumerate() {
            if let Some(other) = ports[..i].iter().find(|p| p.port == used.port) {
                bail!(
                    "port {} is given to both {} and {}; every port must differ",
                    used.port,
                    other.name,
                    used.name
                );
            }
        }
        Ok(())
    }

    /// `redis on port 6379, service-b on port 8081, ...`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .ports()
            .into_iter()
            .map(|p| format!("{} on port {}", p.name, p.port))
            .collect();
        if let RedisPlan::External { .. } = self.addrs.redis {
            parts.insert(0, "Redis from --redis-url".to_owned());
        }
        parts.join(", ")
    }
}
