//! The payment-service (port 3001): charges an order once, through a simulated card processor
//! behind the breaker `payment-gateway`.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/payments` | `{orderId, amount, currency="USD", method="credit_card"}`: 201 `{orderId, amount, currency, method, timestamp, transactionId, status}`, `status` `success` (`txn_<ms>`) or, when the processor failed, timed out or its circuit is open, `pending` (`fallback_<ms>`). The same orderId again: 200 with the stored payment, never charged twice (concurrent requests for one orderId wait for the one charge). The same orderId with another amount or currency: 409 `{"error":"Order ID already used for a different payment"}` |
//! | | 400 `{"error":"Order ID and amount are required"}` without a non-empty string `orderId` or a positive number `amount` (also for a body that is not an object); 400 `{"error":"Currency and method must be non-empty strings"}`; malformed JSON 400, no JSON `Content-Type` 415, a body over `MAX_BODY_BYTES` 413 (service-kit's JSON errors); nothing is stored then |
//! | `GET /api/payments/{orderId}` | 200 the payment, 404 `{"error":"Payment not found"}` |
//! | `GET`, `PUT`, `DELETE /faults` | the simulated processor's faults ([`service_kit::faults`]); `down: true` makes `/api/*` answer 503 `{"error":"Payment service is down"}` |
//! | `GET /health` | 200 `{"status":"UP"|"DOWN","service":"payment-service","instance":ID}` (`DOWN` while `down`) |
//! | `GET /metrics` | Prometheus |
//!
//! The processor fails `failure_rate` of the calls at once; a call that succeeds answers after
//! `delay_ms`. A failure or a call over `PROCESSOR_TIMEOUT` counts as a failure of the breaker.
//! The last [`MAX_PAYMENTS`] payments are kept (the oldest forgotten).
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where `payment-gateway` lives |
//! | `BREAKER__*` | opossum's policy open 10 s ([`crate::common::opossum_settings`]); any `breaker_redis::Settings` field, e.g. `BREAKER__TIMEOUT=1s` |
//! | `PROCESSOR_TIMEOUT` | 3s |
//! | `MAX_PAYMENTS` | [`MAX_PAYMENTS`] |
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | 0.2, 500, false, unset |
//! | `PORT` | 3001 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`].
//! - `routes`: the handlers, the request's validation, the store.
//! - `processor`: the simulated processor behind the breaker, and its fallback.

mod processor;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde::Deserialize;
use service_kit::faults::{FaultControl, Faults, FaultsConfig};
use service_kit::{ConfigError, ServerConfig, Service};

use crate::common::{self, Overrides};

/// The service's name and default port.
pub const SERVICE: Service = Service::new("payment-service", 3001);

/// The breaker around the simulated card processor.
pub const BREAKER: &str = "payment-gateway";

/// How many payments are kept by default (`MAX_PAYMENTS`).
pub const MAX_PAYMENTS: usize = 10_000;

/// How long `payment-gateway` stays open, as the seed's opossum did.
const OPEN_FOR: Duration = Duration::from_secs(10);

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `BREAKER__*`, over opossum's policy.
    pub breaker: Overrides,
    /// `PROCESSOR_TIMEOUT`: the processor's time limit.
    #[serde(with = "humantime_serde")]
    pub processor_timeout: Duration,
    /// `MAX_PAYMENTS`: payments kept.
    pub max_payments: usize,
    /// `FAULTS__*`: start-up overrides of the processor's faults.
    pub faults: FaultsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            breaker: Overrides::default(),
            processor_timeout: Duration::from_secs(3),
            max_payments: MAX_PAYMENTS,
            faults: FaultsConfig::default(),
        }
    }
}

/// The processor's faults in code: a fifth of the calls fail, the rest take 500 ms.
pub fn default_faults() -> Faults {
    Faults {
        failure_rate: 0.2,
        delay_ms: 500,
        ..Faults::none()
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    common::nonzero("PROCESSOR_TIMEOUT", config.processor_timeout)?;
    common::nonzero("MAX_PAYMENTS", config.max_payments)?;
    let store = common::connect_with(&config.redis_url, &server.redis).await?;
    let timeout = config.processor_timeout;
    let breaker =
        common::dependency_breaker(BREAKER, &config.breaker, OPEN_FOR, timeout, store, server)?;
    let control = Arc::new(FaultControl::from_config(default_faults(), &config.faults)?);
    let processor =
        processor::Processor::new(breaker, Arc::clone(&control), config.processor_timeout);
    let api = routes::routes(processor, config.max_payments);
    Ok(common::backend(server, control, "Payment", api))
}
