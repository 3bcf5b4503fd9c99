//! [`Config`]: the dashboard's own settings, and their validation into [`Limits`]. Every error
//! names the variable to fix.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use service_kit::ConfigError;
use service_kit::admin::{AdminAuth, AdminSettings, FailureSettings};

/// The dashboard's settings (the server's own, `PORT`, `BIND_ADDR`, `INSTANCE_ID`, are
/// service-kit's).
///
/// Not `deny_unknown_fields`: every variable of the process reaches this level.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`: where the breakers live.
    pub redis_url: String,
    /// `ADMIN_TOKEN`; unset or empty turns the override routes off (they answer 404). At least
    /// 16 bytes (see [`service_kit::admin`]).
    pub admin_token: Option<String>,
    /// `ADMIN_TOKEN_FILE`: a file holding the token instead (e.g. a container secret).
    pub admin_token_file: Option<PathBuf>,
    /// `ADMIN_FAILURES__LIMIT`, `ADMIN_FAILURES__PERIOD`: failed override attempts a client may
    /// make per period before it is answered 429.
    pub admin_failures: FailureSettings,
    /// `KEY_PREFIX`, default `breaker`: the breakers' key prefix (`BREAKER__KEY_PREFIX` of the
    /// services).
    pub key_prefix: String,
    /// `REDIS_POOL_SIZE`, default 8: pooled connections at most.
    pub redis_pool_size: usize,
    /// `REDIS_TIMEOUT`, default `2s`: the longest wait for a pooled connection, for connecting,
    /// and for one answer.
    #[serde(with = "humantime_serde")]
    pub redis_timeout: Duration,
    /// `SSE_MAX_CLIENTS`, default 64: live feeds open at once; one more is answered 503.
    pub sse_max_clients: usize,
    /// `SSE_KEEP_ALIVE`, default `15s`: how often an idle feed sends a comment, so that
    /// proxies do not close it.
    #[serde(with = "humantime_serde")]
    pub sse_keep_alive: Duration,
    /// `MAX_BREAKERS`, default 1000: breakers listed (and followed by a feed of all breakers)
    /// at most.
    pub max_breakers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            admin_token: None,
            admin_token_file: None,
            admin_failures: FailureSettings::default(),
            key_prefix: "breaker".to_owned(),
            redis_pool_size: 8,
            redis_timeout: Duration::from_secs(2),
            sse_max_clients: 64,
            sse_keep_alive: Duration::from_secs(15),
            max_breakers: 1000,
        }
    }
}

/// The validated settings the dashboard runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Pooled connections at most.
    pub pool_size: usize,
    /// Longest wait for Redis.
    pub redis_timeout: Duration,
    /// Live feeds at once.
    pub sse_max_clients: usize,
    /// Keep-alive period of a live feed.
    pub sse_keep_alive: Duration,
    /// Breakers listed at most.
    pub max_breakers: usize,
}

/// The largest value accepted for the counts above: far beyond any sensible one, it keeps a
/// typo (`SSE_MAX_CLIENTS=1000000`) from becoming a resource sink.
const MAX_COUNT: usize = 100_000;

impl Config {
    /// The settings checked.
    ///
    /// # Errors
    ///
    /// A count of 0 or above 100000, a duration under 1 ms, an empty `KEY_PREFIX`.
    pub fn limits(&self) -> Result<Limits, ConfigError> {
        let count = |name: &str, n: usize| {
            if n == 0 || n > MAX_COUNT {
                return Err(ConfigError::invalid(
                    name,
                    format!("must be 1 to {MAX_COUNT}"),
                ));
            }
            Ok(n)
        };
        let duration = |name: &str, d: Duration| {
            if d < Duration::from_millis(1) {
                return Err(ConfigError::invalid(name, "must be at least 1ms"));
            }
            Ok(d)
        };
        if self.key_prefix.is_empty() || self.key_prefix.contains(['{', '}', ' ']) {
            return Err(ConfigError::invalid(
                "KEY_PREFIX",
                "must be non-empty, without braces or spaces",
            ));
        }
        Ok(Limits {
            pool_size: count("REDIS_POOL_SIZE", self.redis_pool_size)?,
            redis_timeout: duration("REDIS_TIMEOUT", self.redis_timeout)?,
            sse_max_clients: count("SSE_MAX_CLIENTS", self.sse_max_clients)?,
            sse_keep_alive: duration("SSE_KEEP_ALIVE", self.sse_keep_alive)?,
            max_breakers: count("MAX_BREAKERS", self.max_breakers)?,
        })
    }

    /// The override routes' authentication, from `ADMIN_TOKEN` or `ADMIN_TOKEN_FILE`.
    ///
    /// # Errors
    ///
    /// A token too short or with whitespace around it, both variables set, an unreadable file.
    pub fn admin_auth(&self) -> Result<AdminAuth, ConfigError> {
        AdminAuth::from_settings(&AdminSettings {
            admin_token: self.admin_token.clone(),
            admin_token_file: self.admin_token_file.clone(),
            admin_failures: self.admin_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        let limits = Config::default().limits().expect("valid");
        assert_eq!(limits.sse_max_clients, 64);
        assert_eq!(limits.pool_size, 8);
    }

    #[test]
    fn bad_values_are_named_by_their_variable() {
        let cases = [
            (
                Config {
                    sse_max_clients: 0,
                    ..Config::default()
                },
                "SSE_MAX_CLIENTS",
            ),
            (
                Config {
                    redis_pool_size: MAX_COUNT + 1,
                    ..Config::default()
                },
                "REDIS_POOL_SIZE",
            ),
            (
                Config {
                    redis_timeout: Duration::ZERO,
                    ..Config::default()
                },
                "REDIS_TIMEOUT",
            ),
            (
                Config {
                    key_prefix: "a{b".to_owned(),
                    ..Config::default()
                },
                "KEY_PREFIX",
            ),
        ];
        for (config, variable) in cases {
            let err = config.limits().expect_err(variable).to_string();
            assert!(
                err.starts_with(&format!("invalid value for {variable}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn an_empty_token_is_no_token_and_a_short_one_is_refused() {
        let config = Config {
            admin_token: Some(String::new()),
            ..Config::default()
        };
        assert!(!config.admin_auth().expect("valid").is_enabled());
        let short = Config {
            admin_token: Some("short".to_owned()),
            ..Config::default()
        };
        let err = short.admin_auth().expect_err("too short").to_string();
        assert!(err.contains("ADMIN_TOKEN"), "{err}");
    }
}
