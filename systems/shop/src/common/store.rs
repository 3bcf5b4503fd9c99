//! The Redis store a service's breakers and rate limits share.

use breaker_redis::RedisStore;
use service_kit::ConfigError;

/// Connects to `url` (lazily: a service starts while Redis is down, and its breakers and limits
/// protect locally until Redis answers).
///
/// # Errors
///
/// The URL is invalid; the error names `REDIS_URL`.
pub async fn connect(url: &str) -> Result<RedisStore, ConfigError> {
    RedisStore::connect(url)
        .await
        .map_err(|e| ConfigError::invalid("REDIS_URL", e))
}
