//! Configuration: an optional TOML file, then environment variables.
//!
//! Sources, later ones winning:
//!
//! 1. the TOML file named by `CONFIG_FILE`, if that variable is set (a named file that does not
//!    exist is an error, not a silent fallback);
//! 2. environment variables, **without a prefix**, `__` separating nesting levels:
//!    `PORT` → `port`, `BREAKER__MAX_REQUESTS` → `breaker.max_requests`.
//!
//! An empty variable (`ADMIN_TOKEN=`) counts as unset. Errors name the variable to fix
//! (`invalid value for FAIL_EVERY: expected an integer, found string "abc"`), or the key and file
//! when the value came from the file.
//!
//! # Writing a config struct
//!
//! - Because there is no prefix, every variable of the process (`PATH`, `HOME`, `USER`,
//!   `HOSTNAME`, ...) reaches the top level: do not put `deny_unknown_fields` on the top-level
//!   struct, and do not name a top-level field like a common variable (`path`, `home`, `user`,
//!   `hostname`, `lang`, `term`, `shell`). Nested sections may deny unknown fields.
//! - Values from the environment stay strings until a typed field asks for a number, a bool or a
//!   float, which the config crate then parses; so `INSTANCE_ID=007` stays `"007"` in a `String`.
//!   (The config crate's `try_parsing(true)` is deliberately off: it turns `INSTANCE_ID=007` into
//!   `"7"`, `INSTANCE_ID=1` into an integer that a flattened `String` rejects, and silently
//!   rounds `FAIL_EVERY=2.5` to 3.)
//!   The flip side: anything that deserializes through `deserialize_any` sees strings. Do not use
//!   `#[serde(flatten)]` or untagged enums for values that may come from the environment (a
//!   flattened `u16` fails with "expected u16, found string"). The server settings shared by every
//!   service are therefore loaded as a second struct from the same sources ([`ServerConfig`]), not
//!   flattened into the service's struct.
//! - The config crate is lenient with integers: `true`/`yes`/`on` read as 1 and
//!   `false`/`no`/`off` as 0. Validate ranges after loading (see [`ConfigError::invalid`]).

mod error;
mod http_url;
mod redis;
mod server;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

pub use error::ConfigError;
pub use http_url::http_url;
pub use redis::RedisConfig;
pub(crate) use redis::url_error as redis_url_error;
pub use server::ServerConfig;

/// The variable naming the optional TOML file.
pub const CONFIG_FILE_VAR: &str = "CONFIG_FILE";

/// Loads `T` from `CONFIG_FILE` and the process environment.
///
/// # Errors
///
/// A missing or unreadable file, or a value that does not fit `T`; the error names the variable.
pub fn load<T: DeserializeOwned>() -> Result<T, ConfigError> {
    Loader::from_env()?.load()
}

/// The merged sources, ready to deserialize one or more structs from.
#[derive(Debug, Clone)]
pub struct Loader {
    merged: config::Config,
    /// Non-empty variables, by their real name.
    env: BTreeMap<String, String>,
    file: Option<PathBuf>,
}

impl Loader {
    /// Reads the process environment (variables that are not valid Unicode are skipped, as the
    /// config crate does) and the file it names.
    ///
    /// # Errors
    ///
    /// `CONFIG_FILE` names a file that is missing or is not valid TOML.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars_os().filter_map(unicode_pair))
    }

    /// Like [`Loader::from_env`], with the environment given as pairs; tests use this instead of
    /// mutating the process environment.
    ///
    /// # Errors
    ///
    /// `CONFIG_FILE` names a file that is missing or is not valid TOML.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let env: BTreeMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let file = env.get(CONFIG_FILE_VAR).map(PathBuf::from);
        let mut builder = config::Config::builder();
        if let Some(path) = &file {
            if !path.is_file() {
                return Err(ConfigError::FileMissing { path: path.clone() });
            }
            let name = path.to_string_lossy();
            builder = builder.add_source(config::File::new(&name, config::FileFormat::Toml));
        }
        let vars: config::Map<String, String> =
            env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        builder = builder.add_source(
            config::Environment::default()
                .separator("__")
                .ignore_empty(true)
                .source(Some(vars)),
        );
        let merged = builder
            .build()
            .map_err(|e| error::translate(e, &env, &file))?;
        Ok(Self { merged, env, file })
    }

    /// Deserializes `T` from the merged sources.
    ///
    /// # Errors
    ///
    /// A value does not fit `T`, or a required one is missing; the error names the variable.
    pub fn load<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.merged
            .clone()
            .try_deserialize()
            .map_err(|e| error::translate(e, &self.env, &self.file))
    }

    /// The raw value of an environment variable, `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }
}

fn unicode_pair((key, value): (OsString, OsString)) -> Option<(String, String)> {
    Some((key.into_string().ok()?, value.into_string().ok()?))
}

#[cfg(test)]
mod tests;
