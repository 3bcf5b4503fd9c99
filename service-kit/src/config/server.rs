//! [`ServerConfig`]: the settings every service has, loaded next to the service's own struct.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::Deserialize;

use super::{ConfigError, Loader, RedisConfig};
use crate::serve::Limits;

/// Settings shared by every service, resolved (defaults applied).
///
/// | variable | default |
/// |---|---|
/// | `PORT` | the service's default port |
/// | `BIND_ADDR` | `0.0.0.0` |
/// | `INSTANCE_ID` | `<service>-<hostname>-<pid>` (hostname from `HOSTNAME` or the kernel) |
/// | `MAX_BODY_BYTES` | 65536 |
/// | `REDIS_TLS_CA`, `REDIS_TLS_CERT`, `REDIS_TLS_KEY`, `REDIS_TLS_INSECURE` | see [`RedisConfig`] |
/// | `HTTP_*` | see [`Limits`] |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The service's name, e.g. `service-b` (not configurable).
    pub service: String,
    /// The TCP port; 0 picks a free one (the `listening on` log line names it).
    pub port: u16,
    /// The address to bind.
    pub bind_addr: IpAddr,
    /// This replica's id, reported by `/health` and in responses.
    pub instance_id: String,
    /// Request bodies larger than this are answered 413.
    pub max_body_bytes: usize,
    /// How the service reaches Redis over TLS (for services that use Redis).
    pub redis: RedisConfig,
    /// Connection and request-head limits (`HTTP_*`).
    pub limits: Limits,
}

/// What the environment may set; `None` takes the default.
#[derive(Debug, Deserialize)]
struct RawServer {
    port: Option<u16>,
    bind_addr: Option<IpAddr>,
    instance_id: Option<String>,
    max_body_bytes: Option<usize>,
}

impl ServerConfig {
    /// The default request body limit: 64 KiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

    /// Defaults for `service` on `port`, without reading any configuration; for tests.
    pub fn new(service: &str, port: u16) -> Self {
        Self {
            service: service.to_owned(),
            port,
            bind_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            instance_id: default_instance_id(service, std::env::var("HOSTNAME").ok()),
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            redis: RedisConfig::default(),
            limits: Limits::default(),
        }
    }

    /// Reads the settings from `loader`, applying defaults.
    ///
    /// # Errors
    ///
    /// A value does not parse, `MAX_BODY_BYTES` is 0, or an `HTTP_*` limit is out of range.
    pub fn from_loader(
        loader: &Loader,
        service: &str,
        default_port: u16,
    ) -> Result<Self, ConfigError> {
        let raw: RawServer = loader.load()?;
        if raw.max_body_bytes == Some(0) {
            return Err(ConfigError::invalid("MAX_BODY_BYTES", "must be at least 1"));
        }
        let instance_id = raw.instance_id.unwrap_or_else(|| {
            default_instance_id(service, loader.var("HOSTNAME").map(str::to_owned))
        });
        Ok(Self {
            service: service.to_owned(),
            port: raw.port.unwrap_or(default_port),
            bind_addr: raw.bind_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            instance_id,
            max_body_bytes: raw.max_body_bytes.unwrap_or(Self::DEFAULT_MAX_BODY_BYTES),
            redis: RedisConfig::from_loader(loader)?,
            limits: Limits::from_loader(loader)?,
        })
    }

    /// `bind_addr:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind_addr, self.port)
    }
}

/// `<service>-<hostname>-<pid>`: the hostname tells containers apart (where the pid is always
/// 1), the pid tells apart replicas started as processes on one host.
fn default_instance_id(service: &str, hostname: Option<String>) -> String {
    let pid = std::process::id();
    let hostname = hostname.or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
    });
    match hostname.filter(|h| !h.is_empty()) {
        Some(host) => format!("{service}-{host}-{pid}"),
        None => format!("{service}-{pid}"),
    }
}
