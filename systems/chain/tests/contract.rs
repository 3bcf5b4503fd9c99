//! Every route's answers and bad input, through the real `chain` binary: the seed's bodies, a
//! failure deep in the chain surfacing at the top naming the hop, and settings refused at start.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Chain, Env, get, metric_sum, refuses_to_start, start};

#[tokio::test]
async fn each_service_answers_the_seeds_bodies_through_the_chain() {
    let chain = Chain::start(Env::default()).await;
    let (status, _, body) = chain.get(&chain.user.base, "/users/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "User data for ID 1"}));
    let (status, _, body) = chain.get(&chain.order.base, "/orders?user_id=7").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "Order data for user ID 7"}));
    let (status, _, body) = chain.get(&chain.inventory.base, "/inventory").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "Inventory data"}));
    // An id that needs encoding reaches order whole.
    let (status, _, body) = chain.get(&chain.user.base, "/users/a%20b&c").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "User data for ID a b&c"}));
    assert_eq!(
        chain.inventory_calls().await,
        4,
        "once per call through order"
    );
}

#[tokio::test]
async fn a_missing_user_id_is_a_400_that_calls_nothing() {
    let chain = Chain::start(Env::default()).await;
    for query in ["", "?", "?user_id=", "?user_id=%20", "?userId=1"] {
        let (status, _, body) = chain
            .get(&chain.order.base, &format!("/orders{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body, json!({"error": "user_id is required"}), "{query}");
    }
    assert_eq!(chain.inventory_calls().await, 0, "inventory was called");
    assert!(chain.breaker("inventory-service").await.is_empty());
    for (base, path) in [
        (&chain.user.base, "/users"),
        (&chain.user.base, "/users/1/orders"),
        (&chain.order.base, "/order"),
        (&chain.inventory.base, "/inventory/1"),
    ] {
        let (status, _, body) = chain.get(base, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let post = chain.http.post(format!("{}/users/1", chain.user.base));
    let (status, _, body) = support::answer(post.send().await).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(chain.inventory_calls().await, 0, "inventory was called");
}

#[tokio::test]
async fn an_inventory_failure_reaches_the_top_naming_inventory() {
    let chain = Chain::start(Env::default()).await;
    chain.inventory_faults(&json!({"failure_rate": 1.0})).await;
    let (status, _, body) = chain.get(&chain.inventory.base, "/inventory").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, json!({"error": "failed to get inventory"}));

    let (status, _, body) = chain.get(&chain.order.base, "/orders?user_id=1").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let cause = "failed to get inventory: 500 Internal Server Error";
    assert_eq!(
        body,
        json!({"error": cause, "hop": "inventory-service", "cause": "failed to get inventory"})
    );
    let (status, _, body) = chain.get(&chain.user.base, "/users/1").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        body,
        json!({
            "error": "failed to get orders: 502 Bad Gateway",
            "hop": "inventory-service",
            "cause": cause,
        })
    );
    // One request id follows the call down the chain, into inventory's log of the failure.
    let traced = chain.http.get(format!("{}/users/2", chain.user.base));
    let traced = traced.header("x-request-id", "trace-chain-1").send().await;
    let (status, headers, _) = support::answer(traced).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(headers["x-request-id"], "trace-chain-1");
    let logged = "request_id=\"trace-chain-1\"";
    test_support::wait_until(support::DEADLINE, "inventory logs the id", || async {
        chain.inventory.child.output().contains(logged)
    })
    .await
    .expect("the id reaches inventory");
    let order_service = chain.breaker("order-service").await;
    assert_eq!(
        order_service
            .get("consecutive_failures")
            .map(String::as_str),
        Some("0"),
        "order answered for inventory: not a failure of order-service: {order_service:?}"
    );
}

#[tokio::test]
async fn inventory_fails_a_tenth_of_its_calls_repeatably_with_a_seed() {
    let run = async || {
        let inventory = start("inventory", &[("FAULTS__SEED", "7")]).await;
        let http = support::client();
        let mut failures = Vec::new();
        for i in 0..200 {
            let (status, _, body) = get(&http, &format!("{}/inventory", inventory.base)).await;
            match status {
                StatusCode::OK => {}
                StatusCode::INTERNAL_SERVER_ERROR => {
                    assert_eq!(body, json!({"error": "failed to get inventory"}));
                    failures.push(i);
                }
                other => panic!("{other}: {body}"),
            }
        }
        failures
    };
    let first = run().await;
    assert!(
        (8..=35).contains(&first.len()),
        "{} of 200 failed",
        first.len()
    );
    assert_eq!(run().await, first, "the same seed fails the same calls");
}

#[tokio::test]
async fn bad_faults_are_refused_and_change_nothing() {
    let chain = Chain::start(Env::default()).await;
    let url = format!("{}/faults", chain.inventory.base);
    let (_, _, before) = chain.get(&chain.inventory.base, "/faults").await;
    for bad in [
        json!({"failure_rate": 2.0}),
        json!({"delay_ms": -1}),
        json!({"down": "yes"}),
        json!({"unknown": 1}),
    ] {
        let put = chain.http.put(&url).json(&bad).send().await;
        let (status, _, body) = support::answer(put).await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let (_, _, after) = chain.get(&chain.inventory.base, "/faults").await;
    assert_eq!(after, before);
    assert_eq!(
        before,
        json!({"failure_rate": 0.0, "delay_ms": 0, "down": false})
    );
}

#[tokio::test]
async fn an_unreachable_service_is_a_502_naming_it() {
    let redis = test_support::RedisServer::start().expect("redis");
    let nowhere = format!("http://127.0.0.1:{}", test_support::free_port());
    let env = [
        ("INVENTORY_SERVICE_URL", nowhere.as_str()),
        ("REDIS_URL", &redis.url()),
    ];
    let order = start("order", &env).await;
    let http = support::client();
    let (status, _, body) = get(&http, &format!("{}/orders?user_id=1", order.base)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["hop"], "inventory-service");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("failed to get inventory: "), "{body}");
}

#[tokio::test]
async fn health_and_metrics_show_each_breaker() {
    let chain = Chain::start(Env::default()).await;
    for (base, service, breaker) in [
        (&chain.user.base, "user-service", "order-service"),
        (&chain.order.base, "order-service", "inventory-service"),
    ] {
        let (status, _, body) = chain.get(base, "/health").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["service"], service);
        assert_eq!(body["breaker"], json!({"name": breaker, "state": "closed"}));
        let label = format!("breaker=\"{breaker}\"");
        let http = &chain.http;
        let closed = [label.as_str(), "state=\"closed\""];
        let series = metric_sum(http, base, "breaker_state{", &closed).await;
        assert_eq!(series, 1, "closed reads 1");
        let open = [label.as_str(), "state=\"open\""];
        let series = metric_sum(http, base, "breaker_state{", &open).await;
        assert_eq!(series, 0, "open reads 0");
    }
    let (_, _, body) = chain.get(&chain.inventory.base, "/health").await;
    assert_eq!(body["service"], "inventory-service");
    assert_eq!(body["status"], "UP");
    chain.inventory_faults(&json!({"down": true})).await;
    let (status, _, body) = chain.get(&chain.inventory.base, "/health").await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &Value::from("DOWN"))
    );
}

#[test]
fn bad_settings_stop_a_service_naming_the_variable() {
    refuses_to_start("order", &[("CALL_TIMEOUT", "0s")], "CALL_TIMEOUT");
    refuses_to_start("order", &[("CALL_TIMEOUT", "soon")], "CALL_TIMEOUT");
    refuses_to_start(
        "user",
        &[("ORDER_SERVICE_URL", "order:8081")],
        "ORDER_SERVICE_URL",
    );
    refuses_to_start(
        "order",
        &[("INVENTORY_SERVICE_URL", "http://inventory:8082/api")],
        "INVENTORY_SERVICE_URL",
    );
    refuses_to_start("user", &[("BREAKER__TIMEOUT", "soon")], "BREAKER__TIMEOUT");
    refuses_to_start(
        "order",
        &[("BREAKER__MAX_REQUESTS", "0")],
        "BREAKER__MAX_REQUESTS",
    );
    refuses_to_start("order", &[("REDIS_URL", "http://nope")], "REDIS_URL");
    refuses_to_start(
        "inventory",
        &[("FAULTS__FAILURE_RATE", "2")],
        "FAULTS__FAILURE_RATE",
    );
}
