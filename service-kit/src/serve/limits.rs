//! [`Limits`]: what one connection and one client may hold of a service, from `HTTP_*`.

use std::time::Duration;

use crate::config::{ConfigError, Loader};

/// Limits on connections and request heads, validated.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HTTP_HEADER_TIMEOUT` | `10s` | from a request's first byte to the end of its head; then 408 and close |
/// | `HTTP_IDLE_TIMEOUT` | `60s` | a keep-alive connection with no request (from connect or the last answer) is closed |
/// | `HTTP_MAX_CONNECTIONS` | 1024 | open connections per service; more are answered 503 and closed |
/// | `HTTP_MAX_CONNECTIONS_PER_IP` | 256 | open connections per client (IPv4 address, IPv6 /64); more get 429 and are closed |
/// | `HTTP_MAX_URI_BYTES` | 8192 | request line; longer: 414 |
/// | `HTTP_MAX_HEADER_BYTES` | 32768 | whole request head; larger: 431 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `HTTP_HEADER_TIMEOUT`.
    pub header_timeout: Duration,
    /// `HTTP_IDLE_TIMEOUT`.
    pub idle_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `HTTP_MAX_CONNECTIONS_PER_IP`.
    pub max_connections_per_ip: usize,
    /// `HTTP_MAX_URI_BYTES`.
    pub max_uri_bytes: usize,
    /// `HTTP_MAX_HEADER_BYTES`.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_connections_per_ip: 256,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
        }
    }
}

/// Hyper buffers at most this much of a head; our limit must be lower so that ours answers.
const HYPER_MAX_HEAD: usize = 400 * 1024;

impl Limits {
    /// Reads the `HTTP_*` variables, applying defaults.
    ///
    /// # Errors
    ///
    /// A value that does not parse or is out of range; the error names the variable.
    pub fn from_loader(loader: &Loader) -> Result<Self, ConfigError> {
        let d = Self::default();
        let limits = Self {
            header_timeout: duration(loader, "HTTP_HEADER_TIMEOUT", d.header_timeout)?,
            idle_timeout: duration(loader, "HTTP_IDLE_TIMEOUT", d.idle_timeout)?,
            max_connections: count(loader, "HTTP_MAX_CONNECTIONS", d.max_connections)?,
            max_connections_per_ip: count(
                loader,
                "HTTP_MAX_CONNECTIONS_PER_IP",
                d.max_connections_per_ip,
            )?,
            max_uri_bytes: count(loader, "HTTP_MAX_URI_BYTES", d.max_uri_bytes)?,
            max_header_bytes: count(loader, "HTTP_MAX_HEADER_BYTES", d.max_header_bytes)?,
        };
        limits.validate()?;
        Ok(limits)
    }

    /// Checks the ranges.
    ///
    /// # Errors
    ///
    /// A value out of range, named by its variable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ms = Duration::from_millis(1);
        if self.header_timeout < ms {
            return Err(ConfigError::invalid(
                "HTTP_HEADER_TIMEOUT",
                "must be at least 1ms",
            ));
        }
        if self.idle_timeout < ms {
            return Err(ConfigError::invalid(
                "HTTP_IDLE_TIMEOUT",
                "must be at least 1ms",
            ));
        }
        if self.max_connections_per_ip > self.max_connections {
            return Err(ConfigError::invalid(
                "HTTP_MAX_CONNECTIONS_PER_IP",
                "must not exceed HTTP_MAX_CONNECTIONS",
            ));
        }
        if self.max_uri_bytes < 64 {
            return Err(ConfigError::invalid(
                "HTTP_MAX_URI_BYTES",
                "must be at least 64",
            ));
        }
        if !(self.max_uri_bytes..=HYPER_MAX_HEAD).contains(&self.max_header_bytes) {
            return Err(ConfigError::invalid(
                "HTTP_MAX_HEADER_BYTES",
                format_args!("must be between HTTP_MAX_URI_BYTES and {HYPER_MAX_HEAD}"),
            ));
        }
        Ok(())
    }
}

fn duration(loader: &Loader, var: &str, default: Duration) -> Result<Duration, ConfigError> {
    loader.var(var).map_or(Ok(default), |v| {
        humantime::parse_duration(v).map_err(|e| ConfigError::invalid(var, e))
    })
}

fn count(loader: &Loader, var: &str, default: usize) -> Result<usize, ConfigError> {
    let value = loader.var(var).map_or(Ok(default), |v| {
        v.parse::<usize>().map_err(|_| {
            ConfigError::invalid(var, format_args!("expected a whole number, found {v:?}"))
        })
    })?;
    if value == 0 {
        return Err(ConfigError::invalid(var, "must be at least 1"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Limits, ConfigError> {
        Limits::from_loader(&Loader::from_vars(vars.iter().copied()).expect("loads"))
    }

    #[test]
    fn defaults_apply_and_every_variable_sets_its_value() {
        assert_eq!(load(&[]).expect("valid"), Limits::default());
        let limits = load(&[
            ("HTTP_HEADER_TIMEOUT", "2s"),
            ("HTTP_IDLE_TIMEOUT", "500ms"),
            ("HTTP_MAX_CONNECTIONS", "10"),
            ("HTTP_MAX_CONNECTIONS_PER_IP", "3"),
            ("HTTP_MAX_URI_BYTES", "100"),
            ("HTTP_MAX_HEADER_BYTES", "1000"),
        ])
        .expect("valid");
        assert_eq!(
            limits,
            Limits {
                header_timeout: Duration::from_secs(2),
                idle_timeout: Duration::from_millis(500),
                max_connections: 10,
                max_connections_per_ip: 3,
                max_uri_bytes: 100,
                max_header_bytes: 1000,
            }
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("HTTP_HEADER_TIMEOUT", "soon"),
            ("HTTP_HEADER_TIMEOUT", "0s"),
            ("HTTP_IDLE_TIMEOUT", "0ms"),
            ("HTTP_MAX_CONNECTIONS", "0"),
            ("HTTP_MAX_CONNECTIONS", "-1"),
            ("HTTP_MAX_CONNECTIONS_PER_IP", "5000"),
            ("HTTP_MAX_URI_BYTES", "10"),
            ("HTTP_MAX_HEADER_BYTES", "999999999"),
        ] {
            let err = load(&[(var, value)]).expect_err(value);
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid value for {var}: ")),
                "{var}={value}: {err}"
            );
        }
    }
}
