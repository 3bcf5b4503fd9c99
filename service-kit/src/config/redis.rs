//! [`RedisConfig`]: how every service reaches Redis over TLS, read once at start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `REDIS_TLS_CA` | the system's roots | PEM file of the CA that signed the server's certificate |
//! | `REDIS_TLS_CERT`, `REDIS_TLS_KEY` | none | PEM files of a client certificate and its key (mutual TLS); both or neither |
//! | `REDIS_TLS_INSECURE` | `false` | `true` allows a `rediss://...#insecure` URL (no certificate check; test benches only) |
//!
//! The files are read and parsed at start, so a missing file, a file that is not PEM or a
//! certificate without its key stops the service with the variable named. The URL itself is
//! each service's `REDIS_URL`; [`RedisConfig::check_url`] refuses `#insecure` unless allowed,
//! and certificates with a plain `redis://` URL.

use std::path::{Path, PathBuf};

use breaker_redis::store::{RedisTls, TlsError};
use serde::Deserialize;

use super::{ConfigError, Loader};

/// The variables, as errors name them.
const CA: &str = "REDIS_TLS_CA";
const CERT: &str = "REDIS_TLS_CERT";
const KEY: &str = "REDIS_TLS_KEY";
const INSECURE: &str = "REDIS_TLS_INSECURE";

/// Redis settings shared by every service: the TLS material for a `rediss://` `REDIS_URL`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisConfig {
    /// The certificates, checked; hand them to `breaker_redis::RedisStoreOptions::tls`.
    pub tls: RedisTls,
}

#[derive(Debug, Deserialize)]
struct RawRedis {
    redis_tls_ca: Option<PathBuf>,
    redis_tls_cert: Option<PathBuf>,
    redis_tls_key: Option<PathBuf>,
    redis_tls_insecure: Option<bool>,
}

impl RedisConfig {
    /// Reads the `REDIS_TLS_*` settings and the files they name.
    ///
    /// # Errors
    ///
    /// A file is missing or unreadable or holds no PEM certificate (or key), or only one of
    /// `REDIS_TLS_CERT` and `REDIS_TLS_KEY` is set; the error names the variable.
    pub fn from_loader(loader: &Loader) -> Result<Self, ConfigError> {
        let raw: RawRedis = loader.load()?;
        let mut tls = RedisTls::default().allow_insecure(raw.redis_tls_insecure.unwrap_or(false));
        if let Some(path) = &raw.redis_tls_ca {
            tls = tls
                .with_ca(read(CA, path)?)
                .map_err(|e| ConfigError::invalid(CA, e))?;
        }
        match (&raw.redis_tls_cert, &raw.redis_tls_key) {
            (Some(cert), Some(key)) => {
                tls = tls
                    .with_client(read(CERT, cert)?, read(KEY, key)?)
                    .map_err(|e| match e {
                        TlsError::Key(_) => ConfigError::invalid(KEY, e),
                        _ => ConfigError::invalid(CERT, e),
                    })?;
            }
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    KEY,
                    format!("{CERT} is set, so its private key is needed too (a PEM file)"),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    CERT,
                    format!("{KEY} is set, so its certificate is needed too (a PEM file)"),
                ));
            }
            (None, None) => {}
        }
        Ok(Self { tls })
    }

    /// Checks `url` (read from the variable `var`) against these settings.
    ///
    /// # Errors
    ///
    /// `#insecure` without `REDIS_TLS_INSECURE=true`, or certificates with a `redis://` URL.
    pub fn check_url(&self, var: &str, url: &str) -> Result<(), ConfigError> {
        match breaker_redis::store::client(url, &self.tls) {
            Ok(_) => Ok(()),
            Err(e) => Err(url_error(var, e)),
        }
    }
}

/// The error of a Redis URL (from `var`) refused with these settings, naming what to change.
pub(crate) fn url_error(var: &str, error: breaker_redis::StoreError) -> ConfigError {
    match error {
        breaker_redis::StoreError::Tls(TlsError::Insecure) => ConfigError::invalid(
            var,
            format!(
                "#insecure turns off every check of the server's certificate; set {INSECURE}=true to allow it (test benches only), or give the CA in {CA}"
            ),
        ),
        breaker_redis::StoreError::Tls(TlsError::NotTls) => ConfigError::invalid(
            var,
            format!(
                "{CA}, {CERT} or {KEY} is set but the URL is not rediss://: use rediss:// for TLS, or unset them"
            ),
        ),
        e => ConfigError::invalid(var, e),
    }
}

fn read(var: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::invalid(var, format!("cannot read {}: {e}", path.display())))
}
