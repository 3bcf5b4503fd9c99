//! The breakers of the chain against the real `chain` binary and a real Redis: inventory down
//! opens `inventory-service` and order stops calling it, a slow inventory opens it on
//! timeouts, a slow order opens user's `order-service`, and recovery takes exactly two trial
//! successes. Open periods are shortened through `BREAKER__TIMEOUT`, call limits through
//! `CALL_TIMEOUT`.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Answer, Chain, DEADLINE, Env, metric_sum, retry_after};
use test_support::wait_until;

const ORDERS: &str = "/orders?user_id=1";
const USER: &str = "/users/1";

/// 503 `circuit breaker is open` naming `hop`, with `retry_after_ms` and `Retry-After`.
fn assert_open(answer: &Answer, hop: &str) {
    let (status, headers, body) = answer;
    assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "circuit breaker is open", "{body}");
    assert_eq!(body["hop"], hop, "{body}");
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    assert!(retry_after(headers).is_some(), "{headers:?}");
}

#[tokio::test]
async fn inventory_down_opens_its_circuit_and_order_stops_calling_it() {
    let chain = Chain::start(Env::default()).await;
    chain.inventory_faults(&json!({"down": true})).await;

    let (status, _, body) = chain.get(&chain.user.base, USER).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        json!({
            "error": "failed to get orders: 502 Bad Gateway",
            "hop": "inventory-service",
            "cause": "failed to get inventory: 503 Service Unavailable",
        })
    );
    // The call through user was the first failure in a row, this is the second.
    let (status, _, body) = chain.get(&chain.order.base, ORDERS).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["cause"], "inventory service is down", "{body}");
    let hash = chain.breaker("inventory-service").await;
    assert_eq!(hash["state"], "closed", "{hash:?}");
    assert_eq!(hash["consecutive_failures"], "2", "{hash:?}");
    // The third failure in a row opens it; the shared state says so at once.
    let (status, _, _) = chain.get(&chain.order.base, ORDERS).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let hash = chain.breaker("inventory-service").await;
    assert_eq!(hash["state"], "open", "{hash:?}");
    assert_eq!(chain.inventory_calls().await, 3);

    assert_open(
        &chain.get(&chain.order.base, ORDERS).await,
        "inventory-service",
    );
    let (status, headers, body) = chain.get(&chain.user.base, USER).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["error"],
        "failed to get orders: 503 Service Unavailable"
    );
    assert_eq!(body["hop"], "inventory-service", "names the failing hop");
    assert_eq!(body["cause"], "circuit breaker is open");
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    assert!(retry_after(&headers).is_some(), "{headers:?}");
    assert_eq!(chain.inventory_calls().await, 3, "inventory was called");

    assert_eq!(
        chain.state("order-service").await,
        "closed",
        "order answered every time: user's circuit stays closed"
    );
    let label = "breaker=\"inventory-service\"";
    let http = &chain.http;
    let base = &chain.order.base;
    let open = [label, "state=\"open\""];
    assert_eq!(metric_sum(http, base, "breaker_state{", &open).await, 1);
    assert_eq!(
        metric_sum(http, base, "breaker_rejections_total{", &[label]).await,
        2
    );
    let (_, _, health) = chain.get(base, "/health").await;
    assert_eq!(health["breaker"]["state"], "open", "{health}");
}

#[tokio::test]
async fn a_slow_inventory_opens_the_circuit_on_timeouts() {
    let env = Env {
        order: &[("CALL_TIMEOUT", "200ms")],
        ..Env::default()
    };
    let chain = Chain::start(env).await;
    chain.inventory_faults(&json!({"delay_ms": 1500})).await;
    // Order's limit is the one that fires, so user names inventory.
    let (status, _, body) = chain.get(&chain.user.base, USER).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(
        body,
        json!({
            "error": "failed to get orders: 504 Gateway Timeout",
            "hop": "inventory-service",
            "cause": "failed to get inventory: timed out after 200ms",
        })
    );
    for _ in 0..2 {
        let (status, _, body) = chain.get(&chain.order.base, ORDERS).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
        assert_eq!(
            body,
            json!({"error": "failed to get inventory: timed out after 200ms", "hop": "inventory-service"})
        );
    }
    assert_eq!(chain.state("inventory-service").await, "open");
    assert_open(
        &chain.get(&chain.order.base, ORDERS).await,
        "inventory-service",
    );
    let (status, _, body) = chain.get(&chain.user.base, USER).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["hop"], "inventory-service");
}

#[tokio::test]
async fn a_slow_order_opens_users_circuit_on_timeouts() {
    // User gives up before order does: the time limit of user's own hop.
    let env = Env {
        user: &[("CALL_TIMEOUT", "200ms")],
        ..Env::default()
    };
    let chain = Chain::start(env).await;
    chain.inventory_faults(&json!({"delay_ms": 1000})).await;
    for _ in 0..3 {
        let (status, _, body) = chain.get(&chain.user.base, USER).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
        assert_eq!(
            body,
            json!({"error": "failed to get orders: timed out after 200ms", "hop": "order-service"})
        );
    }
    assert_eq!(chain.state("order-service").await, "open");
    assert_open(&chain.get(&chain.user.base, USER).await, "order-service");
}

#[tokio::test]
async fn recovery_takes_exactly_two_trial_successes() {
    let chain = tripped_with_a_short_open_period().await;
    assert_eq!(chain.state("inventory-service").await, "open");
    chain.inventory_faults(&json!({"down": false})).await;

    // Rejected while open; the first call after the open period is the first trial.
    let http = &chain.http;
    let url = format!("{}{ORDERS}", chain.order.base);
    wait_until(DEADLINE, "a trial call answers 200", || async {
        let (status, _, _) = support::get(http, &url).await;
        status == StatusCode::OK
    })
    .await
    .expect("a trial call");
    // A trial's outcome may reach Redis just after its answer went out.
    wait_until(DEADLINE, "the first trial success recorded", || async {
        chain.breaker("inventory-service").await["half_open_successes"] == "1"
    })
    .await
    .expect("recorded");
    let hash = chain.breaker("inventory-service").await;
    assert_eq!(hash["state"], "half-open", "one success: {hash:?}");
    let log = chain.order.child.output();
    assert_eq!(hash["half_open_successes"], "1", "{hash:?}\n{log}");

    let (status, _, body) = chain.get(&chain.order.base, ORDERS).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_until(DEADLINE, "the second trial success recorded", || async {
        chain.breaker("inventory-service").await["state"] != "half-open"
    })
    .await
    .expect("recorded");
    let hash = chain.breaker("inventory-service").await;
    assert_eq!(hash["state"], "closed", "two successes: {hash:?}");
    let (status, _, body) = chain.get(&chain.user.base, USER).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "User data for ID 1"}))
    );
}

#[tokio::test]
async fn a_failed_trial_opens_the_circuit_again() {
    let chain = tripped_with_a_short_open_period().await;
    let before = chain.inventory_calls().await;
    let http = &chain.http;
    let url = format!("{}{ORDERS}", chain.order.base);
    wait_until(DEADLINE, "a trial call reaches inventory", || async {
        let (status, _, body): (_, _, Value) = support::get(http, &url).await;
        status == StatusCode::BAD_GATEWAY && body["cause"] == "inventory service is down"
    })
    .await
    .expect("a trial call");
    assert_eq!(chain.inventory_calls().await, before + 1);
    assert_eq!(chain.state("inventory-service").await, "open");
}

/// A chain whose `inventory-service` circuit stays open 300 ms, after three calls to order with
/// inventory down (inventory still down).
async fn tripped_with_a_short_open_period() -> Chain {
    let env = Env {
        order: &[("BREAKER__TIMEOUT", "300ms")],
        ..Env::default()
    };
    let chain = Chain::start(env).await;
    chain.inventory_faults(&json!({"down": true})).await;
    for _ in 0..3 {
        chain.get(&chain.order.base, ORDERS).await;
    }
    chain
}
