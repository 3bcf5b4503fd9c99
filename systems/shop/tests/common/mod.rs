//! Helpers shared by the shop's test files: routers on free loopback ports, the real `shop`
//! binary, and reading answers.

#![allow(dead_code)]

pub mod shipping;

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use service_kit::ServerConfig;
use test_support::ChildProcess;

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Server settings for `service` as replica `instance`, on a free port.
pub fn server(service: &str, instance: &str) -> ServerConfig {
    ServerConfig {
        instance_id: instance.to_owned(),
        ..ServerConfig::new(service, 0)
    }
}

/// A response's status, headers and JSON body (`Value::Null` when the body is not JSON).
pub async fn answer(
    response: reqwest::Result<reqwest::Response>,
) -> (StatusCode, HeaderMap, Value) {
    let response = response.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response.json().await.unwrap_or(Value::Null);
    test_support::take_error_code(status.as_u16(), &mut body);
    (status, headers, body)
}

/// `GET url`: status and JSON body.
pub async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let (status, _, body) = answer(http.get(url).send().await).await;
    (status, body)
}

/// `POST url` with a JSON body: status and JSON body.
pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let (status, _, body) = answer(http.post(url).json(body).send().await).await;
    (status, body)
}

/// `POST url` with `raw` as the body and `content_type`: status and JSON body.
pub async fn post_raw(
    http: &reqwest::Client,
    url: &str,
    content_type: &str,
    raw: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let request = http
        .post(url)
        .header("content-type", content_type)
        .body(raw);
    let (status, _, body) = answer(request.send().await).await;
    (status, body)
}

/// Posts each `(content type, raw body, status)` to `url` and requires that status with a JSON
/// `error`: bad bodies a JSON route must refuse before it reads them.
pub async fn refuses_raw(http: &reqwest::Client, url: &str, cases: Vec<(&str, String, u16)>) {
    for (content_type, body, expected) in cases {
        let (status, answer) = post_raw(http, url, content_type, body).await;
        assert_eq!(status.as_u16(), expected, "{url} {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
}

/// `PUT /faults` on the service at `base`; panics unless it is accepted.
pub async fn set_faults(http: &reqwest::Client, base: &str, faults: &Value) -> Value {
    let url = format!("{base}/faults");
    let (status, _, body) = answer(http.put(&url).json(faults).send().await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The bodies a JSON route must refuse with a 4xx, whatever its fields: not JSON, and over
/// the default 64 KiB limit.
pub fn oversized() -> String {
    format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024))
}

/// `shop <service>` with only `env` (and a free port on 127.0.0.1).
pub fn binary(service: &str, env: &[(&str, &str)]) -> ChildProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
    command
        .arg(service)
        .env_clear()
        .env("PORT", "0")
        .env("BIND_ADDR", "127.0.0.1")
        .envs(env.iter().copied());
    ChildProcess::spawn(command, service).expect("the shop binary starts")
}

/// The base URL a started binary listens on, from its `listening on` line.
pub async fn listening(child: &ChildProcess) -> String {
    let line = child
        .wait_for_line_async("listening on ", DEADLINE)
        .await
        .expect("listening");
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address in the line");
    format!("http://{addr}")
}

/// Waits for a binary that must refuse to start: its exit status was a failure and its
/// output names `variable`.
pub fn refuses_to_start(service: &str, env: &[(&str, &str)], variable: &str) {
    let child = binary(service, env);
    let status = child.wait_exit(DEADLINE).expect("exits");
    assert!(!status.success(), "{}", child.output());
    assert!(child.output().contains(variable), "{}", child.output());
}
