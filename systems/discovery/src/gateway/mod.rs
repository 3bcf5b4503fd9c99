//! The API gateway (port 8000): finds the user and order instances through the discovery
//! server, calls one at random (another when one cannot be reached), and protects each service
//! with a breaker shared in Redis, answering the seed's fallback data while it fails.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /users` | 200 `{users, meta:{source, instance, timestamp}}`; `source` `"service-discovery + circuit-breaker"`, or `"fallback"` (Fallback User, Default User) while the user service fails or `user-service` is open |
//! | `GET /orders/user/{userId}` | 200 `{orders, meta:{userId, source, instance, timestamp}}` (fallback: Fallback Product orders of that user); 400 `{"error":"Invalid user ID"}` when not a positive integer |
//! | `GET /users-with-orders` | 200 `{users:[{...user, orders}], meta:{totalUsers, totalOrders, source, instance, timestamp}}`, the orders fetched in parallel; `source` is `fallback` when any part came from a fallback |
//! | `GET /health` | 200 `{service:"api-gateway", instance, status:"healthy"|"degraded", port, timestamp, serviceDiscovery:{status:"healthy"|"unhealthy", server:"connected"|"disconnected", error?}, cache:{<svc>:{servicesCount, cachedAt, expiresAt, isValid, timeToExpiry}}, breakers:{<name>:{state, generation, retryAfterMs}}}` |
//! | `GET /` | the dashboard (see [`crate::dashboard`]) |
//! | `GET /metrics` | Prometheus |
//!
//! `instance` is `api-gateway-<port>`; `cachedAt`, `expiresAt` and `timestamp` are ISO 8601,
//! `timeToExpiry` and `retryAfterMs` milliseconds. `status` is `degraded` while the discovery
//! server does not answer; a breaker whose Redis does not answer reads `unknown`. CORS allows
//! any origin. The gateway registers itself as `api-gateway`, like the instances.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `DISCOVERY_URL`, `SERVICE_HOST`, `HEARTBEAT_INTERVAL` | as [`crate::user`]'s |
//! | `CACHE_TTL` | 2 x `HEARTBEAT_INTERVAL`: how long a lookup is trusted |
//! | `REQUEST_TIMEOUT` | 5s: each call to an instance or the discovery server |
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where the breakers live |
//! | `USER_BREAKER__*`, `ORDER_BREAKER__*` | any `breaker_redis::Settings` field over the seed's policy (see `breakers`) |
//! | `PORT` | 8000 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`], [`start`].
//! - `breakers`: the two breakers' policy and overrides.
//! - `routes`: the API and its fallbacks.
//! - `health`: `/health`.

mod breakers;
mod health;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use breaker_redis::Breaker;
use serde::Deserialize;
use service_kit::{App, ConfigError, ServerConfig, Service, Stoppable};
use tower_http::cors::CorsLayer;

pub use breakers::{Given, ORDER_BREAKER, USER_BREAKER};
pub use routes::{FALLBACK, LIVE};

use crate::client::{self, Discovery};
use crate::common;

/// The service's name and default port.
pub const SERVICE: Service = Service::new("api-gateway", 8000);

/// The gateway's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `DISCOVERY_URL`.
    pub discovery_url: String,
    /// `SERVICE_HOST`.
    pub service_host: Option<String>,
    /// `HEARTBEAT_INTERVAL`: seconds.
    pub heartbeat_interval: f64,
    /// `CACHE_TTL`.
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Option<Duration>,
    /// `REQUEST_TIMEOUT`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `USER_BREAKER__*`.
    pub user_breaker: Given,
    /// `ORDER_BREAKER__*`.
    pub order_breaker: Given,
}

impl Default for Config {
    fn default() -> Self {
        let c = client::Settings::default();
        Self {
            discovery_url: c.discovery_url,
            service_host: c.service_host,
            heartbeat_interval: c.heartbeat_interval,
            cache_ttl: None,
            request_timeout: Duration::from_secs(5),
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            user_breaker: Given::new(),
            order_breaker: Given::new(),
        }
    }
}

impl Config {
    fn client(&self) -> client::Settings {
        client::Settings {
            discovery_url: self.discovery_url.clone(),
            service_host: self.service_host.clone(),
            heartbeat_interval: self.heartbeat_interval,
        }
    }
}

/// What the handlers share.
struct Shared {
    discovery: Discovery,
    user_breaker: Breaker,
    order_breaker: Breaker,
    instance: String,
    port: u16,
}

/// The complete service: its routes plus service-kit's standard ones and layers, and CORS
/// (without registering; see [`start`]).
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let settings = config.client();
    let registrant = settings.registrant(SERVICE.name, server)?;
    let timeout = config.request_timeout;
    if timeout.is_zero() {
        return Err(ConfigError::invalid("REQUEST_TIMEOUT", "must be above 0"));
    }
    let cache_ttl = config.cache_ttl.unwrap_or(settings.interval() * 2);
    let user = breakers::config("USER_BREAKER", &config.user_breaker, secs(30), timeout)?;
    let order = breakers::config("ORDER_BREAKER", &config.order_breaker, secs(10), timeout)?;
    let store = service_kit::breaker::connect_with(&config.redis_url, &server.redis).await?;
    let replica = &server.instance_id;
    let http = reqwest::Client::builder()
        .connect_timeout(timeout)
        .build()
        .map_err(|e| ConfigError::invalid("REQUEST_TIMEOUT", e))?;
    let shared = Arc::new(Shared {
        discovery: Discovery::new(&registrant.discovery_url, http, cache_ttl, timeout),
        user_breaker: breakers::build(USER_BREAKER, user, store.clone(), replica)?,
        order_breaker: breakers::build(ORDER_BREAKER, order, store, replica)?,
        instance: common::instance_name(&SERVICE, server),
        port: server.port,
    });
    let probe = Arc::clone(&shared);
    let app = App::new(server)
        .health_check(move || {
            let shared = Arc::clone(&probe);
            async move { health::fields(&shared).await }
        })
        .build(routes::routes(shared).merge(crate::dashboard::gateway()));
    Ok(app.layer(CorsLayer::very_permissive()))
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// [`router`], registered with the discovery server as `api-gateway` while it serves.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn start(config: &Config, server: &ServerConfig) -> Result<Stoppable, ConfigError> {
    let router = router(config, server).await?;
    common::registered(&SERVICE, &config.client(), server, router)
}
