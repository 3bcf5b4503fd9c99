//! Helpers shared by the router tests: a real Redis, a real service-b router and service-a
//! routers, each on a free loopback port.

#![allow(dead_code)]

pub mod procs;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use reqwest::header::HeaderMap;
use serde_json::Value;
use service_a::Config;
use service_kit::{ServerConfig, Spawned};
use test_support::{RedisServer, wait_until};

/// The token the admin tests use.
pub const TOKEN: &str = "s3cret-token-of-the-tests";

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A Redis, a service-b (failing every third request) and the HTTP client to reach them.
pub struct Env {
    pub redis: RedisServer,
    pub b: Spawned,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Self {
        let redis = RedisServer::start().expect("redis-server starts");
        let b = start_b().await;
        Self {
            redis,
            b,
            http: reqwest::Client::new(),
        }
    }

    /// Service A's settings for this environment: defaults, with B's and Redis' addresses.
    pub fn config(&self) -> Config {
        Config {
            redis_url: self.redis.url(),
            service_b_url: self.b.url(""),
            ..Config::default()
        }
    }

    /// Service A with `config`, as replica `instance`.
    pub async fn start_a(&self, config: &Config, instance: &str) -> Spawned {
        start_a(config, instance).await
    }

    /// A `GET` to `url`: status, headers, JSON body.
    pub async fn get(&self, url: &str) -> (StatusCode, HeaderMap, Value) {
        answer(self.http.get(url).send().await).await
    }

    /// A `POST /breaker/{action}` to `a` with `Authorization: <auth>` if given.
    pub async fn admin(
        &self,
        a: &Spawned,
        action: &str,
        auth: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.post(a.url(&format!("/breaker/{action}")));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let (status, _, body) = answer(request.send().await).await;
        (status, body)
    }

    /// `GET /call-service-b` on `a`.
    pub async fn call(&self, a: &Spawned) -> (StatusCode, HeaderMap, Value) {
        self.get(&a.url("/call-service-b")).await
    }

    /// `GET /breaker` on `a`.
    pub async fn breaker(&self, a: &Spawned) -> (StatusCode, Value) {
        let (status, _, body) = self.get(&a.url("/breaker")).await;
        (status, body)
    }

    /// The breaker's snapshot once it has counted `requests` calls: a success is recorded
    /// in the background, and reaches Redis shortly after the answer (with the next call's
    /// admission, or after the breaker's short linger).
    pub async fn breaker_counted(&self, a: &Spawned, requests: u64) -> Value {
        wait_until(DEADLINE, &format!("{requests} calls counted"), || async {
            self.breaker(a).await.1["requests"].as_u64() >= Some(requests)
        })
        .await
        .expect("counted");
        self.breaker(a).await.1
    }

    /// Changes B's faults (`PUT /faults`).
    pub async fn faults(&self, update: Value) {
        let response = self
            .http
            .put(self.b.url("/faults"))
            .json(&update)
            .send()
            .await;
        assert_eq!(response.expect("PUT /faults").status(), StatusCode::OK);
    }

    /// The `/hello` requests B has received.
    pub async fn b_requests(&self) -> u64 {
        let (_, _, stats) = self.get(&self.b.url("/stats")).await;
        stats["requests"].as_u64().expect("a request count")
    }
}

/// Service B failing every third request, as replica `b-test`.
pub async fn start_b() -> Spawned {
    let server = ServerConfig {
        instance_id: "b-test".to_owned(),
        ..ServerConfig::new("service-b", 0)
    };
    let router = service_b::router(&service_b::Config { fail_every: 3 }, &server);
    service_kit::spawn(router).await.expect("service-b starts")
}

/// Service A with `config`, as replica `instance`.
pub async fn start_a(config: &Config, instance: &str) -> Spawned {
    let server = ServerConfig {
        instance_id: instance.to_owned(),
        ..ServerConfig::new("service-a", 0)
    };
    let router = service_a::router(config, &server)
        .await
        .expect("valid config");
    service_kit::spawn(router).await.expect("service-a starts")
}

/// An upstream whose `/hello` always answers `status` with `body` (as given, any type).
pub async fn fixed_upstream(status: StatusCode, body: &'static str) -> Spawned {
    let router = Router::new().route("/hello", get(move || async move { (status, body) }));
    service_kit::spawn(router).await.expect("upstream starts")
}

/// Like [`fixed_upstream`], counting the requests `/hello` receives.
pub async fn counting_upstream(
    status: StatusCode,
    body: &'static str,
) -> (Spawned, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&hits);
    let hello = move || {
        counter.fetch_add(1, Ordering::Relaxed);
        async move { (status, body) }
    };
    let router = Router::new().route("/hello", get(hello));
    let upstream = service_kit::spawn(router).await.expect("upstream starts");
    (upstream, hits)
}

/// The lines of `a`'s `/metrics` that start with `prefix`.
pub async fn metric_lines(env: &Env, a: &Spawned, prefix: &str) -> Vec<String> {
    let text = env
        .http
        .get(a.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// A raw Redis command's reply on `env`'s Redis.
pub async fn redis_query<T: redis::FromRedisValue>(env: &Env, cmd: &mut redis::Cmd) -> T {
    let mut con = env
        .redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    cmd.query_async(&mut con).await.expect("redis command")
}

/// Status, headers and JSON body of a response.
pub async fn answer(
    response: reqwest::Result<reqwest::Response>,
) -> (StatusCode, HeaderMap, Value) {
    let response = response.expect("request");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.expect("a JSON body");
    (status, headers, body)
}
