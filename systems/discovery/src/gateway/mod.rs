//! The api-gateway (port 8000).

use axum::Router;
use serde::Deserialize;
use service_kit::{App, ConfigError, ServerConfig, Service};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("api-gateway", 8000);

/// The service's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(_config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    Ok(App::new(server).build(Router::new().merge(crate::dashboard::gateway())))
}
