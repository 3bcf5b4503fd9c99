//! What the dashboard tests share: the real `discovery` binary on a free port, a headless
//! Chromium, and where the screenshots go.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use test_support::{Browser, ChildProcess, Page};

/// Deadline for a process to start or a page to show its first data.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// `discovery <service>` with only `env`, on a free port of 127.0.0.1 unless `env` sets `PORT`.
pub fn binary(service: &str, name: &str, env: &[(&str, &str)]) -> ChildProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_discovery"));
    command
        .arg(service)
        .env_clear()
        .env("PORT", "0")
        .env("BIND_ADDR", "127.0.0.1")
        .envs(env.iter().copied());
    ChildProcess::spawn(command, name).expect("the discovery binary starts")
}

/// The base URL a started binary listens on, from its `listening on` line.
pub async fn listening(child: &ChildProcess) -> String {
    let line = child
        .wait_for_line_async("listening on ", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address in the line");
    format!("http://{addr}")
}

/// A browser tab showing `url`, with no error reported while it loaded.
pub async fn open(browser: &Browser, url: &str) -> Page {
    let page = browser.new_page().await.expect("a tab");
    page.goto(url).await.unwrap_or_else(|e| panic!("{e:#}"));
    page
}

/// Where a dashboard's screenshot is saved: `target/tmp/dashboards/<name>.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("dashboards")
        .join(format!("{name}.png"))
}

/// Fails the test on any console error or uncaught exception the page reported.
pub fn assert_no_errors(page: &Page) {
    if let Err(e) = page.check_no_errors() {
        panic!("{e:#}");
    }
}
