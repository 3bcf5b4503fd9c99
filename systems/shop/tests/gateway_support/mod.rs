//! What the gateway's tests share: a real Redis, the real payment, inventory and shipping
//! routers and gateway replicas, each on a free loopback port, configured through the same
//! variables as in production; and reading answers.

#![allow(dead_code)]

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use service_kit::{Loader, ServerConfig, Spawned};
use shop::{gateway, inventory, payment, shipping};
use test_support::{RedisServer, wait_until};

/// Deadline for conditions the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// A body over service-kit's default 64 KiB limit.
pub fn oversized() -> String {
    format!(r#"{{"pad":"{}"}}"#, "x".repeat(70 * 1024))
}

/// The order of the contract's example: prod-001 × 1 + prod-002 × 2, 2800 in all.
pub fn example_order() -> Value {
    json!({
        "items": [
            {"productId": "prod-001", "quantity": 1},
            {"productId": "prod-002", "quantity": 2},
        ],
        "payment": {"currency": "USD", "method": "credit_card"},
        "shippingAddress": "1 Main Street, Springfield",
    })
}

/// An order of `quantity` × `product`.
pub fn order_of(product: &str, quantity: u64) -> Value {
    json!({
        "items": [{"productId": product, "quantity": quantity}],
        "payment": {"currency": "USD", "method": "credit_card"},
        "shippingAddress": "1 Main Street, Springfield",
    })
}

/// Settings read from `vars` as the environment would give them.
fn load<T: serde::de::DeserializeOwned>(vars: &[(&str, &str)]) -> T {
    Loader::from_vars(vars.iter().copied())
        .and_then(|loader| loader.load())
        .unwrap_or_else(|e| panic!("settings {vars:?}: {e}"))
}

fn server(service: &str, instance: &str) -> ServerConfig {
    ServerConfig {
        instance_id: instance.to_owned(),
        ..ServerConfig::new(service, 0)
    }
}

/// Deterministic simulated faults: nothing fails, nothing waits (the generic faults, and
/// inventory's database's own).
pub const NO_FAULTS: [(&str, &str); 5] = [
    ("FAULTS__FAILURE_RATE", "0"),
    ("FAULTS__DELAY_MS", "0"),
    ("PRODUCT_FAILURE_RATE", "0"),
    ("UPDATE_FAILURE_RATE", "0"),
    ("LIST_MAX_DELAY_MS", "0"),
];

/// A Redis, the three services and a client.
pub struct Shop {
    pub redis: RedisServer,
    pub payment: Spawned,
    pub inventory: Spawned,
    pub shipping: Spawned,
    pub http: reqwest::Client,
}

impl Shop {
    /// Everything started, the services' simulated faults off.
    pub async fn start() -> Self {
        let redis = RedisServer::start().expect("redis-server starts");
        let url = redis.url();
        let mut vars = vec![("REDIS_URL", url.as_str())];
        vars.extend(NO_FAULTS);
        let payment = payment::router(&load(&vars), &server("payment-service", "payment-t"))
            .await
            .expect("payment's router");
        let inventory = inventory::router(&load(&vars), &server("inventory-service", "inv-t"))
            .await
            .expect("inventory's router");
        let shipping = shipping::router(&load(&vars), &server("shipping-service", "ship-t"))
            .await
            .expect("shipping's router");
        Self {
            redis,
            payment: service_kit::spawn(payment).await.expect("payment starts"),
            inventory: service_kit::spawn(inventory)
                .await
                .expect("inventory starts"),
            shipping: service_kit::spawn(shipping).await.expect("shipping starts"),
            http: reqwest::Client::new(),
        }
    }

    /// A gateway replica `instance` on this shop, with `extra` variables.
    pub async fn gateway(&self, instance: &str, extra: &[(&str, &str)]) -> Spawned {
        let (redis, payment) = (self.redis.url(), self.payment.url(""));
        let (inventory, shipping) = (self.inventory.url(""), self.shipping.url(""));
        let mut vars = vec![
            ("REDIS_URL", redis.as_str()),
            ("PAYMENT_SERVICE_URL", payment.as_str()),
            ("INVENTORY_SERVICE_URL", inventory.as_str()),
            ("SHIPPING_SERVICE_URL", shipping.as_str()),
        ];
        vars.extend(extra.iter().copied());
        let config: gateway::Config = load(&vars);
        let router = gateway::router(&config, &server("api-gateway", instance))
            .await
            .expect("the gateway's settings are valid");
        service_kit::spawn(router)
            .await
            .expect("the gateway starts")
    }

    /// Changes a service's faults (`PUT /faults`).
    pub async fn faults(&self, service: &Spawned, update: Value) {
        let response = self.http.put(service.url("/faults")).json(&update).send();
        let (status, _, body) = answer(response.await).await;
        assert_eq!(status, StatusCode::OK, "PUT /faults {update}: {body}");
    }

    /// A product's stock, read from inventory directly.
    pub async fn stock(&self, product: &str) -> u64 {
        let url = self.inventory.url(&format!("/api/inventory/{product}"));
        let (status, _, body) = get(&self.http, &url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["quantity"].as_u64().expect("a quantity")
    }

    /// The payment of `order_id`, read from payment directly (`None`: not charged).
    pub async fn payment_of(&self, order_id: &str) -> Option<Value> {
        let url = self.payment.url(&format!("/api/payments/{order_id}"));
        let (status, _, body) = get(&self.http, &url).await;
        (status == StatusCode::OK).then_some(body)
    }

    /// A raw Redis command's reply.
    pub async fn redis<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> T {
        let client = self.redis.client();
        let mut con = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        cmd.query_async(&mut con).await.expect("redis command")
    }

    /// The state of breaker `name` as `redis-cli HGET breaker:{name} state` shows it.
    pub async fn breaker_state(&self, name: &str) -> Option<String> {
        self.redis(
            redis::cmd("HGET")
                .arg(format!("breaker:{{{name}}}"))
                .arg("state"),
        )
        .await
    }

    /// Waits until breaker `name` reads `state` in Redis.
    pub async fn wait_breaker(&self, name: &str, state: &str) {
        wait_until(DEADLINE, &format!("{name} {state}"), || async {
            self.breaker_state(name).await.as_deref() == Some(state)
        })
        .await
        .expect("the breaker's state");
    }
}

/// A client whose requests come from `ip` (127.0.0.1, 127.0.0.2, ...).
pub fn client_from(ip: &str) -> reqwest::Client {
    let ip: IpAddr = ip.parse().expect("an IP");
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .expect("a client")
}

/// A response's status, headers and JSON body (`Value::Null` when it is not JSON).
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

/// `GET url`.
pub async fn get(http: &reqwest::Client, url: &str) -> (StatusCode, HeaderMap, Value) {
    answer(http.get(url).send().await).await
}

/// `POST url` with a JSON body.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    answer(http.post(url).json(body).send().await).await
}

/// `POST url` with a JSON body and an `Idempotency-Key`.
pub async fn post_keyed(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, HeaderMap, Value) {
    let request = http.post(url).header("idempotency-key", key).json(body);
    answer(request.send().await).await
}

/// `POST url` with `raw` as the body, typed `content_type`.
pub async fn post_raw(
    http: &reqwest::Client,
    url: &str,
    content_type: &str,
    raw: impl Into<reqwest::Body>,
) -> (StatusCode, HeaderMap, Value) {
    let request = http
        .post(url)
        .header("content-type", content_type)
        .body(raw);
    answer(request.send().await).await
}

/// The sum of the `http_requests_total` series in `/metrics` whose labels contain every one
/// of `labels` (`route="/api/payments"`).
pub async fn requests(http: &reqwest::Client, service: &Spawned, labels: &[&str]) -> u64 {
    let text = http
        .get(service.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Runs every future at once, each in its own task, and gives their outputs in order.
pub async fn join_all<T, F>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(tasks.len());
    for task in tasks {
        outputs.push(task.await.expect("the task ends"));
    }
    outputs
}
