//! An order service instance (ports 5000-5002): the seed's five orders.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /orders/user/{userId}` | 200 `{orders:[{id,userId,products}], userId, instance, totalOrders}`; 400 `{"error":"Invalid user ID"}` when `userId` is not a positive integer |
//! | `GET /health` | 200 `{service:"order-service", instance, port, status:"healthy", timestamp}` |
//! | `GET /metrics` | Prometheus |
//!
//! `instance` is `order-service-<port>`. The instance registers with the discovery server at
//! start, heartbeats every `HEARTBEAT_INTERVAL`, and unregisters on SIGINT/SIGTERM.
//!
//! # Configuration
//!
//! As [`crate::user`]'s, with `PORT` 5000.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use serde_json::json;
use service_kit::{AppError, ConfigError, ServerConfig, Service, Stoppable};

use crate::common::{self, INVALID_USER_ID, InstanceConfig};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("order-service", 5000);

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
        "/orders/user/{user_id}",
        get(move |Path(raw): Path<String>| {
            let instance = instance.clone();
            async move {
                let user_id = common::parse_user_id(&raw)
                    .ok_or_else(|| AppError::bad_request(INVALID_USER_ID))?;
                let orders = common::orders_of(&common::orders(), user_id);
                Ok::<_, AppError>(axum::Json(json!({
                    "totalOrders": orders.len(),
                    "orders": orders,
                    "userId": user_id,
                    "instance": instance,
                })))
            }
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
