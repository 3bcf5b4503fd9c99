//! [`AdminToken`]: a validated admin secret, from `ADMIN_TOKEN` or `ADMIN_TOKEN_FILE`.

use std::fmt;
use std::path::Path;

use crate::config::ConfigError;

/// The shortest token accepted, in bytes.
pub const MIN_TOKEN_BYTES: usize = 16;

/// A validated admin token. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(Box<[u8]>);

impl AdminToken {
    /// Checks `token`, as given by `variable` (named in the error).
    ///
    /// # Errors
    ///
    /// Shorter than [`MIN_TOKEN_BYTES`], or whitespace at either end.
    pub fn new(token: &str, variable: &str) -> Result<Self, ConfigError> {
        if token.trim() != token {
            return Err(ConfigError::invalid(
                variable,
                "the token has whitespace around it, which a client cannot send in a header",
            ));
        }
        if token.len() < MIN_TOKEN_BYTES {
            return Err(ConfigError::invalid(
                variable,
                format_args!(
                    "the token must be at least {MIN_TOKEN_BYTES} bytes (it has {})",
                    token.len()
                ),
            ));
        }
        Ok(Self(token.as_bytes().into()))
    }

    /// The token from `ADMIN_TOKEN` (`inline`, empty counting as unset) or from the file
    /// `ADMIN_TOKEN_FILE` names (`file`, without one trailing newline); `None` when neither is
    /// set.
    ///
    /// # Errors
    ///
    /// Both are set, the file cannot be read or is not UTF-8, or the token is invalid.
    pub fn from_sources(
        inline: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<Self>, ConfigError> {
        let inline = inline.filter(|t| !t.is_empty());
        match (inline, file) {
            (Some(_), Some(_)) => Err(ConfigError::invalid(
                "ADMIN_TOKEN_FILE",
                "ADMIN_TOKEN is set too; set only one of them",
            )),
            (Some(token), None) => Self::new(token, "ADMIN_TOKEN").map(Some),
            (None, Some(path)) => Self::read(path).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::invalid(
                "ADMIN_TOKEN_FILE",
                format_args!("cannot read {}: {e}", path.display()),
            )
        })?;
        // Editors and `echo` end a file with a newline; it is not part of the secret.
        let token = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        Self::new(token, "ADMIN_TOKEN_FILE")
    }

    /// Whether `presented` is this token, in time that depends only on the token's length, so
    /// that response times do not reveal how much of a guess was right.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = &self.0;
        let mut diff = u8::from(presented.len() != expected.len());
        for (i, e) in expected.iter().enumerate() {
            diff |= e ^ presented.get(i).copied().unwrap_or(0);
        }
        std::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}
