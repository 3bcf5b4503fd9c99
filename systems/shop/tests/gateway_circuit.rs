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
    // Open long enough to ask both replicas, short enough not to wait out the seed's 30 s.
    let open_for = [("BREAKER__TIMEOUT", "5s")];
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
    assert_eq!(
        shop.breaker_state("payment-service").await.as_deref(),
        Some("closed")
    );
    let (status, _, _) = get(http, &a.url("/api/payments/o-4")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A `POST /api/payments` through `gw`: its status and body.
async fn pay(shop: &Shop, gw: &Spawned, order_id: &str) -> (StatusCode, Value) {
    let body = json!({"orderId": order_id, "amount": 10});
    let (status, _, body) = post(&shop.http, &gw.url("/api/payments"), &body).await;
    (status, body)
}

#[tokio::test]
async fn with_redis_gone_nothing_fails_and_sharing_resumes_once_it_is_back() {
    let mut shop = Shop::start().await;
    let vars = [("RATE_LIMIT_PER_MINUTE", "4")];
    let (a, b) = (
        shop.gateway("gw-a", &vars).await,
        shop.gateway("gw-b", &vars).await,
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
    let (status, _) = pay(&shop, &b, "no-redis-1").await;
    assert_eq!(status, StatusCode::CREATED);

    // Each replica protects on its own: its own budget, its own breaker.
    let limited = client_from("127.0.0.6");
    for _ in 0..4 {
        let (status, _, body) = get(&limited, &a.url("/api/inventory/prod-001")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, _) = get(&limited, &a.url("/api/inventory/prod-001")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    shop.faults(&shop.payment, json!({"down": true})).await;
    let (status, _) = pay(&shop, &a, "no-redis-2").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, body) = pay(&shop, &a, "no-redis-3").await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!(CIRCUIT_OPEN))
    );

    shop.redis.restart().expect("redis restarts");
    shop.faults(&shop.payment, json!({"down": false})).await;
    for (gw, name) in [(&a, "a"), (&b, "b")] {
        let what = format!("replica {name} to share its breaker again");
        wait_until(DEADLINE, &what, || async {
            let (status, _) = pay(&shop, gw, &format!("back-{name}")).await;
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
            let known: bool = shop
                .redis(redis::cmd("EXISTS").arg("breaker:{payment-service}"))
                .await;
            status == StatusCode::CREATED && known
        })
        .await
        .expect("back on Redis");
    }
    shop.faults(&shop.payment, json!({"down": true})).await;
    let (status, _) = pay(&shop, &a, "again-1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    shop.wait_breaker("payment-service", "open").await;
    let (status, body) = pay(&shop, &b, "again-2").await;
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
    let shared = client_from("127.0.0.8");
    let mut statuses = Vec::new();
    for gw in [&a, &a, &a, &a] {
        let (status, _, _) = get(&shared, &gw.url("/api/inventory/prod-001")).await;
        statuses.push(status);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}: b's requests count at a"
    );
}
