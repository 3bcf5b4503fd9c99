//! [`ConfigError`], and the translation of the config crate's key paths back to the names of the
//! environment variables a user sets.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Configuration could not be loaded. The message names the variable (or file key) to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `CONFIG_FILE` names a file that does not exist.
    #[error("config file {} (named by CONFIG_FILE) does not exist", path.display())]
    FileMissing {
        /// The path as given.
        path: PathBuf,
    },
    /// The config file could not be read or parsed.
    #[error("cannot read config file {}: {message}", path.display())]
    File {
        /// The path as given.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A required setting has no value.
    #[error("missing required setting {setting}")]
    Missing {
        /// The variable to set, e.g. `FAIL_EVERY`.
        setting: String,
    },
    /// A setting has a value that does not fit.
    #[error("invalid value for {setting}: {message}")]
    Invalid {
        /// The variable, e.g. `BREAKER__MAX_REQUESTS`, or `` `key` in <file> ``.
        setting: String,
        /// Why it does not fit.
        message: String,
    },
    /// Anything else the config crate reports.
    #[error("invalid configuration: {0}")]
    Other(String),
}

impl ConfigError {
    /// A value that parsed but failed validation, e.g.
    /// `ConfigError::invalid("FAILURE_RATE", "must be between 0 and 1")`.
    pub fn invalid(setting: impl Into<String>, message: impl Display) -> Self {
        Self::Invalid {
            setting: setting.into(),
            message: message.to_string(),
        }
    }
}

/// Where a key's value came from, to name it in messages.
struct Names<'a> {
    env: &'a BTreeMap<String, String>,
    file: Option<&'a Path>,
}

impl Names<'_> {
    /// The variable that set `key`, or the file key when the file did.
    fn of(&self, key: &str) -> String {
        if let Some(var) = self.env_var(key) {
            return var.to_owned();
        }
        match self.file {
            Some(file) => format!("`{key}` in {}", file.display()),
            None => env_name(key),
        }
    }

    /// How to provide a missing `key`.
    fn missing(&self, key: &str) -> String {
        match self.file {
            Some(file) => format!("{} (or `{key}` in {})", env_name(key), file.display()),
            None => env_name(key),
        }
    }

    fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .keys()
            .find(|var| var.to_lowercase().replace("__", ".") == key)
            .map(String::as_str)
    }
}

/// `breaker.max_requests` → `BREAKER__MAX_REQUESTS`.
fn env_name(key: &str) -> String {
    key.replace('.', "__").to_uppercase()
}

/// Joins a parent key path and a field name.
fn child(parent: Option<&str>, field: &str) -> String {
    match parent {
        Some(parent) if !parent.is_empty() => format!("{parent}.{field}"),
        _ => field.to_owned(),
    }
}

/// Translates a config crate error into one that names the variable.
pub(super) fn translate(
    err: config::ConfigError,
    env: &BTreeMap<String, String>,
    file: &Option<PathBuf>,
) -> ConfigError {
    let names = Names {
        env,
        file: file.as_deref(),
    };
    match err {
        config::ConfigError::NotFound(key) => ConfigError::Missing {
            setting: names.missing(&key),
        },
        config::ConfigError::Type {
            unexpected,
            expected,
            key: Some(key),
            ..
        } => ConfigError::invalid(
            names.of(&key),
            format!("expected {expected}, found {unexpected}"),
        ),
        config::ConfigError::At {
            error,
            key: Some(key),
            ..
        } => message_at(&error.to_string(), Some(&key), &names),
        config::ConfigError::Message(message) => message_at(&message, None, &names),
        config::ConfigError::FileParse { uri, cause } => ConfigError::File {
            path: uri
                .map(PathBuf::from)
                .or_else(|| file.clone())
                .unwrap_or_default(),
            message: cause.to_string(),
        },
        other => ConfigError::Other(other.to_string()),
    }
}

/// A serde message raised while deserializing the value at `key` (`None`: the top level).
fn message_at(message: &str, key: Option<&str>, names: &Names<'_>) -> ConfigError {
    if let Some(field) = quoted_field(message, "missing field `") {
        return ConfigError::Missing {
            setting: names.missing(&child(key, field)),
        };
    }
    if let Some(field) = quoted_field(message, "unknown field `") {
        let (_, expected) = message.split_once(", ").unwrap_or((message, ""));
        let setting = names.of(&child(key, field));
        return ConfigError::invalid(setting, format!("unknown setting; {expected}"));
    }
    match key {
        Some(key) => ConfigError::invalid(names.of(key), message),
        None => ConfigError::Other(message.to_owned()),
    }
}

/// `unknown field `foo`, expected ...` → `foo`.
fn quoted_field<'m>(message: &'m str, opening: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(opening)?;
    rest.split_once('`').map(|(field, _)| field)
}
