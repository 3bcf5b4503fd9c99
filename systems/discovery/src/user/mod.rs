//! A user service instance (ports 4000-4002): the seed's three users.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /users` | 200 `{users:[{id,name,email,age}], instance}`: John Doe, Jane Smith, Bob Johnson |
//! | `GET /health` | 200 `{service:"user-service", instance, port, status:"healthy", timestamp}` |
//! | `GET /metrics` | Prometheus |
//!
//! `instance` is `user-service-<port>`. The instance registers with the discovery server at
//! start, heartbeats every `HEARTBEAT_INTERVAL`, and unregisters on SIGINT/SIGTERM.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `DISCOVERY_URL` | `http://127.0.0.1:3000` |
//! | `SERVICE_HOST` | unset: the discovery server records the address it sees the instance call from |
//! | `HEARTBEAT_INTERVAL` | 30 (seconds, fractions allowed) |
//! | `PORT` | 4000 (must not be 0: it is the port registered) |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use service_kit::{ConfigError, ServerConfig, Service, Stoppable};

use crate::common::{self, InstanceConfig};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("user-service", 4000);

/// The instance's settings.
pub type Config = InstanceConfig;

/// The complete service: its routes plus service-kit's standard ones and layers (without
/// registering; see [`start`]).
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    config.client().registrant(SERVICE.name, server)?;
    let instance = common::instance_name(&SERVICE, server);
    let routes = Router::new().route(
        "/users",
        get(move || {
            let body: Value = json!({ "users": common::users(), "instance": instance });
            async move { axum::Json(body) }
        }),
    );
    Ok(common::app(&SERVICE, server, routes))
}

/// [`router`], registered with the discovery server while it serves.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn start(config: &Config, server: &ServerConfig) -> Result<Stoppable, ConfigError> {
    let router = router(config, server).await?;
    common::registered(&SERVICE, &config.client(), server, router)
}
