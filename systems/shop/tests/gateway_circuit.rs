//! The gateway's breakers and rate limit shared by two replicas in Redis, and what they do
//! while Redis is gone. Only these tests call payment's `GET /api/payments/{order_id}`, so
//! that its request count (the metrics are the process's) counts theirs alone.

mod gateway_support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use service_kit::Spawned;
use test_support::wait_until;

use gateway_support::{
    DEADLINE, Shop, client_from, example_order, get, post, post_keyed, requests,
};

const CIRCUIT_OPEN: &str = "Circuit Breaker activated: Payment service calls are suspended";

/// Payment's own count of `GET /api/payments/{order_id}`.
async fn payment_lookups(shop: &Shop) -> u64 {
    let route = "route=\"/api/payments/{order_id}\"";
    requests(&shop.http, &shop.payment, &[route]).await
}

fn assert_circuit_open(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "Payment service is currently unavailable");
    assert_eq!(body["message"], CIRCUIT_OPEN);
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
}

#[tokio::test]
async fn payment_down_opens_the_circuit_for_both_replicas_until_it_is_back() {
    let shop = Shop::start().await;
    // Open long enough to ask both replicas, short enough not to wait out the seed's 30 s;
    // a budget for polling until it closes.
    let open_for = [
        ("BREAKER__TIMEOUT", "5s"),
        ("RATE_LIMIT_PER_MINUTE", "100000"),
    ];
    let a = shop.gateway("gw-a", &open_for).await;
    let b = shop.gateway("gw-b", &open_for).await;
    let http = &shop.http;

    shop.faults(&shop.payment, json!({"down": true})).await;
    let (status, _, body) = get(http, &a.url("/api/payments/o-1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "Payment service is down", "passed through");
    shop.wait_breaker("payment-service", "open").await;

    let before = payment_lookups(&shop).await;
    for gw in [&a, &b] {
        let (status, headers, body) = get(http, &gw.url("/api/payments/o-2")).await;
        assert_circuit_open(status, &headers, &body);
    }
    let (status, headers, body) = post(http, &b.url("/api/orders"), &example_order()).await;
    assert_circuit_open(status, &headers, &body);
    assert_eq!(payment_lookups(&shop).await, before, "payment was called");
    let (_, _, health) = get(http, &b.url("/health")).await;
    assert_eq!(health["services"][0]["breaker"], "open", "{health}");

    shop.faults(&shop.payment, json!({"down": false})).await;
    wait_until(DEADLINE, "the circuit to let calls through", || async {
        let (status, _, _) = get(http, &b.url("/api/payments/o-3")).await;
        status == StatusCode::NOT_FOUND
    })
    .await
    .expect("closed after the open period");
    // The trial's outcome may reach Redis just after its answer.
    wait_until(DEADLINE, "payment-service closed in Redis", || async {
        shop.breaker_state("payment-service").await.as_deref() == Some("closed")
    })
    .await
    .expect("the circuit is closed in Redis");
    let (status, _, _) = get(http, &a.url("/api/payments/o-4")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A `POST /api/payments` through `gw` from `client`: its status and body.
async fn pay(client: &reqwest::Client, gw: &Spawned, order_id: &str) -> (StatusCode, Value) {
    let body = json!({"orderId": order_id, "amount": 10});
    let (status, _, body) = post(client, &gw.url("/api/payments"), &body).await;
    (status, body)
}

/// `n` requests through `gw` from `client`, to a route every replica limits: their statuses.
async fn burst(client: &reqwest::Client, gw: &Spawned, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::with_capacity(n);
    for _ in 0..n {
        let (status, _, _) = get(client, &gw.url("/api/inventory/prod-001")).await;
        statuses.push(status);
    }
    statuses
}

#[tokio::test]
async fn with_redis_gone_nothing_fails_and_sharing_resumes_once_it_is_back() {
    let mut shop = Shop::start().await;
    let (a, b) = (
        shop.gateway("gw-a", &[]).await,
        shop.gateway("gw-b", &[]).await,
    );
    shop.redis.kill();

    // Every route still answers, nothing with a 500.
    let (status, _, body) = post_keyed(
        &shop.http,
        &a.url("/api/orders"),
        "no-redis",
        &example_order(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, replay) = post_keyed(
        &shop.http,
        &a.url("/api/orders"),
        "no-redis",
        &example_order(),
    )
    .await;
    assert_eq!(
        (status, &replay),
        (StatusCode::CREATED, &body),
        "replayed from the local record"
    );
    let (status, _, health) = get(&shop.http, &b.url("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["gateway"], "UP", "{health}");
    let (status, _) = pay(&shop.http, &b, "no-redis-1").await;
    assert_eq!(status, StatusCode::CREATED);

    // Each replica protects on its own: its own budget, its own breaker.
    let limited = client_from("127.0.0.6");
    let statuses = burst(&limited, &a, 101).await;
    assert!(
        statuses[..100].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[100], StatusCode::TOO_MANY_REQUESTS);
    shop.faults(&shop.payment, json!({"down": true})).await;
    let poller = client_from("127.0.0.9");
    // A's own breaker counts its calls: the order's payment went through, so it opens on the
    // failure that makes more than half.
    wait_until(DEADLINE, "a's local circuit to open", || async {
        let (status, body) = pay(&poller, &a, "no-redis-2").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        body["message"] == CIRCUIT_OPEN
    })
    .await
    .expect("protected locally");

    shop.redis.restart().expect("redis restarts");
    shop.faults(&shop.payment, json!({"down": false})).await;
    // Reading the shared state for /health tells a replica that Redis is back.
    for gw in [&a, &b] {
        wait_until(
            DEADLINE,
            "the replica to read its breakers in Redis",
            || async {
                let (status, _, health) = get(&shop.http, &gw.url("/health")).await;
                assert_eq!(status, StatusCode::OK);
                let services = health["services"].as_array().cloned().unwrap_or_default();
                services.iter().all(|s| s["breaker"] == "closed")
            },
        )
        .await
        .expect("back on Redis");
        let (status, _) = pay(&shop.http, gw, "back").await;
        assert!(status.is_success(), "{status}");
    }
    // The window holds the successes above: a fails until more than half failed.
    shop.faults(&shop.payment, json!({"down": true})).await;
    let poller = client_from("127.0.0.12");
    wait_until(DEADLINE, "a to open the shared circuit", || async {
        let (status, _) = pay(&poller, &a, "again-1").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        shop.breaker_state("payment-service").await.as_deref() == Some("open")
    })
    .await
    .expect("opened");
    let (status, body) = pay(&shop.http, &b, "again-2").await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!(CIRCUIT_OPEN)),
        "opened by a, seen by b"
    );

    for (gw, ip) in [(&a, "127.0.0.7"), (&b, "127.0.0.8")] {
        let client = client_from(ip);
        let key = format!("rate-limit:{{gateway:{ip}}}");
        wait_until(DEADLINE, "the limit to be shared again", || async {
            let (status, _, _) = get(&client, &gw.url("/api/inventory/prod-001")).await;
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
            shop.redis::<bool>(redis::cmd("EXISTS").arg(&key)).await
        })
        .await
        .expect("back on Redis");
    }
    // b spent one of 127.0.0.8's budget in Redis: a has 99 left for it, not a fresh 100.
    let statuses = burst(&client_from("127.0.0.8"), &a, 100).await;
    assert!(
        statuses[..99].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[99],
        StatusCode::TOO_MANY_REQUESTS,
        "b's request counts at a"
    );
}
