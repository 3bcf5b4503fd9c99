//! Helpers shared by the test files: a service-b router on a free loopback port.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use service_b::Config;
use service_kit::{ServerConfig, Spawned};

/// The instance id the spawned routers report.
pub const INSTANCE: &str = "b-test";

/// Service B with `FAIL_EVERY=fail_every`, served on 127.0.0.1.
pub async fn start(fail_every: u64) -> Spawned {
    let server = ServerConfig {
        instance_id: INSTANCE.to_owned(),
        ..ServerConfig::new("service-b", 0)
    };
    let router = service_b::router(&Config { fail_every }, &server);
    service_kit::spawn(router).await.expect("service-b starts")
}

/// The status and JSON body of a response.
pub async fn answer(response: reqwest::Result<reqwest::Response>) -> (StatusCode, Value) {
    let response = response.expect("request");
    let status = response.status();
    (status, response.json().await.expect("JSON body"))
}
