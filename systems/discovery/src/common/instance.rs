//! What the user and order instances share: their settings, `/health`, and registering with
//! the discovery server for as long as they serve.

use std::time::Duration;

use axum::Router;
use serde::Deserialize;
use serde_json::json;
use service_kit::{App, ConfigError, ServerConfig, Service, Stoppable};

use crate::client::{self, Registration};
use service_kit::time::now_iso;

/// An instance's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InstanceConfig {
    /// `DISCOVERY_URL`: the discovery server.
    pub discovery_url: String,
    /// `SERVICE_HOST`: the address others reach this instance at; default: the address the
    /// discovery server sees it call from.
    pub service_host: Option<String>,
    /// `HEARTBEAT_INTERVAL`: seconds between heartbeats (fractions allowed).
    pub heartbeat_interval: f64,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        let d = client::Settings::default();
        Self {
            discovery_url: d.discovery_url,
            service_host: d.service_host,
            heartbeat_interval: d.heartbeat_interval,
        }
    }
}

impl InstanceConfig {
    /// These settings for the client.
    pub fn client(&self) -> client::Settings {
        client::Settings {
            discovery_url: self.discovery_url.clone(),
            service_host: self.service_host.clone(),
            heartbeat_interval: self.heartbeat_interval,
        }
    }
}

/// The name an instance gives in its bodies: `<service>-<port>`, as the seed's did.
pub fn instance_name(service: &Service, server: &ServerConfig) -> String {
    format!("{}-{}", service.name, server.port)
}

/// `routes` plus the standard ones, with `/health` as the seed's instances answered it:
/// `{service, instance, port, status:"healthy", timestamp}`.
pub fn app(service: &Service, server: &ServerConfig, routes: Router) -> Router {
    let (name, instance, port) = (service.name, instance_name(service, server), server.port);
    App::new(server)
        .health_check(move || {
            let instance = instance.clone();
            async move {
                let body = json!({
                    "service": name,
                    "instance": instance,
                    "port": port,
                    "status": "healthy",
                    "timestamp": now_iso(),
                });
                body.as_object().cloned().unwrap_or_default()
            }
        })
        .build(routes)
}

/// `router`, registered with the discovery server while it serves and unregistered on
/// SIGINT/SIGTERM.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub fn registered(
    service: &Service,
    config: &client::Settings,
    server: &ServerConfig,
    router: Router,
) -> Result<Stoppable, ConfigError> {
    let registrant = config.registrant(service.name, server)?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| ConfigError::invalid("DISCOVERY_URL", e))?;
    let registration = Registration::start(registrant, http);
    Ok(Stoppable::new(router, registration.stop()))
}
