//! `promtool check metrics`: the Prometheus project's own lint of the exposition format.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The line printed when `promtool` is missing.
pub const INSTALL_PROMETHEUS: &str =
    "install the `prometheus` package (`apt-get install -y prometheus`), which provides `promtool`";

/// Runs `promtool check metrics` on `text` (a `/metrics` body).
///
/// # Errors
///
/// `promtool` is not on PATH (the error names the `prometheus` package), or it reports a
/// problem (the error holds its output and the text checked).
pub fn promtool_check_metrics(text: &str) -> Result<()> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("`promtool` was not found on PATH; {INSTALL_PROMETHEUS}"))?;
    let mut stdin = child.stdin.take().context("promtool's stdin")?;
    stdin
        .write_all(text.as_bytes())
        .context("writing to promtool")?;
    drop(stdin);
    let output = child.wait_with_output().context("waiting for promtool")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() || !said.trim().is_empty() {
        bail!(
            "promtool check metrics: {}\n{said}\n--- checked:\n{text}",
            output.status
        );
    }
    Ok(())
}
