//! The dashboard's page: plain HTML with its style inline, reloaded by the browser every
//! [`REFRESH_SECS`], so that it works offline and without scripts.

use std::fmt::Write;

use serde_json::Value;

use super::Status;

/// How often the page reloads itself.
pub const REFRESH_SECS: u32 = 5;

/// The page for `status`.
pub fn render(status: &Status) -> String {
    let mut rows = String::new();
    for (name, health) in [
        ("User service", status.user_service),
        ("Order service", status.order_service),
    ] {
        let _ = write!(
            rows,
            r#"<tr><td>{name}</td><td class="{health}">{health}</td></tr>"#
        );
    }
    let breaker = breaker_line(status.breaker.as_ref());
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_SECS}">
<title>Lab dashboard</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
td {{ padding: .3em 1em; border-bottom: 1px solid #ddd; }}
.healthy, .closed {{ color: #070; }} .unhealthy, .open {{ color: #b00; }} .half-open, .unknown {{ color: #a60; }}
</style></head>
<body><h1>Service health</h1>
<table>{rows}</table>
<h2>Breaker <code>user-service</code></h2>
<p id="breaker">{breaker}</p>
<p><small>Reloads every {REFRESH_SECS} s.</small></p>
</body></html>
"#
    )
}

/// The breaker's state, how long until a trial call when open, or `unknown`.
fn breaker_line(breaker: Option<&Value>) -> String {
    let Some(breaker) = breaker else {
        return r#"<span class="unknown">unknown</span> (the order service did not answer)"#
            .to_owned();
    };
    // Only a known state becomes a CSS class and text: the value is not escaped.
    let state = breaker["state"]
        .as_str()
        .filter(|s| matches!(*s, "closed" | "open" | "half-open"))
        .unwrap_or("unknown");
    let mut line = format!(r#"<span class="{state}">{state}</span>"#);
    if state == "open" {
        let ms = breaker["retry_after_ms"].as_u64().unwrap_or(0);
        let _ = write!(line, ", a trial call in {} s", ms.div_ceil(1000));
    }
    line
}
