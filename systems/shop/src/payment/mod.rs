//! The payment-service (port 3001). Routes and settings: see the contract; this is a skeleton that
//! only answers `/health`.

use axum::Router;
use serde::Deserialize;
use service_kit::{App, ConfigError, HealthFields, ServerConfig, Service};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("payment-service", 3001);

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
    let app = App::new(server).health_check(|| async {
        let mut fields = HealthFields::new();
        fields.insert("status".to_owned(), "UP".into());
        fields
    });
    Ok(app.build(Router::new()))
}
