//! What the dashboard tests share besides `common`: a headless Chromium tab, its errors, and
//! where the screenshots go.

#![allow(dead_code)]

use std::path::PathBuf;
use test_support::{Browser, Page};

/// A new browser tab that has loaded `url`.
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
