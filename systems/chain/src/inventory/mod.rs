//! The inventory-service (port 8082): the end of the chain. It fails a tenth of its calls, as
//! the seed's did.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /inventory` | 200 `{"message":"Inventory data"}` after `delay_ms`; `failure_rate` of the calls 500 `{"error":"failed to get inventory"}`; while `down`, 503 `{"error":"inventory service is down"}` |
//! | `GET`, `PUT`, `DELETE /faults` | the faults ([`service_kit::faults`]): `failure_rate` (0.1), `delay_ms` (0), `down` (false) |
//! | `GET /health` | 200 `{"status":"UP"\|"DOWN","service":"inventory-service","instance":ID}` (`DOWN` while `down`: the probe reports, the API refuses) |
//! | `GET /metrics` | Prometheus, with `http_requests_total{route="/inventory",status}`: how often it was called |
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | 0.1, 0, false, unset (`FAULTS__SEED` makes the failures repeatable) |
//! | `PORT` | 8082 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::faults::{self, FaultControl, Faults, FaultsConfig, Outcome};
use service_kit::{App, AppError, ConfigError, HealthFields, ServerConfig, Service};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("inventory-service", 8082);

/// The service's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `FAULTS__*`: start-up overrides of [`default_faults`].
    pub faults: FaultsConfig,
}

/// The seed's faults: a tenth of the calls fail, none is slow.
pub fn default_faults() -> Faults {
    Faults {
        failure_rate: 0.1,
        ..Faults::none()
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid `FAULTS__*` setting, naming its variable.
pub fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let control = Arc::new(FaultControl::from_config(default_faults(), &config.faults)?);
    let health = Arc::clone(&control);
    let app = App::new(server).health_check(move || {
        let down = health.current().down;
        async move {
            let mut fields = HealthFields::new();
            fields.insert("status".to_owned(), if down { "DOWN" } else { "UP" }.into());
            fields
        }
    });
    let api = Router::new()
        .route("/inventory", get(inventory))
        .with_state(Arc::clone(&control));
    Ok(app.build(api.merge(faults::routes(control))))
}

async fn inventory(State(control): State<Arc<FaultControl>>) -> Result<Json<Value>, AppError> {
    match control.check().await.outcome {
        Outcome::Pass => Ok(Json(json!({ "message": "Inventory data" }))),
        Outcome::Failure => Err(AppError::internal("failed to get inventory")),
        Outcome::Down => Err(AppError::unavailable("inventory service is down")),
    }
}
