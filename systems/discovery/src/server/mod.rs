//! The discovery server (port 3000): the registry, kept in Redis (see `registry`), and its API.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `POST /register` | `{name, port, heartbeatInterval=30, host?}`: 200 `{id, heartbeatInterval, registeredAt}`; the instance's `ip` is `host`, else the caller's address |
//! | `POST /heartbeat` | the same body: 200 `{ok:true, lastHeartbeat, nextHeartbeatIn}` (seconds); registers a missing instance |
//! | | 400 `{"error":"Name and port are required"}` for a name not of 1-64 `A-Za-z0-9._-` or a port not in 1-65535; 400 for a `heartbeatInterval` not in (0, `MAX_HEARTBEAT_INTERVAL`] or a bad `host`; malformed JSON 400, no JSON `Content-Type` 415 |
//! | `GET /services/{name}` | 200 `{services:[{id,name,ip,port,heartbeatInterval,registeredAt,lastHeartbeat}]}`: alive instances only (last heartbeat within 1.5 x its interval); unknown name `[]` |
//! | `GET /services` | 200 `{<name>:[{...instance, status:"alive"}]}` |
//! | `DELETE /services/{name}/{port}` | 200 `{"message":"Service removed successfully"}`; 404 `{"error":"Service not found"}` (no alive instance of the name) or `{"error":"Service instance not found"}` (none on that port); 400 for a port not in 1-65535 |
//! | `GET /` | the dashboard (see [`crate::dashboard`]) |
//! | `GET /health` | 200 `{status, service, instance, redis:"up"|"down"}` (`status` `degraded` while Redis is down) |
//! | `GET /metrics` | Prometheus |
//!
//! Times are milliseconds since the epoch, on Redis's clock (so every server agrees);
//! `heartbeatInterval` and `nextHeartbeatIn` are seconds. While Redis is down every registry
//! route answers 503 `{"error":"Registry unavailable: Redis does not answer"}`.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where the registry lives |
//! | `MAX_HEARTBEAT_INTERVAL` | 3600: the longest interval accepted, in seconds |
//! | `PORT` | 3000 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`].
//! - `registry`: the keys in Redis and their Lua scripts (`lua/`).
//! - `routes`: the handlers and the validation of their input.

mod registry;
mod routes;

use std::sync::Arc;

use axum::Router;
use serde::Deserialize;
use service_kit::{App, ConfigError, HealthFields, ServerConfig, Service};

pub use registry::Instance;
pub use routes::{REQUIRED, valid_name};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("service-discovery", 3000);

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `MAX_HEARTBEAT_INTERVAL`: seconds.
    pub max_heartbeat_interval: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            max_heartbeat_interval: 3600.0,
        }
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let max = config.max_heartbeat_interval;
    if !(max.is_finite() && max > 0.0) {
        return Err(ConfigError::invalid(
            "MAX_HEARTBEAT_INTERVAL",
            "must be a number of seconds above 0",
        ));
    }
    server.redis.check_url("REDIS_URL", &config.redis_url)?;
    let registry = registry::Registry::connect(&config.redis_url, &server.redis.tls)
        .map_err(|e| ConfigError::invalid("REDIS_URL", e))?;
    let shared = Arc::new(routes::Shared {
        registry,
        max_interval: max,
    });
    let probe = Arc::clone(&shared);
    Ok(App::new(server)
        .health_check(move || {
            let shared = Arc::clone(&probe);
            async move {
                let up = shared.registry.names().await.is_ok();
                let mut fields = HealthFields::new();
                fields.insert("redis".into(), if up { "up" } else { "down" }.into());
                if !up {
                    fields.insert("status".into(), "degraded".into());
                }
                fields
            }
        })
        .build(routes::routes(shared).merge(crate::dashboard::registry())))
}
