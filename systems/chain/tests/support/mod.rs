//! The chain as the tests run it: a private Redis and the real `chain` binary as three
//! processes (inventory, then order, then user, each told where the next listens), and how the
//! tests read answers, metrics and the breakers' hashes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use test_support::{ChildProcess, RedisServer};

/// Deadline for conditions the tests wait on, and for any one request: a hang fails the test.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// An answer: status, headers and JSON body (`Value::Null` when it is not JSON).
pub type Answer = (StatusCode, HeaderMap, Value);

/// One running service.
pub struct Running {
    /// Kept so that the process dies with the test.
    pub child: ChildProcess,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// Redis and the three services.
pub struct Chain {
    pub redis: RedisServer,
    pub inventory: Running,
    pub order: Running,
    pub user: Running,
    pub http: reqwest::Client,
}

/// Extra variables for each service.
#[derive(Default)]
pub struct Env<'a> {
    pub inventory: &'a [(&'a str, &'a str)],
    pub order: &'a [(&'a str, &'a str)],
    pub user: &'a [(&'a str, &'a str)],
}

/// The breakers wait this long for Redis instead of 100 ms: on a loaded test machine a slower
/// answer would have a breaker protect locally for a moment, and these tests read Redis.
const STORE_TIMEOUT: (&str, &str) = ("BREAKER__STORE_TIMEOUT", "2s");

impl Chain {
    /// The whole chain, with inventory's random failures off unless `env` sets them.
    pub async fn start(env: Env<'_>) -> Self {
        let redis = RedisServer::start().expect("redis-server starts");
        let redis_url = redis.url();
        let mut inventory_env = vec![("FAULTS__FAILURE_RATE", "0")];
        inventory_env.extend_from_slice(env.inventory);
        let inventory = start("inventory", &inventory_env).await;
        let mut order_env = vec![
            ("INVENTORY_SERVICE_URL", inventory.base.as_str()),
            ("REDIS_URL", redis_url.as_str()),
            STORE_TIMEOUT,
        ];
        order_env.extend_from_slice(env.order);
        let order = start("order", &order_env).await;
        let mut user_env = vec![
            ("ORDER_SERVICE_URL", order.base.as_str()),
            ("REDIS_URL", redis_url.as_str()),
            STORE_TIMEOUT,
        ];
        user_env.extend_from_slice(env.user);
        let user = start("user", &user_env).await;
        Self {
            redis,
            inventory,
            order,
            user,
            http: client(),
        }
    }

    /// `GET <base><path>`.
    pub async fn get(&self, base: &str, path: &str) -> Answer {
        get(&self.http, &format!("{base}{path}")).await
    }

    /// `PUT /faults` on inventory; panics unless it is accepted.
    pub async fn inventory_faults(&self, faults: &Value) {
        let url = format!("{}/faults", self.inventory.base);
        let (status, _, body) = answer(self.http.put(&url).json(faults).send().await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// How often inventory was asked `GET /inventory`, whatever it answered, by its metrics.
    pub async fn inventory_calls(&self) -> u64 {
        metric_sum(
            &self.http,
            &self.inventory.base,
            "http_requests_total{",
            &["route=\"/inventory\""],
        )
        .await
    }

    /// The breaker's hash in Redis, `HGETALL breaker:{<name>}`.
    pub async fn breaker(&self, name: &str) -> HashMap<String, String> {
        let mut conn = self
            .redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        redis::cmd("HGETALL")
            .arg(format!("breaker:{{{name}}}"))
            .query_async(&mut conn)
            .await
            .expect("HGETALL")
    }

    /// The breaker's `state` in Redis (`closed` when it has none yet).
    pub async fn state(&self, name: &str) -> String {
        self.breaker(name)
            .await
            .remove("state")
            .unwrap_or_else(|| "closed".to_owned())
    }

    /// Waits until the breaker's state in Redis is `state`.
    pub async fn wait_state(&self, name: &str, state: &str) {
        test_support::wait_until(DEADLINE, &format!("{name} {state}"), || async {
            self.state(name).await == state
        })
        .await
        .expect("the breaker's state");
    }
}

/// A client that gives up on any request after [`DEADLINE`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .expect("client")
}

/// A response's status, headers and JSON body.
pub async fn answer(response: reqwest::Result<reqwest::Response>) -> Answer {
    let response = response.expect("an answer within the deadline");
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response.json().await.unwrap_or(Value::Null);
    test_support::take_error_code(status.as_u16(), &mut body);
    (status, headers, body)
}

/// `GET url`.
pub async fn get(http: &reqwest::Client, url: &str) -> Answer {
    answer(http.get(url).send().await).await
}

/// The sum of the series of `metric` (e.g. `http_requests_total{`) whose labels contain every
/// one of `labels`, in the metrics at `base`.
pub async fn metric_sum(http: &reqwest::Client, base: &str, metric: &str, labels: &[&str]) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with(metric) && labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// `chain <service>` with only `env` (and a free port on 127.0.0.1).
pub fn binary(service: &str, env: &[(&str, &str)]) -> ChildProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chain"));
    command
        .arg(service)
        .env_clear()
        .env("PORT", "0")
        .env("BIND_ADDR", "127.0.0.1")
        .envs(env.iter().copied());
    ChildProcess::spawn(command, service).expect("the chain binary starts")
}

/// `chain <service>` started and listening.
pub async fn start(service: &str, env: &[(&str, &str)]) -> Running {
    let child = binary(service, env);
    let line = child
        .wait_for_line_async("listening on ", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{service} listens: {e}\n{}", child.output()));
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address in the line")
        .to_owned();
    Running {
        child,
        base: format!("http://{addr}"),
    }
}

/// `chain <service>` refuses to start: it exits with a failure naming `variable`.
pub fn refuses_to_start(service: &str, env: &[(&str, &str)], variable: &str) {
    let child = binary(service, env);
    let status = child.wait_exit(DEADLINE).expect("exits");
    assert!(!status.success(), "{}", child.output());
    assert!(child.output().contains(variable), "{}", child.output());
}

/// The seconds of a `Retry-After` header.
pub fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers.get("retry-after")?.to_str().ok()?.parse().ok()
}
