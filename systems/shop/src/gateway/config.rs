//! [`Config`]: the gateway's settings, and their validation into the values it runs with. Every
//! error names the variable to fix.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use service_kit::ConfigError;

use crate::common::{Overrides, TrustedProxies, opossum_config};

/// The gateway's settings (the server's own, `PORT`, `INSTANCE_ID`, `MAX_BODY_BYTES`, are
/// service-kit's). Not `deny_unknown_fields`: every variable of the process reaches this level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `PAYMENT_SERVICE_URL`, default `http://127.0.0.1:3001`.
    pub payment_service_url: String,
    /// `INVENTORY_SERVICE_URL`, default `http://127.0.0.1:3002`.
    pub inventory_service_url: String,
    /// `SHIPPING_SERVICE_URL`, default `http://127.0.0.1:3003`.
    pub shipping_service_url: String,
    /// `SERVICE_TIMEOUT`, default `3s`: one whole call to a service, body included.
    #[serde(with = "humantime_serde")]
    pub service_timeout: Duration,
    /// `BREAKER__*`: overrides of opossum's policy (open 30 s) for the three breakers, as
    /// given; see [`Config::breaker`].
    pub breaker: Overrides,
    /// `RATE_LIMIT_PER_MINUTE`, default 100: requests a minute per client IP.
    pub rate_limit_per_minute: u32,
    /// `TRUSTED_PROXIES`, default none: the gateway is the edge, its peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// `HEALTH_PROBE_TIMEOUT`, default `2s`: each service's `/health` probe.
    #[serde(with = "humantime_serde")]
    pub health_probe_timeout: Duration,
    /// `IDEMPOTENCY_TTL`, default `24h`: how long an order's answer is kept for its key.
    #[serde(with = "humantime_serde")]
    pub idempotency_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            payment_service_url: "http://127.0.0.1:3001".to_owned(),
            inventory_service_url: "http://127.0.0.1:3002".to_owned(),
            shipping_service_url: "http://127.0.0.1:3003".to_owned(),
            service_timeout: Duration::from_secs(3),
            breaker: Overrides::default(),
            rate_limit_per_minute: 100,
            trusted_proxies: TrustedProxies::none(),
            health_probe_timeout: Duration::from_secs(2),
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// How long the gateway's breakers stay open, as the seed's opossum did.
const OPEN_FOR: Duration = Duration::from_secs(30);

impl Config {
    /// The base URL of a service: `setting` names the variable in errors.
    ///
    /// # Errors
    ///
    /// Not an `http://` URL, or one with credentials, a query or a fragment.
    pub fn service_url(raw: &str, setting: &str) -> Result<Url, ConfigError> {
        service_kit::config::http_url(setting, raw)
    }

    /// `SERVICE_TIMEOUT`, checked.
    ///
    /// # Errors
    ///
    /// Shorter than a millisecond.
    pub fn call_timeout(&self) -> Result<Duration, ConfigError> {
        at_least_a_millisecond(self.service_timeout, "SERVICE_TIMEOUT")
    }

    /// `HEALTH_PROBE_TIMEOUT`, checked.
    ///
    /// # Errors
    ///
    /// Shorter than a millisecond.
    pub fn probe_timeout(&self) -> Result<Duration, ConfigError> {
        at_least_a_millisecond(self.health_probe_timeout, "HEALTH_PROBE_TIMEOUT")
    }

    /// `IDEMPOTENCY_TTL`, checked.
    ///
    /// # Errors
    ///
    /// Shorter than a second.
    pub fn idempotency_ttl(&self) -> Result<Duration, ConfigError> {
        if self.idempotency_ttl < Duration::from_secs(1) {
            return Err(ConfigError::invalid(
                "IDEMPOTENCY_TTL",
                "must be at least 1s",
            ));
        }
        Ok(self.idempotency_ttl)
    }

    /// The three breakers' configuration: opossum's policy open 30 s, with the `BREAKER__*`
    /// values given, the lease at least `SERVICE_TIMEOUT` + 1 s.
    ///
    /// # Errors
    ///
    /// An unknown or invalid breaker setting, named as its variable.
    pub fn breaker(&self) -> Result<breaker_redis::Config, ConfigError> {
        opossum_config(&self.breaker, OPEN_FOR, self.call_timeout()?)
    }
}

fn at_least_a_millisecond(value: Duration, setting: &str) -> Result<Duration, ConfigError> {
    if value < Duration::from_millis(1) {
        return Err(ConfigError::invalid(setting, "must be at least 1ms"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{breaker_config, opossum_settings};

    #[test]
    fn the_default_breaker_is_opossums_open_for_30_seconds() {
        let expected = breaker_config(
            &opossum_settings(Duration::from_secs(30)),
            Duration::from_secs(3),
            "BREAKER",
        )
        .expect("valid");
        let config = Config::default().breaker().expect("valid");
        assert_eq!(format!("{config:?}"), format!("{expected:?}"));
    }

    #[test]
    fn one_breaker_variable_keeps_the_rest_of_the_policy() {
        let config = Config {
            breaker: Overrides::from_pairs([("timeout", "1s")]),
            ..Config::default()
        };
        let built = config.breaker().expect("valid");
        assert_eq!(built.open_timeout(), Duration::from_secs(1));
        assert_eq!(built.max_requests(), 1);
        assert_eq!(built.window().length(), Duration::from_secs(10));
    }

    #[test]
    fn a_bad_breaker_variable_is_named() {
        for (key, value, variable) in [
            ("max_requests", "0", "BREAKER__MAX_REQUESTS"),
            ("timeout", "soon", "BREAKER__TIMEOUT"),
        ] {
            let config = Config {
                breaker: Overrides::from_pairs([(key, value)]),
                ..Config::default()
            };
            let err = config.breaker().expect_err(key).to_string();
            assert!(err.contains(variable), "{err}");
        }
    }

    #[test]
    fn only_plain_http_service_urls_are_accepted() {
        assert!(Config::service_url("http://payment:3001", "PAYMENT_SERVICE_URL").is_ok());
        for bad in ["https://p", "p:3001", "", "http://u:p@p", "http://p/?x=1"] {
            let err = Config::service_url(bad, "PAYMENT_SERVICE_URL").expect_err(bad);
            assert!(
                err.to_string().contains("PAYMENT_SERVICE_URL"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn durations_are_checked() {
        let config = Config {
            service_timeout: Duration::ZERO,
            health_probe_timeout: Duration::ZERO,
            idempotency_ttl: Duration::from_millis(10),
            ..Config::default()
        };
        assert!(config.call_timeout().is_err());
        assert!(config.probe_timeout().is_err());
        assert!(config.idempotency_ttl().is_err());
    }
}
