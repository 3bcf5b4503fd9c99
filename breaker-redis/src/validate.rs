//! The rules a [`Config`] and a breaker name must satisfy.

use std::time::Duration;

use crate::config::{Admission, Config, ConfigError, TripPolicy, Window};

/// Longest breaker name; keys and channel names embed it.
pub const MAX_NAME_LEN: usize = 128;
const MAX_BUCKETS: u32 = 1000;
/// Longest duration of any setting. Far beyond any sensible value, and it keeps every deadline
/// (now + a duration, in ms) exact in the scripts' doubles and far from overflowing `u64`.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// A breaker name: 1 to 128 characters from `A-Z a-z 0-9 . _ - :`. Braces would break the
/// Redis Cluster hash tag, and spaces make `redis-cli` use painful.
pub fn name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(ConfigError::new(
            "name",
            format!("must be 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-:".contains(*c)))
    {
        return Err(ConfigError::new(
            "name",
            format!("{name:?} contains {c:?}; use letters, digits, '.', '_', '-' and ':'"),
        ));
    }
    Ok(())
}

/// A duration from 1 ms to [`MAX_DURATION`].
fn positive(setting: &'static str, d: Duration) -> Result<(), ConfigError> {
    if d.as_millis() == 0 {
        return Err(ConfigError::new(setting, "must be at least 1ms"));
    }
    at_most_a_year(setting, d)
}

fn at_most_a_year(setting: &'static str, d: Duration) -> Result<(), ConfigError> {
    if d > MAX_DURATION {
        return Err(ConfigError::new(
            setting,
            format!("{d:?} is longer than the limit of one year (365 days)"),
        ));
    }
    Ok(())
}

fn non_zero(setting: &'static str, n: u32) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::new(setting, "must be at least 1"));
    }
    Ok(())
}

pub(crate) fn config(cfg: &Config) -> Result<(), ConfigError> {
    match cfg.trip {
        TripPolicy::ConsecutiveFailures(n) => non_zero("failures", n)?,
        TripPolicy::FailureCount(n) => non_zero("failures", n)?,
        TripPolicy::FailureRatio {
            ratio,
            min_requests,
            ..
        } => {
            if !(ratio > 0.0 && ratio <= 1.0) {
                return Err(ConfigError::new(
                    "failure_ratio",
                    format!("{ratio} is not in (0, 1]"),
                ));
            }
            non_zero("min_requests", min_requests)?;
        }
    }
    match cfg.window {
        Window::Fixed(interval) => positive("interval", interval)?,
        Window::Rolling { length, buckets } => {
            positive("rolling_window", length)?;
            if buckets == 0 || buckets > MAX_BUCKETS {
                return Err(ConfigError::new(
                    "buckets",
                    format!("must be 1 to {MAX_BUCKETS}"),
                ));
            }
            if length.as_millis() % u128::from(buckets) != 0 {
                return Err(ConfigError::new(
                    "buckets",
                    format!(
                        "{buckets} buckets do not divide the {}ms window evenly",
                        length.as_millis()
                    ),
                ));
            }
        }
    }
    non_zero("max_requests", cfg.max_requests)?;
    non_zero("success_threshold", cfg.success_threshold)?;
    positive("timeout", cfg.open_timeout)?;
    positive("lease", cfg.lease)?;
    positive("store_timeout", cfg.store_timeout)?;
    positive("retry_backoff", cfg.retry_backoff)?;
    if let Some(slow) = cfg.slow_call_threshold {
        positive("slow_call_threshold", slow)?;
    }
    if let Admission::Cached {
        flush_interval,
        max_batch,
        max_staleness,
    } = cfg.admission
    {
        positive("flush_interval", flush_interval)?;
        positive("max_staleness", max_staleness)?;
        if max_batch == 0 || max_batch > 10_000 {
            return Err(ConfigError::new("max_batch", "must be 1 to 10000"));
        }
    }
    at_most_a_year("key_ttl", cfg.key_ttl)?;
    let longest = cfg.open_timeout.max(cfg.window.length()).max(cfg.lease);
    if cfg.key_ttl <= longest {
        return Err(ConfigError::new(
            "key_ttl",
            format!("must be longer than the timeout, window and lease ({longest:?})"),
        ));
    }
    if cfg.key_prefix.is_empty()
        || cfg
            .key_prefix
            .chars()
            .any(|c| c.is_whitespace() || c == '{' || c == '}')
    {
        return Err(ConfigError::new(
            "key_prefix",
            "must be non-empty, without spaces or braces",
        ));
    }
    Ok(())
}
