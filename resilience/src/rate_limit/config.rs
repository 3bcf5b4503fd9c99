//! [`RateLimitConfig`]: a validated quota plus how to reach Redis.

use std::time::Duration;

use crate::ConfigError;

/// Longest period of a quota.
const MAX_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);
/// Most cells per period, and most burst. Together with [`MAX_PERIOD`] this keeps the script's
/// sums (at most `burst * period_ms` units of `1/count` ms) exact in Lua's doubles (< 2^53).
const MAX_CELLS: u32 = 1_000_000;

/// How many calls a client may make: `count` per `period`, of which up to `burst` at once.
///
/// In GCRA terms one call is let through every `period / count` (the emission interval `T`),
/// with a tolerance of `(burst - 1) * T`. Within any span of `d` ms at most
/// `burst + floor(d * count / period)` calls are admitted, and a client that waited a full
/// burst window gets exactly that many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    count: u32,
    period_ms: u64,
    burst: u32,
}

impl Quota {
    /// Calls per period.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The period `count` calls are spread over.
    pub fn period(&self) -> Duration {
        Duration::from_millis(self.period_ms)
    }

    /// Calls that may be made at once, after a quiet burst window.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The time an empty bucket takes to fill: `burst * period / count`.
    pub fn burst_window(&self) -> Duration {
        let ms = (u64::from(self.burst) * self.period_ms).div_ceil(u64::from(self.count));
        Duration::from_millis(ms)
    }

    pub(crate) fn period_ms(&self) -> u64 {
        self.period_ms
    }
}

/// A rate limiter's validated configuration. Made by [`RateLimitConfig::builder`] or
/// [`RateLimitSettings::build`](super::RateLimitSettings::build).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub(crate) quota: Quota,
    pub(crate) key_prefix: String,
    pub(crate) store_timeout: Duration,
    pub(crate) retry_backoff: Duration,
}

impl RateLimitConfig {
    /// A builder with no rate yet (one of [`per_second`](RateLimitConfigBuilder::per_second)
    /// or [`rate`](RateLimitConfigBuilder::rate) is required), burst = the rate's count, key
    /// prefix `rate-limit`, store timeout 100 ms, back-off 1 s.
    pub fn builder() -> RateLimitConfigBuilder {
        RateLimitConfigBuilder {
            count: 0,
            period: Duration::from_secs(1),
            rate_setting: "per_second",
            burst: None,
            key_prefix: "rate-limit".to_owned(),
            store_timeout: Duration::from_millis(100),
            retry_backoff: Duration::from_secs(1),
        }
    }

    /// The quota.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The first part of every Redis key.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The longest a check waits for Redis before the local limiter decides.
    pub fn store_timeout(&self) -> Duration {
        self.store_timeout
    }

    /// How long Redis is left alone after it failed, before one check tries it again.
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }
}

/// Builds a [`RateLimitConfig`]; [`build`](Self::build) validates.
#[derive(Debug, Clone)]
pub struct RateLimitConfigBuilder {
    count: u32,
    period: Duration,
    /// The setting the rate came from, for error messages.
    rate_setting: &'static str,
    burst: Option<u32>,
    key_prefix: String,
    store_timeout: Duration,
    retry_backoff: Duration,
}

impl RateLimitConfigBuilder {
    /// `n` calls per second.
    pub fn per_second(mut self, n: u32) -> Self {
        self.count = n;
        self.period = Duration::from_secs(1);
        self.rate_setting = "per_second";
        self
    }

    /// `n` calls per `period` (a whole number of milliseconds, at most one day).
    pub fn rate(mut self, n: u32, period: Duration) -> Self {
        self.count = n;
        self.period = period;
        self.rate_setting = "rate";
        self
    }

    /// Calls that may be made at once (default: the rate's count).
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// The first part of every key, `<prefix>:{<limiter>:<client>}` (default `rate-limit`).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The longest a check waits for Redis (default 100 ms).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Time Redis is skipped after a failure (default 1 s).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Checks every value.
    pub fn build(self) -> Result<RateLimitConfig, ConfigError> {
        let quota = self.quota()?;
        super::key::check_prefix("rate limit", &self.key_prefix)?;
        positive("store_timeout", self.store_timeout)?;
        positive("retry_backoff", self.retry_backoff)?;
        Ok(RateLimitConfig {
            quota,
            key_prefix: self.key_prefix,
            store_timeout: self.store_timeout,
            retry_backoff: self.retry_backoff,
        })
    }

    fn quota(&self) -> Result<Quota, ConfigError> {
        cells(self.rate_setting, self.count)?;
        let period_ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX);
        if period_ms == 0
            || self.period > MAX_PERIOD
            || !self.period.subsec_nanos().is_multiple_of(1_000_000)
        {
            return Err(ConfigError::new(
                "rate limit",
                self.rate_setting,
                format!(
                    "the period {:?} is not a whole number of milliseconds from 1ms to 24h",
                    self.period
                ),
            ));
        }
        let burst = self.burst.unwrap_or(self.count);
        cells("burst", burst)?;
        Ok(Quota {
            count: self.count,
            period_ms,
            burst,
        })
    }
}

fn cells(setting: &'static str, n: u32) -> Result<(), ConfigError> {
    if n == 0 || n > MAX_CELLS {
        return Err(ConfigError::new(
            "rate limit",
            setting,
            format!("{n} is not from 1 to {MAX_CELLS}"),
        ));
    }
    Ok(())
}

fn positive(setting: &'static str, d: Duration) -> Result<(), ConfigError> {
    if d.as_millis() == 0 {
        return Err(ConfigError::new(
            "rate limit",
            setting,
            "must be at least 1ms",
        ));
    }
    Ok(())
}
