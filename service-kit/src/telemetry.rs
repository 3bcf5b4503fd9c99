//! Logging: `tracing` to stdout, human-readable or JSON.
//!
//! | variable | values | default |
//! |---|---|---|
//! | `LOG_FORMAT` | `text`, `json` | `text` |
//! | `RUST_LOG` | an `EnvFilter` directive | `info` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | a collector's base URL: spans are also exported (see [`crate::otlp`]; [`init_service`] only) | unset |
//!
//! In JSON every line is one object with `timestamp`, `level`, `message` and the event's fields at
//! the top level, `target`, the request's `span` (`method`, `path`, `request_id`) when there is
//! one, and, once [`init_service`] named them, `service` and `instance` first, so that lines from
//! many processes can be mixed and still told apart.

use std::io::{self, IsTerminal, Write};
use std::str::FromStr;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
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
    install(format, &filter, Stamped::default())
}

/// Like [`init`], and in JSON every line also carries `service` and `instance`; with
/// `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are also exported (see [`crate::otlp`]).
///
/// # Errors
///
/// `LOG_FORMAT`, `RUST_LOG` or `OTEL_EXPORTER_OTLP_ENDPOINT` is invalid.
pub fn init_service(service: &str, instance: &str) -> Result<(), ConfigError> {
    let format = std::env::var("LOG_FORMAT").unwrap_or_default().parse()?;
    let filter = std::env::var("RUST_LOG").unwrap_or_default();
    let stamped = Stamped::new(service, instance);
    install_with_export(format, &filter, stamped, Some((service, instance)))
}

/// Like [`init`], with the settings given.
///
/// # Errors
///
/// `filter` is not a valid `EnvFilter` directive.
pub fn init_with(format: LogFormat, filter: &str) -> Result<(), ConfigError> {
    install(format, filter, Stamped::default())
}

fn install(format: LogFormat, filter: &str, stamped: Stamped) -> Result<(), ConfigError> {
    install_with_export(format, filter, stamped, None)
}

/// The subscriber: the filter, the log lines, and span export when `export` names the service
/// and the endpoint is set.
fn install_with_export(
    format: LogFormat,
    filter: &str,
    stamped: Stamped,
    export: Option<(&str, &str)>,
) -> Result<(), ConfigError> {
    let filter = if filter.is_empty() { "info" } else { filter };
    let filter = EnvFilter::try_new(filter).map_err(|e| ConfigError::invalid("RUST_LOG", e))?;
    let lines = tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal());
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(stamped)
            .boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(lines);
    let spans = match export {
        Some((service, instance)) => crate::otlp::layer(service, instance)?,
        None => None,
    };
    // An error here only means a subscriber is already installed, which is what we want.
    let _already_installed = registry.with(spans).try_init();
    Ok(())
}

/// Standard output, with `"service":…,"instance":…` put first in every JSON line.
///
/// The formatter hands over each line in one `write` call, so the fields are spliced in after the
/// opening brace without parsing the line again.
#[derive(Debug, Default)]
struct Stamped {
    /// `{"service":"…","instance":"…",`, or empty for plain lines.
    prefix: Vec<u8>,
}

impl Stamped {
    fn new(service: &str, instance: &str) -> Self {
        let prefix = format!(
            "{{\"service\":{},\"instance\":{},",
            serde_json::Value::from(service),
            serde_json::Value::from(instance)
        );
        Self {
            prefix: prefix.into_bytes(),
        }
    }
}

impl<'a> MakeWriter<'a> for Stamped {
    type Writer = StampedWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        StampedWriter {
            prefix: &self.prefix,
            out: io::stdout(),
        }
    }
}

/// One line's writer from [`Stamped`].
#[derive(Debug)]
struct StampedWriter<'a> {
    prefix: &'a [u8],
    out: io::Stdout,
}

impl Write for StampedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match buf.split_first() {
            Some((b'{', rest)) if !self.prefix.is_empty() => {
                let mut out = self.out.lock();
                out.write_all(self.prefix)?;
                out.write_all(rest)?;
                Ok(buf.len())
            }
            _ => self.out.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
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
