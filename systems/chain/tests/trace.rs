//! Trace propagation down the chain: `traceparent`, `tracestate` and `x-request-id` sent to
//! user reach what stands in for inventory two hops down, through the real user and order
//! processes.

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use test_support::RedisServer;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "vendor=opaque-value";

#[tokio::test]
async fn the_trace_headers_follow_a_request_down_two_hops() {
    let seen = Arc::new(Mutex::new(Vec::<HeaderMap>::new()));
    let record = Arc::clone(&seen);
    let inventory = move |headers: HeaderMap| {
        record.lock().expect("lock").push(headers);
        async { axum::Json(serde_json::json!({"items": []})) }
    };
    let inventory = Router::new().route("/inventory", get(inventory));
    let inventory = service_kit::spawn(inventory)
        .await
        .expect("the stand-in starts");
    let redis = RedisServer::start().expect("redis-server starts");
    let (redis_url, inventory_url) = (redis.url(), inventory.url(""));
    let order = support::start(
        "order",
        &[
            ("INVENTORY_SERVICE_URL", inventory_url.as_str()),
            ("REDIS_URL", redis_url.as_str()),
        ],
    )
    .await;
    let user = support::start(
        "user",
        &[
            ("ORDER_SERVICE_URL", order.base.as_str()),
            ("REDIS_URL", redis_url.as_str()),
        ],
    )
    .await;

    let request = support::client()
        .get(format!("{}/users/7", user.base))
        .header("traceparent", TRACEPARENT)
        .header("tracestate", TRACESTATE)
        .header("x-request-id", "trace-chain-2");
    let (status, _, body) = support::answer(request.send().await).await;
    assert!(
        status.is_success(),
        "{status} {body}\n{}",
        order.child.output()
    );

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let value = |name| seen[0].get(name).and_then(|v| v.to_str().ok());
    assert_eq!(value("traceparent"), Some(TRACEPARENT));
    assert_eq!(value("tracestate"), Some(TRACESTATE));
    assert_eq!(value("x-request-id"), Some("trace-chain-2"));
}
