//! The user-service (port 5001): the seed's two users.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | 200 text `User Service is running!` |
//! | `GET /users` | 200 `[{"id":1,"name":"John Doe"},{"id":2,"name":"Jane Doe"}]` |
//! | `GET /users/{id}` | 200 the user; 404 `{"error":"User not found"}`; 400 `{"error":"User id must be an integer"}` when `id` is not one; 500 `{"error":"User service error"}` on a simulated failure |
//! | `GET`, `PUT`, `DELETE /faults` | the simulated faults ([`service_kit::faults`]): `failure_rate` and `delay_ms` apply to `/users/{id}`; `down: true` makes `/` and `/users*` answer 503 `{"error":"User service is down"}` |
//! | `GET /health` | 200 `{"status":"UP"|"DOWN","service":"user-service","instance":ID}` |
//! | `GET /metrics` | Prometheus |
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | 0, 0, false, unset |
//! | `PORT` | 5001 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service_kit::faults::{FaultControl, Faults, FaultsConfig, Outcome};
use service_kit::{AppError, ConfigError, Json, ServerConfig, Service};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("user-service", 5001);

/// The service's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `FAULTS__*`: start-up overrides of the simulated faults (none by default).
    pub faults: FaultsConfig,
}

/// A user as the seed answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// The user's name.
    pub name: &'static str,
}

/// The seed's users.
pub const USERS: [User; 2] = [
    User {
        id: 1,
        name: "John Doe",
    },
    User {
        id: 2,
        name: "Jane Doe",
    },
];

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid `FAULTS__*` setting, naming its variable.
pub fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let control = Arc::new(FaultControl::from_config(
        Faults::<()>::none(),
        &config.faults,
    )?);
    let api = Router::new()
        .route("/", get(async || "User Service is running!"))
        .route("/users", get(async || Json(USERS)))
        .route("/users/{id}", get(find))
        .with_state(Arc::clone(&control));
    Ok(service_kit::faults::backend(server, control, "User", api))
}

async fn find(
    State(control): State<Arc<FaultControl<()>>>,
    Path(id): Path<String>,
) -> Result<Json<User>, AppError> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::bad_request("User id must be an integer"))?;
    if control.check().await.outcome != Outcome::Pass {
        return Err(AppError::internal("User service error"));
    }
    USERS
        .iter()
        .find(|user| user.id == id)
        .map(|user| Json(*user))
        .ok_or_else(|| AppError::not_found("User not found"))
}
