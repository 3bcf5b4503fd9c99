//! The whole shop as real processes: one redis-server, `shop payment`, `shop inventory`,
//! `shop shipping` and two `shop gateway` replicas, each its own binary on a free port, wired
//! by the same variables the launcher and compose set.

mod common;
mod gateway_support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::{ChildProcess, RedisServer, wait_until};

use gateway_support::{NO_FAULTS, answer, example_order, join_all, post_keyed};

const DEADLINE: Duration = Duration::from_secs(20);

/// One started `shop <service>` and where it listens.
struct Process {
    child: ChildProcess,
    base: String,
}

impl Process {
    async fn start(service: &str, env: &[(&str, &str)]) -> Self {
        let child = common::binary(service, env);
        let base = common::listening(&child).await;
        Self { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

struct Shop {
    redis: RedisServer,
    payment: Process,
    inventory: Process,
    shipping: Process,
    gateways: [Process; 2],
    http: reqwest::Client,
}

impl Shop {
    async fn start() -> Self {
        let redis = RedisServer::start().expect("redis-server starts");
        let redis_url = redis.url();
        let backend = |instance: &'static str| {
            let mut env = vec![
                ("REDIS_URL", redis_url.clone()),
                ("INSTANCE_ID", instance.into()),
            ];
            env.extend(NO_FAULTS.iter().map(|&(k, v)| (k, v.to_owned())));
            env
        };
        let payment = Process::start("payment", &borrowed(&backend("payment"))).await;
        let inventory = Process::start("inventory", &borrowed(&backend("inventory"))).await;
        let shipping = Process::start("shipping", &borrowed(&backend("shipping"))).await;
        let gateway = |instance: &'static str| {
            vec![
                ("INSTANCE_ID", instance.to_owned()),
                ("REDIS_URL", redis_url.clone()),
                ("PAYMENT_SERVICE_URL", payment.base.clone()),
                ("INVENTORY_SERVICE_URL", inventory.base.clone()),
                ("SHIPPING_SERVICE_URL", shipping.base.clone()),
                // Long enough that both replicas are asked while it is open, short enough to
                // see it close.
                ("BREAKER__TIMEOUT", "5s".to_owned()),
                ("BREAKER__RETRY_BACKOFF", "200ms".to_owned()),
            ]
        };
        let gateway_1 = Process::start("gateway", &borrowed(&gateway("gateway-1"))).await;
        let gateway_2 = Process::start("gateway", &borrowed(&gateway("gateway-2"))).await;
        Self {
            redis,
            payment,
            inventory,
            shipping,
            gateways: [gateway_1, gateway_2],
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, url: &str) -> (StatusCode, Value) {
        let (status, _, body) = answer(self.http.get(url).send().await).await;
        (status, body)
    }

    async fn stock(&self, product: &str) -> u64 {
        let url = self.inventory.url(&format!("/api/inventory/{product}"));
        let (status, body) = self.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["quantity"].as_u64().expect("a quantity")
    }

    async fn faults(&self, service: &Process, update: Value) {
        let request = self.http.put(service.url("/faults")).json(&update);
        let (status, _, body) = answer(request.send().await).await;
        assert_eq!(status, StatusCode::OK, "PUT /faults {update}: {body}");
    }

    async fn breaker_state(&self, name: &str) -> Option<String> {
        let mut con = self
            .redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .ok()?;
        let key = format!("breaker:{{{name}}}");
        redis::cmd("HGET")
            .arg(key)
            .arg("state")
            .query_async(&mut con)
            .await
            .ok()?
    }

    /// `/api/payments` requests that reached the payment process, from its own metrics.
    async fn payment_requests(&self) -> u64 {
        let text = self.http.get(self.payment.url("/metrics")).send().await;
        let text = text.expect("GET /metrics").text().await.expect("text");
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains("/api/payments"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// `promtool check metrics` on every process's `/metrics`.
    async fn check_metrics(&self, when: &str) {
        let all = [&self.payment, &self.inventory, &self.shipping]
            .into_iter()
            .chain(&self.gateways);
        for process in all {
            let text = self.http.get(process.url("/metrics")).send().await;
            let text = text.expect("GET /metrics").text().await.expect("text");
            if let Err(e) = test_support::promtool_check_metrics(&text) {
                panic!("{} {when}: {e:#}", process.child.name());
            }
        }
    }

    fn outputs(&self) -> String {
        let all = [&self.payment, &self.inventory, &self.shipping]
            .into_iter()
            .chain(&self.gateways);
        all.map(|p| format!("--- {}\n{}", p.child.name(), p.child.output()))
            .collect()
    }
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn payment_body(order: &str) -> Value {
    json!({"orderId": order, "amount": 100, "currency": "USD", "method": "credit_card"})
}

#[tokio::test]
async fn an_order_through_one_gateway_replays_through_the_other() {
    let shop = Shop::start().await;
    let [gw1, gw2] = &shop.gateways;
    let order = example_order();
    let (status, _, first) = post_keyed(&shop.http, &gw1.url("/api/orders"), "sys-1", &order).await;
    assert_eq!(status, StatusCode::CREATED, "{first}\n{}", shop.outputs());
    assert_eq!(first["amount"], 2800);
    assert_eq!(first["status"], "CREATED");
    assert!(
        first["orderId"]
            .as_str()
            .is_some_and(|id| id.starts_with("order-"))
    );
    assert_eq!(
        (shop.stock("prod-001").await, shop.stock("prod-002").await),
        (9, 13)
    );

    let (status, _, replay) =
        post_keyed(&shop.http, &gw2.url("/api/orders"), "sys-1", &order).await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay, first, "the replay answers the first result");
    assert_eq!(
        (shop.stock("prod-001").await, shop.stock("prod-002").await),
        (9, 13),
        "the replay took no stock"
    );
    let order_id = first["orderId"].as_str().expect("an id");
    let (status, payment) = shop
        .get(&shop.payment.url(&format!("/api/payments/{order_id}")))
        .await;
    assert_eq!(status, StatusCode::OK, "{payment}");
    assert_eq!(payment["amount"], 2800);
}

#[tokio::test]
async fn payment_down_opens_the_circuit_for_both_gateways_until_it_is_back() {
    let shop = Shop::start().await;
    let [gw1, gw2] = &shop.gateways;
    shop.faults(&shop.payment, json!({"down": true})).await;
    let mut n = 0;
    wait_until(DEADLINE, "payment-service open in Redis", || {
        n += 1;
        let url = gw1.url("/api/payments");
        let body = payment_body(&format!("down-{n}"));
        let shop = &shop;
        async move {
            let (status, _, _) = answer(shop.http.post(url).json(&body).send().await).await;
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{}",
                shop.outputs()
            );
            shop.breaker_state("payment-service").await.as_deref() == Some("open")
        }
    })
    .await
    .expect("the circuit opens");

    let reached = shop.payment_requests().await;
    for gw in [gw1, gw2] {
        let request = shop
            .http
            .post(gw.url("/api/payments"))
            .json(&payment_body("o-x"));
        let (status, headers, body) = answer(request.send().await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(
            body["message"],
            "Circuit Breaker activated: Payment service calls are suspended"
        );
        assert_eq!(body["error"], "Payment service is currently unavailable");
        assert!(headers.contains_key("retry-after"), "{headers:?}");
        assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    }
    assert_eq!(
        shop.payment_requests().await,
        reached,
        "an open circuit does not call payment"
    );

    shop.faults(&shop.payment, json!({"down": false})).await;
    let mut n = 0;
    wait_until(DEADLINE, "a payment through the closed circuit", || {
        n += 1;
        let request = shop
            .http
            .post(gw2.url("/api/payments"))
            .json(&payment_body(&format!("back-{n}")));
        async move { answer(request.send().await).await.0 == StatusCode::CREATED }
    })
    .await
    .expect("the circuit closes once payment is back");
    // The trial's outcome may reach Redis just after its answer.
    wait_until(DEADLINE, "payment-service closed in Redis", || async {
        shop.breaker_state("payment-service").await.as_deref() == Some("closed")
    })
    .await
    .expect("the circuit is closed in Redis");
}

#[tokio::test]
async fn every_process_passes_promtool_fresh_and_after_orders_and_a_trip() {
    let shop = Shop::start().await;
    shop.check_metrics("fresh").await;
    let fresh = shop.http.get(shop.gateways[0].url("/metrics")).send().await;
    let fresh = fresh.expect("GET /metrics").text().await.expect("text");
    let series = r#"breaker_rejections_total{breaker="payment-service"} 0"#;
    assert!(fresh.lines().any(|l| l == series), "{series} in:\n{fresh}");

    let order = example_order();
    let gateway = &shop.gateways[0];
    let (status, _, body) =
        post_keyed(&shop.http, &gateway.url("/api/orders"), "m-1", &order).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    shop.faults(&shop.payment, json!({"down": true})).await;
    let mut n = 0;
    wait_until(DEADLINE, "payment-service open in Redis", || {
        n += 1;
        let shop = &shop;
        let request = shop.http.post(gateway.url("/api/payments"));
        let request = request.json(&payment_body(&format!("m-{n}")));
        async move {
            let _ = request.send().await;
            shop.breaker_state("payment-service").await.as_deref() == Some("open")
        }
    })
    .await
    .expect("the circuit opens");
    shop.check_metrics("after orders and a trip").await;
}

#[tokio::test]
async fn shipping_limits_each_client_through_the_gateway() {
    let shop = Shop::start().await;
    let url = shop.gateways[0].url("/api/shipping");
    let statuses = join_all((0..15).map(|i| {
        let request = shop.http.post(url.clone()).json(&json!({
            "orderId": format!("ship-{i}"),
            "address": "1 Main Street",
            "items": [{"productId": "prod-003", "quantity": 1}],
        }));
        async move { answer(request.send().await).await }
    }))
    .await;
    let created = statuses.iter().filter(|(s, ..)| *s == StatusCode::CREATED);
    let limited: Vec<_> = statuses
        .iter()
        .filter(|(s, ..)| *s == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!((created.count(), limited.len()), (10, 5), "{statuses:?}");
    for (_, headers, body) in limited {
        assert_eq!(
            body["error"],
            "Too many requests from this IP, please try again after a minute"
        );
        assert!(headers.contains_key("retry-after"), "{headers:?}");
    }
}

#[tokio::test]
async fn redis_killed_mid_run_answers_no_500_and_shares_again_once_back() {
    let mut shop = Shop::start().await;
    shop.redis.kill();
    let urls = [
        shop.gateways[0].url("/api/inventory"),
        shop.gateways[1].url("/api/inventory/prod-003"),
        shop.gateways[1].url("/health"),
    ];
    for round in 0..5 {
        for url in &urls {
            let (status, body) = shop.get(url).await;
            assert!(
                status.is_success(),
                "{url}: {status} {body}\n{}",
                shop.outputs()
            );
        }
        let gateway = &shop.gateways[round % 2];
        let key = format!("redis-down-{round}");
        let order = gateway_support::order_of("prod-003", 1);
        let (status, _, body) =
            post_keyed(&shop.http, &gateway.url("/api/orders"), &key, &order).await;
        assert_eq!(status, StatusCode::CREATED, "{body}\n{}", shop.outputs());
    }
    assert_eq!(shop.stock("prod-003").await, 15);

    shop.redis.restart().expect("redis-server restarts");
    let shop = &shop;
    wait_until(
        DEADLINE,
        "the breakers and the limit back in Redis",
        || async move {
            let (status, _) = shop.get(&shop.gateways[0].url("/api/inventory")).await;
            assert!(status.is_success(), "{status}");
            shop.breaker_state("inventory-service").await.is_some()
        },
    )
    .await
    .expect("the gateway writes to Redis again");
}
