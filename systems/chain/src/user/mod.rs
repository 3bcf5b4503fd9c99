//! The user-service (port 8080): the top of the chain. It answers a user once their orders
//! answered, calling order through the breaker `order-service`.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /users/{id}` | 200 `{"message":"User data for ID <id>"}` once `GET /orders?user_id=<id>` answered 2xx; when the call fails, the errors of the crate's "Errors through the chain" with `failed to get orders` and `hop` naming the service that failed (`order-service`, or `inventory-service` deeper down) |
//! | `GET /health` | 200 `{"status":"UP","service":"user-service","instance":ID,"breaker":{"name":"order-service","state":...}}` |
//! | `GET /metrics` | Prometheus, with the breaker's `breaker_*` series |
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `ORDER_SERVICE_URL` | `http://127.0.0.1:8081` |
//! | `CALL_TIMEOUT` | `3s`: the whole call to order, body included. Longer than order's own `2s`, so that when inventory is slow order's 504 (naming inventory) arrives before this limit would blame order |
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where `order-service` lives (`breaker:{order-service}`) |
//! | `BREAKER__*` | the seed's policy ([`crate::common::seed_settings`]); any `breaker_redis::Settings` field |
//! | `PORT` | 8080 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::trace::TraceContext;
use service_kit::{AppError, ConfigError, Overrides, ServerConfig, Service};

use crate::common::{Hop, HopSpec};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("user-service", 8080);

/// The call to order, and its breaker's name.
pub const ORDERS: HopSpec = HopSpec {
    name: "order-service",
    what: "orders",
    url_var: "ORDER_SERVICE_URL",
};

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `ORDER_SERVICE_URL`.
    pub order_service_url: String,
    /// `CALL_TIMEOUT`: one call to order.
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
            order_service_url: "http://127.0.0.1:8081".to_owned(),
            call_timeout: Duration::from_secs(3),
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
    let orders = Arc::new(
        Hop::connect(
            ORDERS,
            &config.order_service_url,
            &config.redis_url,
            config.call_timeout,
            &config.breaker,
            server,
        )
        .await?,
    );
    let app = Hop::app(&orders, server);
    let api = Router::new()
        .route("/users/{id}", get(user))
        .with_state(orders);
    Ok(app.build(api))
}

async fn user(
    State(orders): State<Arc<Hop>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    let trace = TraceContext::from_headers(&headers);
    orders.get("/orders", &[("user_id", &id)], &trace).await?;
    Ok(Json(json!({ "message": format!("User data for ID {id}") })))
}
