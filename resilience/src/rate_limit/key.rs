//! [`ClientKey`]: who a limit applies to, and the Redis key it lives under.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::ConfigError;

/// Longest client key, in bytes. Longer identities (tokens, long routes) should be hashed by
/// the caller.
pub const MAX_KEY_LEN: usize = 256;

/// One client (or route) of a rate limiter: an IP address, a user id, `"GET /orders"`'s route
/// name... 1 to [`MAX_KEY_LEN`] bytes, without braces (they would break the Redis Cluster hash
/// tag), whitespace or control characters. `:` is fine, so IPv6 addresses are valid keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(String);

/// Why a string is not a [`ClientKey`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidKey {
    /// The key is empty.
    #[error("a rate-limit key must not be empty")]
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`] bytes.
    #[error("a rate-limit key is {0} bytes long; at most {MAX_KEY_LEN} are allowed")]
    TooLong(usize),
    /// The key contains a brace, whitespace or a control character.
    #[error("a rate-limit key must not contain {0:?} (braces, whitespace, control characters)")]
    Forbidden(char),
}

impl ClientKey {
    /// Checks `key`.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidKey> {
        let key = key.into();
        if key.is_empty() {
            return Err(InvalidKey::Empty);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(InvalidKey::TooLong(key.len()));
        }
        if let Some(c) = key.chars().find(|c| forbidden(*c)) {
            return Err(InvalidKey::Forbidden(c));
        }
        Ok(ClientKey(key))
    }

    /// A key known to be valid (digits, letters, `.`, `:`, `/`).
    pub(crate) fn from_valid(key: impl Into<String>) -> Self {
        ClientKey(key.into())
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn forbidden(c: char) -> bool {
    c == '{' || c == '}' || c.is_whitespace() || c.is_control()
}

impl FromStr for ClientKey {
    type Err = InvalidKey;

    fn from_str(s: &str) -> Result<Self, InvalidKey> {
        ClientKey::new(s)
    }
}

impl TryFrom<&str> for ClientKey {
    type Error = InvalidKey;

    fn try_from(s: &str) -> Result<Self, InvalidKey> {
        ClientKey::new(s)
    }
}

impl TryFrom<String> for ClientKey {
    type Error = InvalidKey;

    fn try_from(s: String) -> Result<Self, InvalidKey> {
        ClientKey::new(s)
    }
}

impl AsRef<str> for ClientKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `<prefix>:{<limiter>:<client>}`: the whole identity is the hash tag, so each client's key
/// has a slot of its own choosing and different clients spread over a Redis Cluster.
pub(crate) fn redis_key(prefix: &str, limiter: &str, client: &ClientKey) -> String {
    format!("{prefix}:{{{limiter}:{}}}", client.as_str())
}

/// A key prefix: non-empty, without whitespace or braces (the hash tag must be the only one).
pub(crate) fn check_prefix(component: &'static str, prefix: &str) -> Result<(), ConfigError> {
    if prefix.is_empty() || prefix.chars().any(forbidden) {
        return Err(ConfigError::new(
            component,
            "key_prefix",
            format!("{prefix:?} must be non-empty, without whitespace or braces"),
        ));
    }
    Ok(())
}
