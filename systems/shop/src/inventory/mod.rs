//! The inventory-service (port 3002): the stock, in memory, behind a simulated database that
//! is slow and fails, with retries and a time limit.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/inventory` | 200 `[{id, name, quantity, price}]`; the database takes a random 0 to `list_max_delay_ms` (plus `delay_ms`) under a `LIST_TIMEOUT` limit: 504 `{"error":"Inventory service timed out"}`; a simulated failure (`failure_rate`; not retried): 500 `{"error":"Failed to fetch inventory","message":...}` |
//! | `GET /api/inventory/{productId}` | 200 the product; 404 `{"error":"Product not found"}` (not retried); lookups fail `product_failure_rate` of the attempts and are retried; 500 `{"error":"Failed to fetch product","message":...}` when the retries run out |
//! | `POST /api/inventory/check` | `{items:[{productId, quantity}]}`: 200 `{available, items:[{productId, name, requested, available, inStock, price}]}`, an unknown product's line `{productId, available:false, message:"Product not found"}`; 400 `{"error":"Items array is required"}` (missing, not an array, empty) or `{"error":"Product ID and quantity are required for each item"}` (`quantity` a positive integer); 500 `{"error":"Failed to check inventory","message":...}` when the retries run out |
//! | `POST /api/inventory/update` | `{orderId, items}`: takes the stock atomically, all lines or none, once per orderId: 200 `{orderId, timestamp, updatedItems:[{productId, name, quantityReduced, newQuantity}]}`, a replay of the orderId its first answer (200, whatever its items); 409 `{"error":"Insufficient stock","details":[{productId, name, requested, available}]}` (an unknown product's detail as in the check), nothing taken; 400 `{"error":"Items array and order ID are required"}` or the line error above; updates fail `update_failure_rate` of the attempts before taking anything and are retried; 500 `{"error":"Failed to update inventory","message":...}` when the retries run out |
//! | `GET`, `PUT`, `DELETE /faults` | the database's faults: `product_failure_rate`, `update_failure_rate`, `list_max_delay_ms`, then the generic ones ([`service_kit::faults`]); `down: true` makes `/api/*` answer 503 `{"error":"Inventory service is down"}` |
//! | `GET /health` | 200 `{"status":"UP"|"DOWN","service":"inventory-service","instance":ID}` |
//! | `GET /metrics` | Prometheus, with `inventory_db_attempts_total{operation, result}` |
//!
//! Bad bodies (malformed JSON 400, no JSON `Content-Type` 415, over `MAX_BODY_BYTES` 413) change
//! nothing. The generic `failure_rate` and `delay_ms` apply to every database access (list,
//! lookup, check, update) on top of the access's own. Retries: 3 after the first attempt,
//! exponential back-off with full jitter, ceilings from 1 s to 3 s. The last `MAX_ORDERS`
//! applied orders are remembered for replays.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `PRODUCT_FAILURE_RATE`, `UPDATE_FAILURE_RATE` | 0.3, 0.2 |
//! | `LIST_MAX_DELAY_MS` | 3000 (at most 60000) |
//! | `LIST_TIMEOUT` | 2s |
//! | `RETRY__*` | `max_attempts` 4, `base_delay` 1s, `max_delay` 3s, `multiplier` 2; any `resilience::RetrySettings` field |
//! | `MAX_ORDERS` | 10000 |
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | 0.0, 0, false, unset (the seed also seeds the database's own draws) |
//! | `PORT` | 3002 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`].
//! - `database`: the simulated database, its own faults ([`DbFaults`]).
//! - `stock`: the products and the applied orders, checked and taken under one lock.
//! - `routes`: the handlers and the requests' validation.

mod database;
mod routes;
mod stock;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use resilience::{Retry, RetrySettings};
use serde::Deserialize;
use service_kit::faults::{Extra, FaultControl, FaultsConfig, InvalidFaults};
use service_kit::{ConfigError, ServerConfig, Service};

use crate::common::{self, Overrides};

pub use database::{DbFaults, DbFaultsUpdate, Faults};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("inventory-service", 3002);

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `PRODUCT_FAILURE_RATE`: the start-up `product_failure_rate`.
    pub product_failure_rate: f64,
    /// `UPDATE_FAILURE_RATE`: the start-up `update_failure_rate`.
    pub update_failure_rate: f64,
    /// `LIST_MAX_DELAY_MS`: the start-up `list_max_delay_ms`.
    pub list_max_delay_ms: u64,
    /// `LIST_TIMEOUT`: the list's time limit.
    #[serde(with = "humantime_serde")]
    pub list_timeout: Duration,
    /// `RETRY__*`, over the seed's retries.
    pub retry: Overrides,
    /// `MAX_ORDERS`: applied orders remembered.
    pub max_orders: usize,
    /// `FAULTS__*`: start-up overrides of the generic faults.
    pub faults: FaultsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            product_failure_rate: 0.3,
            update_failure_rate: 0.2,
            list_max_delay_ms: 3000,
            list_timeout: Duration::from_secs(2),
            retry: Overrides::default(),
            max_orders: 10_000,
            faults: FaultsConfig::default(),
        }
    }
}

/// The seed's retries (async-retry: 3 retries, 1 s to 3 s), as `RETRY__*` defaults.
fn retry_defaults() -> Vec<(&'static str, String)> {
    vec![
        ("max_attempts", "4".to_owned()),
        ("base_delay", "1s".to_owned()),
        ("max_delay", "3s".to_owned()),
        ("multiplier", "2".to_owned()),
    ]
}

impl Config {
    /// The database's start-up faults, checked.
    ///
    /// # Errors
    ///
    /// A value out of range, naming its variable.
    pub fn faults(&self) -> Result<Faults, ConfigError> {
        let zero = DbFaults {
            product_failure_rate: 0.0,
            update_failure_rate: 0.0,
            list_max_delay_ms: 0,
        };
        let given = DbFaultsUpdate {
            product_failure_rate: Some(self.product_failure_rate),
            update_failure_rate: Some(self.update_failure_rate),
            list_max_delay_ms: Some(self.list_max_delay_ms),
        };
        let extra = zero
            .updated(&given)
            .map_err(|InvalidFaults { field, reason }| {
                ConfigError::invalid(field.to_uppercase(), reason)
            })?;
        Ok(Faults::with_extra(extra))
    }

    /// The retry policy: the seed's, with `RETRY__*` over it.
    ///
    /// # Errors
    ///
    /// An invalid value, naming its variable.
    pub fn retry(&self) -> Result<Retry, ConfigError> {
        let settings: RetrySettings = self.retry.apply("RETRY", &retry_defaults())?;
        let policy = settings.build().map_err(|e| {
            ConfigError::invalid(format!("RETRY__{}", e.setting.to_uppercase()), e.reason)
        })?;
        Ok(Retry::new(policy))
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    common::nonzero("LIST_TIMEOUT", config.list_timeout)?;
    common::nonzero("MAX_ORDERS", config.max_orders)?;
    let retry = config.retry()?;
    let control = Arc::new(FaultControl::from_config(config.faults()?, &config.faults)?);
    let db = database::Database::new(Arc::clone(&control), config.faults.seed);
    let stock = stock::Stock::seed(config.max_orders);
    let shared = routes::Shared::new(db, stock, retry, config.list_timeout);
    Ok(common::backend(
        server,
        control,
        "Inventory",
        routes::routes(shared),
    ))
}
