//! The real binaries as child processes, for the end-to-end tests.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use test_support::ChildProcess;

/// How long a binary may take to start.
const START: Duration = Duration::from_secs(20);

/// A running service binary and its base URL.
pub struct Service {
    pub process: ChildProcess,
    pub base: String,
}

impl Service {
    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Starts `program` with only `env` (plus `PORT=0`, `BIND_ADDR=127.0.0.1` and `RUST_LOG=info`)
/// and waits for its `listening on` line.
pub async fn start(program: &Path, name: &str, env: &[(&str, &str)]) -> Service {
    let process = spawn(program, name, env);
    let line = process.wait_for_line_async("listening on ", START).await;
    let line = line.unwrap_or_else(|e| panic!("{name} did not start: {e:#}"));
    let addr: SocketAddr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Service {
        process,
        base: format!("http://{addr}"),
    }
}

/// Spawns `program` with a clean environment: only `env` and the defaults of [`start`].
pub fn spawn(program: &Path, name: &str, env: &[(&str, &str)]) -> ChildProcess {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs([
            ("PORT", "0"),
            ("BIND_ADDR", "127.0.0.1"),
            ("RUST_LOG", "info"),
        ])
        .envs(env.iter().copied());
    ChildProcess::spawn(cmd, name).expect("the binary starts")
}

/// A `GET`: status, headers and JSON body.
pub async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, HeaderMap, Value) {
    let response = http
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"));
    (status, headers, body)
}
