//! Helpers shared by the discovery tests: real Redis, the real `discovery` binary on free
//! ports, and reading answers.

#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use test_support::{ChildProcess, RedisServer, free_port, wait_until};

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// `GET url`: status and JSON body (`Null` when not JSON).
pub async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let response = http.get(url).send().await.expect("request");
    let status = response.status();
    let mut body = response.json().await.unwrap_or(Value::Null);
    test_support::take_error_code(status.as_u16(), &mut body);
    (status, body)
}

/// `POST url` with a JSON body: status and JSON body.
pub async fn post(http: &reqwest::Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let response = http.post(url).json(body).send().await.expect("request");
    let status = response.status();
    let mut body = response.json().await.unwrap_or(Value::Null);
    test_support::take_error_code(status.as_u16(), &mut body);
    (status, body)
}

/// `DELETE url`: status and JSON body.
pub async fn delete(http: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    let response = http.delete(url).send().await.expect("request");
    let status = response.status();
    let mut body = response.json().await.unwrap_or(Value::Null);
    test_support::take_error_code(status.as_u16(), &mut body);
    (status, body)
}

/// Redis's clock in ms since the epoch (the registry's clock).
pub async fn redis_ms(redis: &RedisServer) -> u64 {
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let (s, us): (u64, u64) = redis::cmd("TIME")
        .query_async(&mut conn)
        .await
        .expect("TIME");
    s * 1000 + us / 1000
}

/// A running `discovery <service>` on 127.0.0.1.
pub struct Process {
    /// The child; dropped, it is killed.
    pub child: ChildProcess,
    /// Its port.
    pub port: u16,
}

impl Process {
    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// `discovery <service>` on `port` with only `env`, once it listens.
pub async fn start_on(service: &str, port: u16, env: &[(&str, &str)]) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_discovery"));
    command
        .arg(service)
        .env_clear()
        .env("PORT", port.to_string())
        .env("BIND_ADDR", "127.0.0.1")
        .envs(env.iter().copied());
    let child = ChildProcess::spawn(command, service).expect("the discovery binary starts");
    child
        .wait_for_line_async("listening on ", DEADLINE)
        .await
        .expect("listening");
    Process { child, port }
}

/// `discovery <service>` on a free port.
pub async fn start(service: &str, env: &[(&str, &str)]) -> Process {
    start_on(service, free_port(), env).await
}

/// A discovery server on `redis`.
pub async fn server(redis: &RedisServer) -> Process {
    start("server", &[("REDIS_URL", &redis.url())]).await
}

/// An instance (`user`, `order`, `gateway`) registering with `server` every `interval`
/// seconds, with `extra` settings.
pub async fn instance(
    kind: &str,
    port: u16,
    server: &Process,
    interval: &str,
    extra: &[(&str, &str)],
) -> Process {
    let url = server.url("");
    let mut env = vec![
        ("DISCOVERY_URL", url.as_str()),
        ("HEARTBEAT_INTERVAL", interval),
    ];
    env.extend_from_slice(extra);
    start_on(kind, port, &env).await
}

/// The ports of `name`'s alive instances, sorted.
pub async fn ports(http: &reqwest::Client, server: &Process, name: &str) -> Vec<u64> {
    let (status, body) = get(http, &server.url(&format!("/services/{name}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut ports: Vec<u64> = body["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|i| i["port"].as_u64())
        .collect();
    ports.sort_unstable();
    ports
}

/// Waits until `name`'s alive instances are on exactly `expected`.
pub async fn wait_for_ports(
    http: &reqwest::Client,
    server: &Process,
    name: &str,
    expected: &[u16],
) {
    let want: Vec<u64> = {
        let mut v: Vec<u64> = expected.iter().map(|p| u64::from(*p)).collect();
        v.sort_unstable();
        v
    };
    wait_until(DEADLINE, &format!("{name} on {expected:?}"), || async {
        ports(http, server, name).await == want
    })
    .await
    .expect("registered");
}
