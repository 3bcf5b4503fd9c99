//! [`Browser`]: a headless Chromium for tests of web pages, driven over the DevTools protocol.
//!
//! Chromium is started with a private profile and a free DevTools port (it prints the port);
//! each [`Page`] is a tab with its own WebSocket. The harness navigates, evaluates JavaScript,
//! waits with a deadline until an expression holds or an element's text contains something,
//! and collects the console errors and uncaught exceptions of the pages it loads.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> anyhow::Result<()> {
//! use std::time::Duration;
//! use test_support::Browser;
//!
//! let browser = Browser::launch().await?;
//! let page = browser.new_page().await?;
//! page.goto("http://127.0.0.1:3000/").await?;
//! page.wait_for_text("#services", "user-service", Duration::from_secs(5)).await?;
//! page.check_no_errors()?;
//! # Ok(()) }
//! ```
//!
//! Layout: `cdp` is the protocol client (one connection, replies by id, events broadcast),
//! `page` the tab.

mod cdp;
mod page;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::ChildProcess;
use crate::process::find_on_path;
use cdp::Connection;
pub use page::Page;

/// The line printed when Chromium is missing.
pub const INSTALL_CHROMIUM: &str =
    "install it with `apt-get install -y --no-install-recommends chromium`";

/// How long Chromium may take to print its DevTools address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium process; dropping it kills Chromium and removes its profile.
#[derive(Debug)]
pub struct Browser {
    // Declared before the profile so that Chromium is gone before its directory is removed.
    process: ChildProcess,
    devtools: String,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts headless Chromium (`chromium` on `PATH`), failing with the install command
    /// when it is missing.
    pub async fn launch() -> anyhow::Result<Self> {
        let program = find_chromium(&["chromium", "chromium-browser"])?;
        let profile = tempfile::tempdir().context("creating Chromium's profile directory")?;
        let mut cmd = Command::new(program);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--window-size=1280,900",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank");
        let process = ChildProcess::spawn(cmd, "chromium")?;
        let line = process
            .wait_for_line_async("DevTools listening on ws://", START_TIMEOUT)
            .await?;
        let devtools = line
            .split_once("DevTools listening on ")
            .map(|(_, url)| url.trim().to_owned())
            .context("reading Chromium's DevTools address")?;
        let port = devtools_port(&devtools)
            .with_context(|| format!("no port in Chromium's DevTools address {devtools}"))?;
        Ok(Self {
            process,
            devtools,
            port,
            _profile: profile,
        })
    }

    /// Opens a new blank tab.
    pub async fn new_page(&self) -> anyhow::Result<Page> {
        let browser = Connection::connect(&self.devtools).await?;
        let target = browser
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await?;
        let Some(id) = target.get("targetId").and_then(Value::as_str) else {
            bail!("Target.createTarget returned no targetId: {target}");
        };
        let url = format!("ws://127.0.0.1:{}/devtools/page/{id}", self.port);
        Page::attach(Connection::connect(&url).await?).await
    }

    /// The process id of Chromium (the program `PATH` named, often a wrapper script).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Chromium's own output so far, for failure messages.
    pub fn output(&self) -> String {
        self.process.output()
    }
}

/// The first of `names` found on `PATH`, or an error naming the package to install.
fn find_chromium(names: &[&str]) -> anyhow::Result<PathBuf> {
    names
        .iter()
        .find_map(|name| find_on_path(name))
        .with_context(|| format!("`chromium` was not found on PATH; {INSTALL_CHROMIUM}"))
}

/// The port of `ws://127.0.0.1:<port>/devtools/browser/<id>`.
fn devtools_port(url: &str) -> Option<u16> {
    let authority = url.strip_prefix("ws://")?.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_read_from_the_devtools_address() {
        assert_eq!(
            devtools_port("ws://127.0.0.1:43121/devtools/browser/6f1c-aa"),
            Some(43121)
        );
        assert_eq!(devtools_port("http://127.0.0.1/x"), None);
    }

    #[test]
    fn a_missing_chromium_names_the_package() {
        let err = find_chromium(&["no-such-chromium"]).expect_err("found it");
        assert!(
            err.to_string()
                .contains("apt-get install -y --no-install-recommends chromium"),
            "{err}"
        );
    }
}
