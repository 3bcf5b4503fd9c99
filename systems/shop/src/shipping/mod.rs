//! The shipping-service (port 3003): ships an order once, through a simulated provider behind
//! the breaker `shipping-provider`, rate limited per client IP.
//!
//! # Routes
//!
//! Every `/api/shipping*` request counts against its client's budget of
//! `RATE_LIMIT_PER_MINUTE` (shared by every replica in Redis, limit `shipping`); the client is
//! the peer, or the last `X-Forwarded-For` address when the peer is in `TRUSTED_PROXIES`.
//! Answers carry `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`; over the
//! budget: 429 `{"error":"Too many requests from this IP, please try again after a minute","retry_after_ms":N}`
//! with `Retry-After`.
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/shipping` | `{orderId, address, items}`: 201 `{orderId, address, items, status:"PROCESSING", createdAt, trackingNumber, estimatedDelivery, carrier}`: from the provider `TRK<ms>`, today (UTC) + 3 days as `YYYY-MM-DD`, `Express Shipping`; when it failed, timed out or its circuit is open, `PENDING-<ms>`, `Pending`, `Pending`. The same orderId again: 200 with the shipment as it is now, the provider not called (concurrent requests wait for the one call) |
//! | | 400 `{"error":"Order ID, address, and items are required"}` unless `orderId` is a non-empty string, `address` a non-empty string or object and `items` a non-empty array (also for a body that is not an object); malformed JSON 400, no JSON `Content-Type` 415, over `MAX_BODY_BYTES` 413; nothing is stored then |
//! | `GET /api/shipping/{orderId}` | 200 the shipment, 404 `{"error":"Shipment not found"}` |
//! | `PUT /api/shipping/{orderId}/status` | `{status}`: 400 `{"error":"Status is required"}` (missing, null or empty), then 404, then 400 `{"error":"Invalid status","validStatuses":[...]}` unless one of [`VALID_STATUSES`]; 200 the shipment with the new `status` and `updatedAt` |
//! | `GET`, `PUT`, `DELETE /faults` | the simulated provider's faults ([`service_kit::faults`]); `down: true` makes `/api/*` answer 503 `{"error":"Shipping service is down"}` (before the rate limit) |
//! | `GET /health` | 200 `{"status":"UP"|"DOWN","service":"shipping-service","instance":ID}` |
//! | `GET /metrics` | Prometheus |
//!
//! The provider fails `failure_rate` of the calls at once; a call that succeeds answers after
//! `delay_ms`. A failure or a call over `PROVIDER_TIMEOUT` counts as a failure of the breaker.
//! The last `MAX_SHIPMENTS` shipments are kept (the oldest forgotten).
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where the breaker and the rate limit live |
//! | `BREAKER__*` | opossum's policy open 10 s ([`crate::common::opossum_settings`]); any `breaker_redis::Settings` field |
//! | `PROVIDER_TIMEOUT` | 3s |
//! | `RATE_LIMIT_PER_MINUTE` | 10 |
//! | `TRUSTED_PROXIES` | `loopback` (see [`TrustedProxies`]) |
//! | `MAX_SHIPMENTS` | [`MAX_SHIPMENTS`] |
//! | `FAULTS__FAILURE_RATE`, `FAULTS__DELAY_MS`, `FAULTS__DOWN`, `FAULTS__SEED` | 0.25, 800, false, unset |
//! | `PORT` | 3003 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`].
//! - `routes`: the handlers, the requests' validation, the store.
//! - `provider`: the simulated provider behind the breaker, and its fallback.

mod provider;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use serde::Deserialize;
use service_kit::faults::{FaultControl, Faults, FaultsConfig};
use service_kit::{ConfigError, ServerConfig, Service};

use crate::common::{self, IpRateLimit, Overrides, TrustedProxies};

pub use routes::VALID_STATUSES;

/// The service's name and default port.
pub const SERVICE: Service = Service::new("shipping-service", 3003);

/// The breaker around the simulated provider.
pub const BREAKER: &str = "shipping-provider";

/// The rate limit's name in Redis.
pub const RATE_LIMIT: &str = "shipping";

/// How many shipments are kept by default (`MAX_SHIPMENTS`).
pub const MAX_SHIPMENTS: usize = 10_000;

/// How long `shipping-provider` stays open, as the seed's opossum did.
const OPEN_FOR: Duration = Duration::from_secs(10);

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `BREAKER__*`, over opossum's policy.
    pub breaker: Overrides,
    /// `PROVIDER_TIMEOUT`: the provider's time limit.
    #[serde(with = "humantime_serde")]
    pub provider_timeout: Duration,
    /// `RATE_LIMIT_PER_MINUTE`: requests per client IP.
    pub rate_limit_per_minute: u32,
    /// `TRUSTED_PROXIES`: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// `MAX_SHIPMENTS`: shipments kept.
    pub max_shipments: usize,
    /// `FAULTS__*`: start-up overrides of the provider's faults.
    pub faults: FaultsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            breaker: Overrides::default(),
            provider_timeout: Duration::from_secs(3),
            rate_limit_per_minute: 10,
            trusted_proxies: TrustedProxies::loopback(),
            max_shipments: MAX_SHIPMENTS,
            faults: FaultsConfig::default(),
        }
    }
}

/// The provider's faults in code: a quarter of the calls fail, the rest take 800 ms.
pub fn default_faults() -> Faults {
    Faults {
        failure_rate: 0.25,
        delay_ms: 800,
        ..Faults::none()
    }
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    common::nonzero("PROVIDER_TIMEOUT", config.provider_timeout)?;
    common::nonzero("MAX_SHIPMENTS", config.max_shipments)?;
    let store = common::connect_with(&config.redis_url, &server.redis).await?;
    let limit = IpRateLimit::new(
        RATE_LIMIT,
        config.rate_limit_per_minute,
        Some(store.clone()),
        config.trusted_proxies.clone(),
        "RATE_LIMIT_PER_MINUTE",
    )?;
    let timeout = config.provider_timeout;
    let breaker =
        common::dependency_breaker(BREAKER, &config.breaker, OPEN_FOR, timeout, store, server)?;
    let control = Arc::new(FaultControl::from_config(default_faults(), &config.faults)?);
    let provider = provider::Provider::new(breaker, Arc::clone(&control), config.provider_timeout);
    let api = routes::routes(provider, config.max_shipments).layer(middleware::from_fn_with_state(
        limit,
        IpRateLimit::middleware,
    ));
    Ok(common::backend(server, control, "Shipping", api))
}
