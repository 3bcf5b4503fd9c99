//! What the dashboard tests share: a real Redis, the real `dashboard` binary on a free port,
//! real breakers (breaker-redis on the same Redis) to make transitions, and a reader of
//! Server-Sent Events.

#![allow(dead_code)]

pub mod sse;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use breaker_redis::{Breaker, Config, RedisStore, TripPolicy};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{ChildProcess, POLL_INTERVAL, RedisServer, cargo_bin, wait_until};

/// The token the override tests use.
pub const TOKEN: &str = "dash-s3cret-token";

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The running dashboard binary and its base URL.
pub struct Dashboard {
    pub process: ChildProcess,
    pub base: String,
    pub http: reqwest::Client,
}

impl Dashboard {
    /// Starts the binary on `redis_url` with `ADMIN_TOKEN` = [`TOKEN`], plus `env`, and waits
    /// until `/ready` answers 200 (Redis read and the live feed subscribed).
    pub async fn start(redis_url: &str, env: &[(&str, &str)]) -> Self {
        let dashboard = Self::spawn(redis_url, env).await;
        dashboard.wait_ready().await;
        dashboard
    }

    /// Starts the binary without waiting for Redis.
    pub async fn spawn(redis_url: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(cargo_bin("dashboard"));
        cmd.env_clear()
            .envs([
                ("PORT", "0"),
                ("BIND_ADDR", "127.0.0.1"),
                ("RUST_LOG", "info,dashboard=debug"),
                ("REDIS_URL", redis_url),
                ("ADMIN_TOKEN", TOKEN),
                ("REDIS_TIMEOUT", "500ms"),
            ])
            .envs(env.iter().copied());
        let process = ChildProcess::spawn(cmd, "dashboard").expect("the binary starts");
        let line = process
            .wait_for_line_async("listening on ", DEADLINE)
            .await
            .unwrap_or_else(|e| panic!("the dashboard did not start: {e:#}"));
        let addr: SocketAddr = line
            .rsplit("listening on ")
            .next()
            .and_then(|rest| rest.split(['"', ' ']).next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self {
            process,
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(DEADLINE)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `GET /ready` answers 200.
    pub async fn wait_ready(&self) {
        let url = self.url("/ready");
        wait_until(DEADLINE, "the dashboard is ready", || async {
            self.http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK)
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", self.process.output()));
    }

    /// A `GET`: status and JSON body.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json(self.http.get(self.url(path)).send().await, path).await
    }

    /// A `POST` with `Authorization: <auth>` when given: status and JSON body.
    pub async fn post(&self, path: &str, auth: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.post(self.url(path));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        json(request.send().await, path).await
    }

    /// `POST /api/breakers/{name}/{action}` with the right token.
    pub async fn apply(&self, name: &str, action: &str) -> (StatusCode, Value) {
        self.apply_path(&format!("/api/breakers/{name}/{action}"))
            .await
    }

    /// A `POST` to `path` with the right token.
    pub async fn apply_path(&self, path: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {TOKEN}");
        self.post(path, Some(&bearer)).await
    }
}

async fn json(response: reqwest::Result<reqwest::Response>, path: &str) -> (StatusCode, Value) {
    let response = response.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status();
    let body = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{path} answered {status} without JSON: {e}"));
    (status, body)
}

/// A breaker on `redis` that opens after 2 failures in a row and stays open a minute: a
/// replica of some service, as the dashboard would find it.
pub async fn breaker(redis: &RedisServer, name: &str) -> Breaker {
    let store = RedisStore::connect(&redis.url()).await.expect("a store");
    let config = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .open_timeout(Duration::from_secs(60))
        .build()
        .expect("valid");
    Breaker::builder(name)
        .config(config)
        .store(store)
        .replica_id("test-replica")
        .build()
        .expect("a breaker")
}

/// One successful call: the breaker's state now exists in Redis.
pub async fn call_ok(breaker: &Breaker) {
    let permit = breaker.acquire().await.expect("admitted");
    permit.success().await;
}

/// Two failed calls: the circuit opens (the transition is in Redis once this returns).
pub async fn trip(breaker: &Breaker) {
    for _ in 0..2 {
        let permit = breaker.acquire().await.expect("admitted");
        permit.failure().await;
    }
}

/// Waits until `GET /api/breakers/{name}` shows `field` = `value`; returns that answer.
pub async fn wait_field(dashboard: &Dashboard, name: &str, field: &str, value: &str) -> Value {
    let path = format!("/api/breakers/{name}");
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, body) = dashboard.get(&path).await;
        if status == StatusCode::OK && body[field] == value {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "{name} did not show {field}={value} within {DEADLINE:?}; last answer {status} {body}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
