//! [`RateLimitSettings`]: a rate limiter's configuration as it appears in files and
//! environment variables.

use std::time::Duration;

use serde::Deserialize;

use super::config::{RateLimitConfig, RateLimitConfigBuilder};
use crate::ConfigError;

/// The serde form of a [`RateLimitConfig`], flat so that every value is one environment
/// variable. Give exactly one of `per_second = 10` or `rate = "100/1m"`. Durations read as
/// `"100ms"`, `"1s"`. Unknown fields are rejected; [`build`](Self::build) validates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Calls per second.
    pub per_second: Option<u32>,
    /// Calls per period, as `"<count>/<period>"`: `"100/1m"`, `"5/250ms"`.
    pub rate: Option<String>,
    /// Calls at once (default: the rate's count).
    pub burst: Option<u32>,
    /// Redis key prefix (default `rate-limit`).
    pub key_prefix: Option<String>,
    /// Longest wait for Redis on a check (default 100 ms).
    #[serde(with = "humantime_serde::option")]
    pub store_timeout: Option<Duration>,
    /// Time Redis is skipped after a failure (default 1 s).
    #[serde(with = "humantime_serde::option")]
    pub retry_backoff: Option<Duration>,
}

impl RateLimitSettings {
    /// Validates the settings into a [`RateLimitConfig`], or `None` (no rate limit) unless
    /// `rate` or a non-zero `per_second` is set: the other fields tune a limit without turning
    /// it on.
    pub fn build_if_set(&self) -> Result<Option<RateLimitConfig>, ConfigError> {
        if self.rate.is_none() && self.per_second.unwrap_or(0) == 0 {
            return Ok(None);
        }
        self.build().map(Some)
    }

    /// Validates the settings into a [`RateLimitConfig`]; a rate is required.
    pub fn build(&self) -> Result<RateLimitConfig, ConfigError> {
        let mut b = self.rate_builder()?;
        if let Some(burst) = self.burst {
            b = b.burst(burst);
        }
        if let Some(prefix) = &self.key_prefix {
            b = b.key_prefix(prefix.clone());
        }
        if let Some(timeout) = self.store_timeout {
            b = b.store_timeout(timeout);
        }
        if let Some(backoff) = self.retry_backoff {
            b = b.retry_backoff(backoff);
        }
        b.build()
    }

    fn rate_builder(&self) -> Result<RateLimitConfigBuilder, ConfigError> {
        let b = RateLimitConfig::builder();
        match (self.per_second, &self.rate) {
            (Some(n), None) => Ok(b.per_second(n)),
            (None, Some(rate)) => {
                let (n, period) = parse_rate(rate)?;
                Ok(b.rate(n, period))
            }
            _ => Err(ConfigError::new(
                "rate limit",
                "per_second",
                "give exactly one of per_second and rate",
            )),
        }
    }
}

fn parse_rate(rate: &str) -> Result<(u32, Duration), ConfigError> {
    let invalid = |why: String| ConfigError::new("rate limit", "rate", format!("{rate:?}: {why}"));
    let (count, period) = rate
        .split_once('/')
        .ok_or_else(|| invalid("expected \"<count>/<period>\", e.g. \"100/1m\"".into()))?;
    let count = count
        .trim()
        .parse()
        .map_err(|e| invalid(format!("count: {e}")))?;
    let period = humantime_serde::re::humantime::parse_duration(period.trim())
        .map_err(|e| invalid(format!("period: {e}")))?;
    Ok((count, period))
}
