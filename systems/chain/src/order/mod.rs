//! The order-service (port 8081): answers a user's orders once inventory answered, calling it
//! through the breaker `inventory-service`.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /orders?user_id=<id>` | 200 `{"message":"Order data for user ID <id>"}` once `GET /inventory` answered 2xx; 400 `{"error":"user_id is required"}` when it is missing or blank (inventory is not called); when the call fails, the errors of the crate's "Errors through the chain" with `failed to get inventory` and `"hop":"inventory-service"` |
//! | `GET /health` | 200 `{"status":"UP","service":"order-service","instance":ID,"breaker":{"name":"inventory-service","state":"closed"\|"open"\|"half-open"\|"unknown"}}` |
//! | `GET /metrics` | Prometheus, with the breaker's `breaker_state{state}`, `breaker_calls_total`, `breaker_rejections_total`, `breaker_transitions_total` |
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `INVENTORY_SERVICE_URL` | `http://127.0.0.1:8082` |
//! | `CALL_TIMEOUT` | `2s`: the whole call to inventory, body included |
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where `inventory-service` lives (`breaker:{inventory-service}`) |
//! | `BREAKER__*` | the seed's policy ([`crate::common::seed_settings`]); any `breaker_redis::Settings` field, e.g. `BREAKER__TIMEOUT=1s` |
//! | `PORT` | 8081 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::trace::TraceContext;
use service_kit::{AppError, ConfigError, Overrides, ServerConfig, Service};

use crate::common::{Hop, HopSpec};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("order-service", 8081);

/// The call to inventory, and its breaker's name.
pub const INVENTORY: HopSpec = HopSpec {
    name: "inventory-service",
    what: "inventory",
    url_var: "INVENTORY_SERVICE_URL",
};

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `INVENTORY_SERVICE_URL`.
    pub inventory_service_url: String,
    /// `CALL_TIMEOUT`: one call to inventory.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `BREAKER__*`, over the seed's policy.
    pub breaker: Overrides,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            inventory_service_url: "http://127.0.0.1:8082".to_owned(),
            call_timeout: Duration::from_secs(2),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            breaker: Overrides::default(),
        }
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let inventory = Arc::new(
        Hop::connect(
            INVENTORY,
            &config.inventory_service_url,
            &config.redis_url,
            config.call_timeout,
            &config.breaker,
            server,
        )
        .await?,
    );
    let app = Hop::app(&inventory, server);
    let api = Router::new()
        .route("/orders", get(orders))
        .with_state(inventory);
    Ok(app.build(api))
}

async fn orders(
    State(inventory): State<Arc<Hop>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let required = || AppError::bad_request("user_id is required");
    let Query(query) = query.map_err(|e| required().with_source(e))?;
    let user_id = query
        .get("user_id")
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(required)?;
    let trace = TraceContext::from_headers(&headers);
    inventory.get("/inventory", &[], &trace).await?;
    Ok(Json(json!({
        "message": format!("Order data for user ID {user_id}")
    })))
}
