//! [`Page`]: one browser tab driven over its own DevTools connection.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::cdp::{COMMAND_TIMEOUT, Connection, Event};
use crate::wait_until;

/// One tab. Console errors, uncaught exceptions and error log entries of every document it
/// loads are collected from the moment it is opened (see [`errors`](Self::errors)).
#[derive(Debug)]
pub struct Page {
    connection: Connection,
    errors: Arc<Mutex<Vec<String>>>,
    collector: JoinHandle<()>,
}

impl Page {
    /// Takes over a fresh tab's connection and enables the domains whose events it collects.
    pub(super) async fn attach(connection: Connection) -> anyhow::Result<Self> {
        let errors = Arc::<Mutex<Vec<String>>>::default();
        let mut events = connection.subscribe();
        let found = Arc::clone(&errors);
        let collector = tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if let Some(error) = describe_error(&event) {
                            lock(&found).push(error);
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        lock(&found).push(format!("{missed} browser events were missed"));
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        let page = Self {
            connection,
            errors,
            collector,
        };
        for domain in ["Page", "Runtime", "Log"] {
            page.call(&format!("{domain}.enable"), json!({})).await?;
        }
        Ok(page)
    }

    /// Loads `url` and waits for its `load` event; fails when the navigation fails.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        let mut events = self.connection.subscribe();
        let reply = self.call("Page.navigate", json!({ "url": url })).await?;
        if let Some(error) = reply.get("errorText").and_then(Value::as_str) {
            bail!("navigating to {url}: {error}");
        }
        let loaded = async {
            loop {
                match events.recv().await {
                    Ok(event) if event.method == "Page.loadEventFired" => return Ok(()),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => bail!("the browser closed while loading {url}"),
                }
            }
        };
        tokio::time::timeout(COMMAND_TIMEOUT, loaded)
            .await
            .with_context(|| format!("{url} did not finish loading within {COMMAND_TIMEOUT:?}"))?
    }

    /// Evaluates a JavaScript expression in the page (awaiting it if it is a promise) and
    /// returns its value as JSON; a thrown exception becomes an `Err`.
    pub async fn eval(&self, expression: &str) -> anyhow::Result<Value> {
        let reply = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        if let Some(details) = reply.get("exceptionDetails") {
            bail!("`{expression}` threw: {}", describe_exception(details));
        }
        Ok(reply
            .pointer("/result/value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Waits until `expression` evaluates to a truthy value, failing at the deadline.
    pub async fn wait_for(&self, expression: &str, deadline: Duration) -> anyhow::Result<()> {
        let check = format!("Boolean({expression})");
        wait_until(deadline, expression, || async {
            self.eval(&check).await.ok() == Some(Value::Bool(true))
        })
        .await
    }

    /// The `textContent` of the first element matching `selector`; fails when there is none.
    pub async fn text(&self, selector: &str) -> anyhow::Result<String> {
        let selector_js = serde_json::to_string(selector)?;
        let value = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({selector_js}); \
                 return e === null ? null : e.textContent; }})()"
            ))
            .await?;
        match value {
            Value::String(text) => Ok(text),
            _ => bail!("no element matches `{selector}`"),
        }
    }

    /// Waits until the text of `selector` contains `needle` and returns that text; the error
    /// at the deadline shows the text it had then.
    pub async fn wait_for_text(
        &self,
        selector: &str,
        needle: &str,
        deadline: Duration,
    ) -> anyhow::Result<String> {
        let what = format!("`{selector}` to contain {needle:?}");
        let waited = wait_until(deadline, &what, || async {
            self.text(selector)
                .await
                .is_ok_and(|text| text.contains(needle))
        })
        .await;
        let text = self.text(selector).await;
        match (waited, text) {
            (Ok(()), Ok(text)) => Ok(text),
            (Err(e), Ok(text)) => Err(e.context(format!("`{selector}` has {text:?}"))),
            (_, Err(e)) => Err(e.context(what)),
        }
    }

    /// Clicks the first element matching `selector` (through the DOM, not the mouse).
    pub async fn click(&self, selector: &str) -> anyhow::Result<()> {
        let selector_js = serde_json::to_string(selector)?;
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({selector_js}); \
                 if (e === null) return false; e.click(); return true; }})()"
            ))
            .await?;
        if found != Value::Bool(true) {
            bail!("no element matches `{selector}`");
        }
        Ok(())
    }

    /// Sets the value of the input matching `selector` and fires `input` and `change`, as
    /// typing would.
    pub async fn set_value(&self, selector: &str, value: &str) -> anyhow::Result<()> {
        let (selector_js, value_js) = (
            serde_json::to_string(selector)?,
            serde_json::to_string(value)?,
        );
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({selector_js}); \
                 if (e === null) return false; e.value = {value_js}; \
                 e.dispatchEvent(new Event('input', {{ bubbles: true }})); \
                 e.dispatchEvent(new Event('change', {{ bubbles: true }})); return true; }})()"
            ))
            .await?;
        if found != Value::Bool(true) {
            bail!("no element matches `{selector}`");
        }
        Ok(())
    }

    /// Every console error, uncaught exception and error log entry seen so far.
    pub fn errors(&self) -> Vec<String> {
        lock(&self.errors).clone()
    }

    /// Fails, listing them, when the page reported any error (see [`errors`](Self::errors)).
    pub fn check_no_errors(&self) -> anyhow::Result<()> {
        let errors = self.errors();
        if !errors.is_empty() {
            bail!("the page reported errors:\n  {}", errors.join("\n  "));
        }
        Ok(())
    }

    /// Saves a PNG of the whole page (not only the viewport) to `path`.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let metrics = self.call("Page.getLayoutMetrics", json!({})).await?;
        let size = |name: &str| {
            metrics
                .pointer(&format!("/cssContentSize/{name}"))
                .and_then(Value::as_f64)
                .unwrap_or(800.0)
                .ceil()
        };
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": size("width"), "height": size("height"), "scale": 1},
                }),
            )
            .await?;
        let data = shot
            .get("data")
            .and_then(Value::as_str)
            .context("Page.captureScreenshot returned no data")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .context("decoding the screenshot")?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.connection.call(method, params).await
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.collector.abort();
    }
}

/// The error an event reports, if it is one of those [`Page::errors`] collects.
fn describe_error(event: &Event) -> Option<String> {
    let params = &event.params;
    match event.method.as_str() {
        "Runtime.consoleAPICalled" if params["type"] == "error" || params["type"] == "assert" => {
            let args: Vec<String> = params["args"]
                .as_array()
                .map(|args| args.iter().map(describe_value).collect())
                .unwrap_or_default();
            Some(format!(
                "console.{}: {}",
                params["type"].as_str().unwrap_or("error"),
                args.join(" ")
            ))
        }
        "Runtime.exceptionThrown" => Some(format!(
            "uncaught exception: {}",
            describe_exception(&params["exceptionDetails"])
        )),
        "Log.entryAdded" if params["entry"]["level"] == "error" => {
            let entry = &params["entry"];
            Some(format!(
                "log ({}): {} {}",
                entry["source"].as_str().unwrap_or("?"),
                entry["text"].as_str().unwrap_or(""),
                entry["url"].as_str().unwrap_or("")
            ))
        }
        _ => None,
    }
}

fn describe_exception(details: &Value) -> String {
    let text = details
        .pointer("/exception/description")
        .and_then(Value::as_str)
        .or_else(|| details["text"].as_str())
        .unwrap_or("unknown exception");
    match (details["url"].as_str(), details["lineNumber"].as_u64()) {
        (Some(url), Some(line)) => format!("{text} at {url}:{}", line + 1),
        _ => text.to_owned(),
    }
}

fn describe_value(value: &Value) -> String {
    match (&value["value"], value["description"].as_str()) {
        (Value::String(text), _) => text.clone(),
        (Value::Null, Some(description)) => description.to_owned(),
        (Value::Null, None) => value["type"].as_str().unwrap_or("?").to_owned(),
        (other, _) => other.to_string(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
