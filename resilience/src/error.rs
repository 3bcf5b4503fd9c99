//! [`ConfigError`]: the one error every builder and settings type of this crate returns.

use thiserror::Error;

/// An invalid setting; the message names the pattern and the setting as in its settings type
/// (`max_attempts`, `per_second`, `ttl`...), so that a service can map it to its own variable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {component} configuration: {setting}: {reason}")]
pub struct ConfigError {
    /// The pattern: `retry`, `rate limit`, `bulkhead`, `fallback`.
    pub component: &'static str,
    /// The setting's name (`name` for the name given to the builder).
    pub setting: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(
        component: &'static str,
        setting: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError {
            component,
            setting,
            reason: reason.into(),
        }
    }
}

/// A name under which state is kept in Redis: the breaker's rules (1 to 128 of
/// `A-Z a-z 0-9 . _ - :`), since the keys share their shape.
pub(crate) fn check_name(component: &'static str, name: &str) -> Result<(), ConfigError> {
    breaker_redis::validate::name(name)
        .map_err(|e| ConfigError::new(component, e.setting, e.reason))
}
