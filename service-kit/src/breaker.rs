//! What a service needs to build its `breaker-redis` breakers from its settings: the Redis store
//! ([`connect`]) and a validated configuration whose half-open lease outlives a trial call
//! ([`breaker_config`]); errors name the variable to fix.

use std::time::Duration;

use breaker_redis::{RedisStore, RedisStoreOptions, Settings};

use crate::ConfigError;
use crate::config::RedisConfig;

/// A lease this much longer than the call's own time limit outlives any trial call.
pub const LEASE_MARGIN: Duration = Duration::from_secs(1);

/// Connects to `url` (lazily: a service starts while Redis is down, and its breakers and limits
/// protect locally until Redis answers), without TLS certificates: [`connect_with`] takes the
/// service's `REDIS_TLS_*` settings.
///
/// # Errors
///
/// The URL is invalid; the error names `REDIS_URL`.
pub async fn connect(url: &str) -> Result<RedisStore, ConfigError> {
    connect_with(url, &RedisConfig::default()).await
}

/// Connects to `url` (`REDIS_URL`) like [`connect`], over TLS with `redis`' certificates for a
/// `rediss://` URL.
///
/// # Errors
///
/// The URL is invalid, or refused with these settings (`#insecure` not allowed, certificates
/// for a `redis://` URL); the error names the variable.
pub async fn connect_with(url: &str, redis: &RedisConfig) -> Result<RedisStore, ConfigError> {
    let options = RedisStoreOptions {
        tls: redis.tls.clone(),
        ..RedisStoreOptions::default()
    };
    match RedisStore::connect_with(url, options).await {
        Ok(store) => Ok(store),
        Err(e) => Err(crate::config::redis_url_error("REDIS_URL", e)),
    }
}

/// `settings` validated, with the lease (unless given) at least `call_timeout` + 1 s so that a
/// trial call never outlives its half-open permit. `section` names the variables in errors
/// (`BREAKER` gives `BREAKER__TIMEOUT`).
///
/// # Errors
///
/// An invalid setting, named as its variable.
pub fn breaker_config(
    settings: &Settings,
    call_timeout: Duration,
    section: &str,
) -> Result<breaker_redis::Config, ConfigError> {
    let mut settings = settings.clone();
    let default = breaker_redis::Config::default().lease();
    settings
        .lease
        .get_or_insert(default.max(call_timeout + LEASE_MARGIN));
    settings.build().map_err(|e| {
        ConfigError::invalid(format!("{section}__{}", e.setting.to_uppercase()), e.reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlives_the_call_unless_given() {
        let long_call = Duration::from_secs(120);
        let config = breaker_config(&Settings::default(), long_call, "BREAKER").expect("valid");
        assert_eq!(config.lease(), long_call + LEASE_MARGIN);
        let given = Settings {
            lease: Some(Duration::from_secs(2)),
            ..Settings::default()
        };
        let config = breaker_config(&given, long_call, "BREAKER").expect("valid");
        assert_eq!(config.lease(), Duration::from_secs(2));
    }

    #[test]
    fn a_bad_setting_is_named_in_its_section() {
        let settings = Settings {
            max_requests: 0,
            ..Settings::default()
        };
        let err = breaker_config(&settings, Duration::from_secs(1), "USER_BREAKER")
            .expect_err("no trial call");
        assert!(
            err.to_string().contains("USER_BREAKER__MAX_REQUESTS"),
            "{err}"
        );
    }
}
