//! The discovery client, used by every instance and the gateway.
//!
//! - [`Registration`] (`registration`): registers at start, heartbeats at once and every
//!   interval, and unregisters when stopped (the services stop it on SIGINT/SIGTERM through
//!   [`service_kit::Stoppable`]).
//! - [`Discovery`] (`lookup`): finds a service's instances (cached 2 x the heartbeat interval by
//!   default; the stale cache while the server is down), picks one at random, and moves on to
//!   another when one cannot be reached; with none it fails with
//!   `No instances available for service: <name>`.
//! - `cache`: the lookups' cache.
//! - [`Settings`]: the settings every registering service reads.

mod cache;
mod lookup;
mod registration;

use std::time::Duration;

use serde::Deserialize;
use service_kit::{ConfigError, ServerConfig};

pub use cache::{Entry, Instance};
pub use lookup::{CallError, Discovery};
pub use registration::{Registrant, Registration};

/// The settings of a service that registers: `DISCOVERY_URL`, `SERVICE_HOST`,
/// `HEARTBEAT_INTERVAL`; flattened into each service's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `DISCOVERY_URL`: the discovery server.
    pub discovery_url: String,
    /// `SERVICE_HOST`: the address others reach this instance at (default: the address the
    /// discovery server sees it call from).
    pub service_host: Option<String>,
    /// `HEARTBEAT_INTERVAL`: seconds between heartbeats (fractions allowed).
    pub heartbeat_interval: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            discovery_url: "http://127.0.0.1:3000".to_owned(),
            service_host: None,
            heartbeat_interval: 30.0,
        }
    }
}

impl Settings {
    /// The registration of `name` on the port `server` listens on.
    ///
    /// # Errors
    ///
    /// An invalid setting, naming its variable.
    pub fn registrant(&self, name: &str, server: &ServerConfig) -> Result<Registrant, ConfigError> {
        let interval = self.heartbeat_interval;
        if !(interval.is_finite() && interval > 0.0 && interval <= 3600.0) {
            return Err(ConfigError::invalid(
                "HEARTBEAT_INTERVAL",
                "must be a number of seconds above 0 and at most 3600",
            ));
        }
        if server.port == 0 {
            return Err(ConfigError::invalid(
                "PORT",
                "must be given (not 0) for the instance to register its port",
            ));
        }
        let url = self.discovery_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "DISCOVERY_URL",
                "must be an http:// or https:// URL",
            ));
        }
        if self.service_host.as_deref() == Some("") {
            return Err(ConfigError::invalid("SERVICE_HOST", "must not be empty"));
        }
        Ok(Registrant {
            discovery_url: url.to_owned(),
            name: name.to_owned(),
            port: server.port,
            host: self.service_host.clone(),
            interval,
        })
    }

    /// The heartbeat interval as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.heartbeat_interval.clamp(0.001, 3600.0))
    }
}
