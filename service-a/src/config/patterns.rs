//! The resilience settings (`RETRY__*`, `RATE_LIMIT__*`, `BULKHEAD__*`, `FALLBACK`,
//! `FALLBACK_TTL`) and their validation into the `resilience` crate's values. The sections are
//! that crate's settings types, which leave every pattern off until a value turns it on, so
//! the plain demo still shows B's failures.

use std::time::Duration;

use resilience::bulkhead::Bulkhead;
use resilience::rate_limit::RateLimitConfig;
use resilience::retry::RetryPolicy;
use serde::Deserialize;
use service_kit::ConfigError;

use super::Config;

/// `FALLBACK`: what answers when the circuit rejects a call or B fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackMode {
    /// The error itself (the default).
    #[default]
    None,
    /// B's last good answer, shared by every replica through Redis, while one is remembered.
    LastGood,
}

/// The default `FALLBACK_TTL`: how long a good answer of B may be served in its place.
pub(super) const DEFAULT_FALLBACK_TTL: Duration = Duration::from_secs(300);

impl Config {
    /// The retry policy; one attempt unless `RETRY__MAX_ATTEMPTS` says otherwise.
    ///
    /// # Errors
    ///
    /// An invalid `RETRY__*` value, named as its variable.
    pub fn retry_policy(&self) -> Result<RetryPolicy, ConfigError> {
        self.retry
            .build()
            .map_err(|e| section_error("RETRY", e.setting, e.reason))
    }

    /// The per-client rate limit, `None` (off) unless `RATE_LIMIT__PER_SECOND` (or
    /// `RATE_LIMIT__RATE`) is set and not 0.
    ///
    /// # Errors
    ///
    /// An invalid `RATE_LIMIT__*` value, named as its variable.
    pub fn rate_limit_config(&self) -> Result<Option<RateLimitConfig>, ConfigError> {
        self.rate_limit
            .build_if_set()
            .map_err(|e| section_error("RATE_LIMIT", e.setting, e.reason))
    }

    /// The bulkhead `name`, `None` (off) unless `BULKHEAD__MAX_CONCURRENT` is set and not 0.
    ///
    /// # Errors
    ///
    /// An invalid `BULKHEAD__*` value, named as its variable.
    pub fn bulkhead(&self, name: &str) -> Result<Option<Bulkhead>, ConfigError> {
        self.bulkhead
            .build(name)
            .map_err(|e| section_error("BULKHEAD", e.setting, e.reason))
    }

    /// `FALLBACK_TTL`, checked whatever `FALLBACK` says (so that turning the fallback on never
    /// reveals a bad value).
    ///
    /// # Errors
    ///
    /// Shorter than a millisecond.
    pub fn fallback_ttl(&self) -> Result<Duration, ConfigError> {
        if self.fallback_ttl < Duration::from_millis(1) {
            return Err(ConfigError::invalid("FALLBACK_TTL", "must be at least 1ms"));
        }
        Ok(self.fallback_ttl)
    }
}

/// Names a setting of `section` by its variable (`max_attempts` -> `RETRY__MAX_ATTEMPTS`).
fn section_error(section: &str, setting: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::invalid(format!("{section}__{}", setting.to_uppercase()), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_is_off_by_default() {
        let config = Config::default();
        assert_eq!(config.retry_policy().expect("valid").max_attempts(), 1);
        assert_eq!(config.rate_limit_config().expect("valid"), None);
        assert!(config.bulkhead("b").expect("valid").is_none());
        assert_eq!(config.fallback, FallbackMode::None);
        assert_eq!(config.fallback_ttl().expect("valid"), DEFAULT_FALLBACK_TTL);
    }

    #[test]
    fn a_zero_rate_is_off_whatever_the_burst() {
        let mut config = Config::default();
        config.rate_limit.per_second = Some(0);
        config.rate_limit.burst = Some(5);
        assert_eq!(config.rate_limit_config().expect("valid"), None);
        config.rate_limit.per_second = Some(2);
        let quota = config
            .rate_limit_config()
            .expect("valid")
            .expect("on")
            .quota();
        assert_eq!((quota.count(), quota.burst()), (2, 5));
    }

    #[test]
    fn library_errors_are_named_by_their_variable() {
        let mut config = Config::default();
        config.retry.base_delay = Duration::from_secs(5);
        let err = config.retry_policy().expect_err("above max_delay");
        assert!(
            err.to_string()
                .starts_with("invalid value for RETRY__BASE_DELAY: "),
            "{err}"
        );
        config.rate_limit.per_second = Some(3);
        config.rate_limit.burst = Some(0);
        let err = config.rate_limit_config().expect_err("zero burst");
        assert!(
            err.to_string()
                .starts_with("invalid value for RATE_LIMIT__BURST: "),
            "{err}"
        );
    }
}
