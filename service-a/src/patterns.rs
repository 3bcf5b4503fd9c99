//! The patterns around the breaker, from the configuration: the rate limiter, the bulkhead,
//! the retry policy and the last good answer. Validated first ([`Plan::new`]), started once
//! the Redis store exists ([`Plan::start`]); `call::stack` puts them together.

use std::time::Duration;

use breaker_redis::RedisStore;
use resilience::bulkhead::Bulkhead;
use resilience::fallback::LastGood;
use resilience::rate_limit::{RateLimitConfig, RateLimiter};
use resilience::retry::RetryPolicy;
use service_kit::ConfigError;
use tracing::debug;

use crate::config::{Config, FallbackMode};
use crate::state::BREAKER_NAME;

/// The rate limiter's name: its Redis keys are `rate-limit:{call-service-b:<client IP or IPv6 /64>}`.
pub const RATE_LIMITER_NAME: &str = "call-service-b";

/// The patterns, validated but not started.
#[derive(Debug)]
pub(crate) struct Plan {
    retry: RetryPolicy,
    rate_limit: Option<RateLimitConfig>,
    bulkhead: Option<Bulkhead>,
    /// The last good answer's TTL with `FALLBACK=last-good`.
    last_good: Option<Duration>,
}

/// The patterns, running.
#[derive(Debug)]
pub(crate) struct Resilience {
    pub(crate) rate_limit: Option<RateLimiter>,
    pub(crate) bulkhead: Option<Bulkhead>,
    pub(crate) retry: RetryPolicy,
    pub(crate) last_good: Option<LastGood>,
}

impl Plan {
    /// Checks every `RETRY__*`, `RATE_LIMIT__*`, `BULKHEAD__*`, `FALLBACK*` value.
    pub(crate) fn new(config: &Config) -> Result<Self, ConfigError> {
        let ttl = config.fallback_ttl()?;
        Ok(Plan {
            retry: config.retry_policy()?,
            rate_limit: config.rate_limit_config()?,
            bulkhead: config.bulkhead(BREAKER_NAME)?,
            last_good: (config.fallback == FallbackMode::LastGood).then_some(ttl),
        })
    }

    /// Starts the patterns; the rate limits and the last good answer are shared through
    /// `store` (the breaker's Redis) when there is one, else kept in this process. The last
    /// good answer lives next to the breaker's keys (`breaker:{service-b}:last-good`) and
    /// waits for Redis as long as the breaker does.
    pub(crate) fn start(
        self,
        store: Option<&RedisStore>,
        breaker: &breaker_redis::Config,
    ) -> Result<Resilience, ConfigError> {
        let rate_limit = match self.rate_limit {
            Some(config) => Some(rate_limiter(config, store)?),
            None => None,
        };
        let last_good = match self.last_good {
            Some(ttl) => {
                let mut builder = LastGood::builder(BREAKER_NAME)
                    .ttl(ttl)
                    .key_prefix(breaker.key_prefix())
                    .store_timeout(breaker.store_timeout())
                    .retry_backoff(breaker.retry_backoff());
                if let Some(store) = store {
                    builder = builder.store(store);
                }
                Some(builder.build().map_err(last_good_error)?)
            }
            None => None,
        };
        Ok(Resilience {
            rate_limit,
            bulkhead: self.bulkhead,
            retry: self.retry,
            last_good,
        })
    }
}

fn rate_limiter(
    config: RateLimitConfig,
    store: Option<&RedisStore>,
) -> Result<RateLimiter, ConfigError> {
    let mut builder = RateLimiter::builder(RATE_LIMITER_NAME).config(config);
    if let Some(store) = store {
        builder = builder.store(store.clone());
    }
    let limiter = builder.build().map_err(|e| {
        ConfigError::invalid(
            format!("RATE_LIMIT__{}", e.setting.to_uppercase()),
            e.reason,
        )
    })?;
    if store.is_some() {
        // Off the start path: Redis may be down, and a missing script is loaded on first use.
        let preload = limiter.clone();
        tokio::spawn(async move {
            if let Err(error) = preload.load_script().await {
                debug!(%error, "could not preload the rate-limit script; will load it on first use");
            }
        });
    }
    Ok(limiter)
}

/// `ttl` is `FALLBACK_TTL`; the other settings are the breaker's.
fn last_good_error(e: resilience::ConfigError) -> ConfigError {
    match e.setting {
        "ttl" => ConfigError::invalid("FALLBACK_TTL", e.reason),
        setting => ConfigError::invalid(format!("BREAKER__{}", setting.to_uppercase()), e.reason),
    }
}
