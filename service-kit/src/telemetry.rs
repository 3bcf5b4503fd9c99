//! Logging: `tracing` to stdout, human-readable or JSON.
//!
//! | variable | values | default |
//! |---|---|---|
//! | `LOG_FORMAT` | `text`, `json` | `text` |
//! | `RUST_LOG` | an `EnvFilter` directive | `info` |

use std::io::IsTerminal;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::ConfigError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event (colours only on a terminal).
    #[default]
    Text,
    /// One JSON object per line, with the current span's fields.
    Json,
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(ConfigError::invalid(
                "LOG_FORMAT",
                format!("expected `text` or `json`, found {other:?}"),
            )),
        }
    }
}

/// Installs the global subscriber from `LOG_FORMAT` and `RUST_LOG`.
///
/// Idempotent: when a subscriber is already installed (a second call, or a test harness that set
/// its own), this keeps it and returns `Ok`.
///
/// # Errors
///
/// `LOG_FORMAT` or `RUST_LOG` is invalid.
pub fn init() -> Result<(), ConfigError> {
    let format = std::env::var("LOG_FORMAT").unwrap_or_default().parse()?;
    let filter = std::env::var("RUST_LOG").unwrap_or_default();
    init_with(format, &filter)
}

/// Like [`init`], with the settings given.
///
/// # Errors
///
/// `filter` is not a valid `EnvFilter` directive.
pub fn init_with(format: LogFormat, filter: &str) -> Result<(), ConfigError> {
    let filter = if filter.is_empty() { "info" } else { filter };
    let filter = EnvFilter::try_new(filter).map_err(|e| ConfigError::invalid("RUST_LOG", e))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    // An error here only means a subscriber is already installed, which is what we want.
    let _already_installed = match format {
        LogFormat::Text => builder.finish().try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .try_init(),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_parses_and_names_the_variable() {
        assert_eq!("JSON".parse::<LogFormat>().ok(), Some(LogFormat::Json));
        assert_eq!("".parse::<LogFormat>().ok(), Some(LogFormat::Text));
        let err = "yaml"
            .parse::<LogFormat>()
            .expect_err("yaml is not a format");
        assert!(
            err.to_string().starts_with("invalid value for LOG_FORMAT"),
            "{err}"
        );
    }

    #[test]
    fn init_twice_is_fine_and_a_bad_filter_is_a_config_error() {
        init_with(LogFormat::Text, "").expect("first init");
        init_with(LogFormat::Json, "debug").expect("second init is a no-op");
        let err = init_with(LogFormat::Text, "=[").expect_err("bad filter");
        assert!(err.to_string().contains("RUST_LOG"), "{err}");
    }
}
