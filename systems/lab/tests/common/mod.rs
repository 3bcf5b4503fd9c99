//! Helpers shared by the lab's test files: the three services on free loopback ports with a
//! real Redis, and reading answers.

#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use lab::{dashboard, order, user};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use service_kit::Overrides;
use service_kit::{ServerConfig, Spawned};
use test_support::{ChildProcess, RedisServer};

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Server settings for `service` on a free port.
pub fn server(service: &str) -> ServerConfig {
    ServerConfig {
        instance_id: format!("{service}-test"),
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

/// `GET url`: status and text body.
pub async fn text(http: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = http.get(url).send().await.expect("request");
    let status = response.status();
    (status, response.text().await.expect("a body"))
}

/// The lab running in this process: Redis, user, order and dashboard.
pub struct Lab {
    pub redis: RedisServer,
    pub http: reqwest::Client,
    pub user: Spawned,
    pub order: Spawned,
    pub dashboard: Spawned,
}

impl Lab {
    /// The lab with the retry's pause at 20 ms and the breaker open for `open_for`.
    pub async fn start(open_for: &str) -> Self {
        let redis = RedisServer::start().expect("redis-server starts");
        let user =
            user::router(&user::Config::default(), &server("user-service")).expect("valid config");
        let user = service_kit::spawn(user).await.expect("serves");
        let config = order::Config {
            redis_url: redis.url(),
            user_service_url: user.url(""),
            breaker: Overrides::from_pairs([("timeout", open_for)]),
            retry: order::RetryConfig {
                attempts: 3,
                interval: Duration::from_millis(20),
            },
            ..order::Config::default()
        };
        let order = order::router(&config, &server("order-service"))
            .await
            .expect("valid config");
        let order = service_kit::spawn(order).await.expect("serves");
        let config = dashboard::Config {
            user_service_url: user.url(""),
            order_service_url: order.url(""),
            check_timeout: Duration::from_secs(2),
        };
        let dashboard = dashboard::router(&config, &server("dashboard")).expect("valid config");
        let dashboard = service_kit::spawn(dashboard).await.expect("serves");
        Self {
            redis,
            http: reqwest::Client::new(),
            user,
            order,
            dashboard,
        }
    }

    /// `POST /create_order` with `body`: status, headers, JSON.
    pub async fn create_order(&self, body: &Value) -> (StatusCode, HeaderMap, Value) {
        let url = self.order.url("/create_order");
        answer(self.http.post(url).json(body).send().await).await
    }

    /// The orders.
    pub async fn orders(&self) -> Value {
        let (status, _, body) = answer(self.http.get(self.order.url("/orders")).send().await).await;
        assert_eq!(status, StatusCode::OK);
        body
    }

    /// `PUT /faults` on the user service.
    pub async fn user_faults(&self, faults: &Value) {
        let url = self.user.url("/faults");
        let (status, _, body) = answer(self.http.put(url).json(faults).send().await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// The breaker's state as the order service reads it from Redis.
    pub async fn breaker_state(&self) -> String {
        let url = self.order.url("/breaker");
        let (status, _, body) = answer(self.http.get(url).send().await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["state"].as_str().expect("a state").to_owned()
    }
}

/// `lab <service>` with only `env` (and a free port on 127.0.0.1).
pub fn binary(service: &str, env: &[(&str, &str)]) -> ChildProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lab"));
    command
        .arg(service)
        .env_clear()
        .env("PORT", "0")
        .env("BIND_ADDR", "127.0.0.1")
        .envs(env.iter().copied());
    ChildProcess::spawn(command, service).expect("the lab binary starts")
}
