//! [`Config`]: Service A's own settings, and their validation into the values the service runs
//! with. Every error names the variable to fix. `patterns` has the settings of the patterns
//! around the breaker (retry, rate limit, bulkhead, fallback).

mod patterns;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use service_kit::ConfigError;

pub use self::patterns::FallbackMode;

/// Service A's settings (the server's own, `PORT` and `INSTANCE_ID`, are service-kit's).
///
/// Not `deny_unknown_fields`: every variable of the process reaches this level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    pub redis_url: String,
    /// `SERVICE_B_URL`, default `http://127.0.0.1:8081`; `/hello` is appended to its path.
    pub service_b_url: String,
    /// `ADMIN_TOKEN`; unset or empty turns the admin endpoints off (they answer 404).
    pub admin_token: Option<String>,
    /// `ADMIN_TOKEN_FILE`: instead of `ADMIN_TOKEN`, a file holding the token.
    pub admin_token_file: Option<PathBuf>,
    /// `ADMIN_FAILURES__*`: failed admin attempts allowed per client.
    pub admin_failures: service_kit::admin::FailureSettings,
    /// `SERVICE_B_TIMEOUT`, default `2s`: the whole call to B, body included.
    #[serde(with = "humantime_serde")]
    pub service_b_timeout: Duration,
    /// `BREAKER__*`: the shared breaker's settings.
    pub breaker: breaker_redis::Settings,
    /// `BREAKER_BACKEND`, default `redis`: where the breaker's state lives, or no breaker.
    pub breaker_backend: Backend,
    /// `RETRY__*`: retries around the breaker (default: one attempt, no retry).
    pub retry: resilience::RetrySettings,
    /// `RATE_LIMIT__*`: a limit per client IP shared by every replica (default: off; on when
    /// `RATE_LIMIT__PER_SECOND` or `RATE_LIMIT__RATE` is set and not 0).
    pub rate_limit: resilience::RateLimitSettings,
    /// `BULKHEAD__*`: calls in flight at once per replica (default: no limit).
    pub bulkhead: resilience::BulkheadSettings,
    /// `FALLBACK`, default `none`: `last-good` answers a rejected or failed call with B's last
    /// good answer.
    pub fallback: FallbackMode,
    /// `FALLBACK_TTL`, default `5m`: how long a good answer may be served in B's place.
    #[serde(with = "humantime_serde")]
    pub fallback_ttl: Duration,
}

/// Where the breaker's state lives (`BREAKER_BACKEND`). Only `redis` shares one circuit
/// between replicas; the others exist to measure what sharing costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The circuit shared in Redis (the default).
    #[default]
    Redis,
    /// A breaker of the same configuration in this process only ([`breaker_redis::MemoryStore`]).
    Memory,
    /// No breaker: every request calls B.
    None,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            service_b_url: "http://127.0.0.1:8081".to_owned(),
            admin_token: None,
            admin_token_file: None,
            admin_failures: service_kit::admin::FailureSettings::default(),
            service_b_timeout: Duration::from_secs(2),
            breaker: breaker_redis::Settings::default(),
            breaker_backend: Backend::default(),
            retry: resilience::RetrySettings::default(),
            rate_limit: resilience::RateLimitSettings::default(),
            bulkhead: resilience::BulkheadSettings::default(),
            fallback: FallbackMode::default(),
            fallback_ttl: patterns::DEFAULT_FALLBACK_TTL,
        }
    }
}

impl Config {
    /// The URL Service A calls: `SERVICE_B_URL` with `/hello` appended to its path.
    ///
    /// # Errors
    ///
    /// Not an `http://` URL, or one with credentials, a query or a fragment.
    pub fn hello_url(&self) -> Result<Url, ConfigError> {
        let mut url = service_kit::config::http_url("SERVICE_B_URL", &self.service_b_url)?;
        let path = format!("{}/hello", url.path().trim_end_matches('/'));
        url.set_path(&path);
        Ok(url)
    }

    /// `SERVICE_B_TIMEOUT`, checked.
    ///
    /// # Errors
    ///
    /// Shorter than a millisecond.
    pub fn call_timeout(&self) -> Result<Duration, ConfigError> {
        if self.service_b_timeout < Duration::from_millis(1) {
            return Err(ConfigError::invalid(
                "SERVICE_B_TIMEOUT",
                "must be at least 1ms",
            ));
        }
        Ok(self.service_b_timeout)
    }

    /// The breaker's validated configuration. Unless `BREAKER__LEASE` was given, the lease is
    /// raised to at least `SERVICE_B_TIMEOUT` + 1 s, so that a trial call never outlives its
    /// half-open permit (which would let more than `max_requests` trial calls run at once).
    ///
    /// # Errors
    ///
    /// An invalid breaker setting, named as its variable (`BREAKER__MAX_REQUESTS`).
    pub fn breaker_config(&self) -> Result<breaker_redis::Config, ConfigError> {
        let timeout = self.call_timeout()?;
        let config = service_kit::breaker::breaker_config(&self.breaker, timeout, "BREAKER")?;
        if config.lease() < timeout {
            tracing::warn!(
                lease = ?config.lease(),
                timeout = ?timeout,
                "BREAKER__LEASE is shorter than SERVICE_B_TIMEOUT: a slow trial call can lose its \
                 permit and let more than max_requests trial calls run"
            );
        }
        Ok(config)
    }

    /// The admin settings, for [`service_kit::admin::AdminAuth::from_settings`] (which
    /// validates them).
    pub fn admin_settings(&self) -> service_kit::admin::AdminSettings {
        service_kit::admin::AdminSettings {
            admin_token: self.admin_token.clone(),
            admin_token_file: self.admin_token_file.clone(),
            admin_failures: self.admin_failures,
        }
    }

    /// `ADMIN_TOKEN`, `None` when unset or empty.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref().filter(|t| !t.is_empty())
    }
}

/// Names a breaker setting by its variable (`max_requests` -> `BREAKER__MAX_REQUESTS`).
pub(crate) fn breaker_error(e: breaker_redis::ConfigError) -> ConfigError {
    ConfigError::invalid(format!("BREAKER__{}", e.setting.to_uppercase()), e.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Config {
        Config {
            service_b_url: url.to_owned(),
            ..Config::default()
        }
    }

    #[test]
    fn hello_is_appended_to_the_path() {
        let cases = [
            ("http://b:8081", "http://b:8081/hello"),
            ("http://b:8081/", "http://b:8081/hello"),
            ("http://b/api/", "http://b/api/hello"),
        ];
        for (given, expected) in cases {
            let url = with_url(given).hello_url().expect("valid");
            assert_eq!(url.as_str(), expected);
        }
    }

    #[test]
    fn only_plain_http_urls_are_accepted() {
        for bad in [
            "ftp://x",
            "https://b",
            "b:8081",
            "",
            "http://u:p@b",
            "http://b/?x=1",
            "http://b#f",
        ] {
            let err = with_url(bad).hello_url().expect_err(bad);
            assert!(
                err.to_string()
                    .starts_with("invalid value for SERVICE_B_URL: "),
                "{err}"
            );
        }
    }

    #[test]
    fn policy_settings_are_named_by_their_variable() {
        let settings = breaker_redis::Settings {
            trip: breaker_redis::TripKind::ConsecutiveFailures,
            failures: 0,
            ..breaker_redis::Settings::default()
        };
        let err = breaker_error(settings.build().expect_err("zero failures"));
        assert_eq!(
            err.to_string(),
            "invalid value for BREAKER__FAILURES: must be at least 1"
        );
    }
}
