//! The order-service (port 5002): orders, each checked against the user service through the
//! breaker `user-service`.
//!
//! # Routes
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | 200 text `Order Service is running!` |
//! | `GET /orders` | 200 the orders `[{id,user_id,product}]`: the seed's two, then the created ones |
//! | `POST /create_order` | `{user_id, product}`: 201 `{id, user_id, product}` (ids from 3); 404 `{"error":"User not found"}`; 502 `{"error":"User service error"}` when the user service answered a 5xx; 503 `{"error":"User service unavailable"}` when it was unreachable, timed out or answered 503; 503 `{"error":"User service unavailable","message":"circuit open","retry_after_ms":N}` with `Retry-After` while the circuit is open |
//! | | 400 `{"error":"user_id must be an integer"}`, `{"error":"product must be a non-empty string"}`, malformed JSON 400, no JSON `Content-Type` 415, over `MAX_BODY_BYTES` 413; nothing is stored then |
//! | `GET /breaker` | 200 `{"name":"user-service","state":"closed"|"open"|"half-open","retry_after_ms":N,...}` (the shared state in Redis; 503 when Redis cannot be read) |
//! | `GET /health`, `GET /metrics` | service-kit's |
//!
//! One breaker call is one retried lookup: up to `RETRY__ATTEMPTS` attempts `RETRY__INTERVAL`
//! apart, each limited to `USER_TIMEOUT`. A 404 ends it and counts as a success. The breaker
//! opens after 3 consecutive failed calls, stays open 30 s, then admits one trial call. The
//! last [`MAX_ORDERS`] orders are kept.
//!
//! # Configuration
//!
//! | variable | default |
//! |---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:6379`: where `user-service` lives |
//! | `USER_SERVICE_URL` | `http://127.0.0.1:5001` |
//! | `BREAKER__*` | 3 consecutive failures (counted for an hour), open 30 s, one trial call ([`breaker_defaults`]); any `breaker_redis::Settings` field, e.g. `BREAKER__TIMEOUT=1s` |
//! | `RETRY__ATTEMPTS`, `RETRY__INTERVAL` | 3, 1s |
//! | `USER_TIMEOUT` | 2s |
//! | `MAX_ORDERS` | [`MAX_ORDERS`] |
//! | `PORT` | 5002 |
//! | `INSTANCE_ID`, `BIND_ADDR`, `MAX_BODY_BYTES`, `LOG_FORMAT`, `RUST_LOG`, `CONFIG_FILE` | see [`service_kit`] |
//!
//! # Layout
//!
//! - here: [`SERVICE`], [`Config`], [`router`].
//! - [`lookup`]: the retried lookup inside one breaker call.
//! - `routes`: the handlers, the request's validation, the bounded store.

pub mod lookup;
mod routes;

use std::time::Duration;

use axum::Router;
use breaker_redis::Breaker;
use reqwest::Url;
use serde::Deserialize;
use service_kit::Overrides;
use service_kit::breaker::{breaker_config, connect_with};
use service_kit::{App, ConfigError, ServerConfig, Service};

use lookup::UserLookup;

/// The service's name and default port.
pub const SERVICE: Service = Service::new("order-service", 5002);

/// The breaker around the user lookup.
pub const BREAKER: &str = "user-service";

/// How many orders are kept by default (`MAX_ORDERS`), the seed's two included.
pub const MAX_ORDERS: usize = 10_000;

/// The service's own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`.
    pub redis_url: String,
    /// `USER_SERVICE_URL`.
    pub user_service_url: String,
    /// `BREAKER__*`, over [`breaker_defaults`].
    pub breaker: Overrides,
    /// `RETRY__*`: the lookup's attempts.
    pub retry: RetryConfig,
    /// `USER_TIMEOUT`: the time limit of one attempt.
    #[serde(with = "humantime_serde")]
    pub user_timeout: Duration,
    /// `MAX_ORDERS`: orders kept.
    pub max_orders: usize,
}

/// `RETRY__*`: the attempts of one breaker call.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// `RETRY__ATTEMPTS`: attempts in all, the first included.
    pub attempts: u32,
    /// `RETRY__INTERVAL`: the pause between attempts.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            attempts: 3,
            interval: Duration::from_secs(1),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            user_service_url: "http://127.0.0.1:5001".to_owned(),
            breaker: Overrides::default(),
            retry: RetryConfig::default(),
            user_timeout: Duration::from_secs(2),
            max_orders: MAX_ORDERS,
        }
    }
}

/// The seed's pybreaker as settings: 3 consecutive failures open the circuit for 30 s, then
/// one trial call decides.
///
/// pybreaker's count of failures in a row ends only with a success, never with time; the
/// breaker's counts restart every `interval`, so that is an hour here: with the default 5 s, a
/// lookup that takes 2 s to fail would see its count restart before the third failure.
pub fn breaker_defaults() -> Vec<(&'static str, String)> {
    vec![
        ("trip", "consecutive_failures".to_owned()),
        ("failures", "3".to_owned()),
        ("interval", "1h".to_owned()),
        ("max_requests", "1".to_owned()),
        ("timeout", "30s".to_owned()),
    ]
}

/// The complete service: its routes plus service-kit's standard ones and layers.
///
/// # Errors
///
/// An invalid setting, naming its variable.
pub async fn router(config: &Config, server: &ServerConfig) -> Result<Router, ConfigError> {
    let lookup = lookup(config, server).await?;
    if config.max_orders < 2 {
        return Err(ConfigError::invalid(
            "MAX_ORDERS",
            "must be at least 2 (the seed's orders)",
        ));
    }
    let api = routes::routes(lookup, config.max_orders);
    Ok(App::new(server).build(api))
}

async fn lookup(config: &Config, server: &ServerConfig) -> Result<UserLookup, ConfigError> {
    let base = Url::parse(&config.user_service_url)
        .map_err(|e| ConfigError::invalid("USER_SERVICE_URL", e))?;
    if config.retry.attempts == 0 {
        return Err(ConfigError::invalid(
            "RETRY__ATTEMPTS",
            "must be at least 1",
        ));
    }
    if config.user_timeout.is_zero() {
        return Err(ConfigError::invalid("USER_TIMEOUT", "must be above 0"));
    }
    let (attempts, interval) = (config.retry.attempts, config.retry.interval);
    let longest = UserLookup::longest_call(attempts, interval, config.user_timeout);
    let settings = config.breaker.apply("BREAKER", &breaker_defaults())?;
    let breaker_config = breaker_config(&settings, longest, "BREAKER")?;
    let store = connect_with(&config.redis_url, &server.redis).await?;
    let breaker = Breaker::builder(BREAKER)
        .config(breaker_config)
        .store(store)
        .replica_id(server.instance_id.clone())
        .build()
        .map_err(|e| ConfigError::invalid("BREAKER", e))?;
    Ok(UserLookup::new(
        breaker,
        base,
        attempts,
        interval,
        config.user_timeout,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_are_not_forgotten_while_slow_lookups_fail() {
        let settings = Overrides::default()
            .apply("BREAKER", &breaker_defaults())
            .expect("valid");
        let longest = UserLookup::longest_call(3, Duration::from_secs(1), Duration::from_secs(2));
        let config = breaker_config(&settings, longest, "BREAKER").expect("valid");
        assert!(config.window().length() >= longest * 3 * 60, "{config:?}");
        assert_eq!(config.open_timeout(), Duration::from_secs(30));
        assert_eq!(config.max_requests(), 1);
        assert!(config.lease() > longest);
    }
}
