//! Trace propagation through the gateway: `traceparent`, `tracestate` and `x-request-id` reach
//! the service behind it, on a proxied call and on an order's calls.

mod gateway_support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use gateway_support::{Shop, answer, example_order};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "vendor=opaque-value";

/// A real stand-in for shipping on 127.0.0.1: answers every request 201 `{}` and keeps its
/// headers.
async fn recording_shipping() -> (service_kit::Spawned, Arc<Mutex<Vec<HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let handler = move |headers: HeaderMap| {
        record.lock().expect("lock").push(headers);
        async { (StatusCode::CREATED, axum::Json(serde_json::json!({}))) }
    };
    let router = Router::new().fallback(any(handler));
    let spawned = service_kit::spawn(router).await.expect("stand-in starts");
    (spawned, seen)
}

fn traced(request: reqwest::RequestBuilder, id: &str) -> reqwest::RequestBuilder {
    request
        .header("traceparent", TRACEPARENT)
        .header("tracestate", TRACESTATE)
        .header("x-request-id", id)
}

fn assert_traced(headers: &HeaderMap, id: &str) {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(value("traceparent"), Some(TRACEPARENT), "{headers:?}");
    assert_eq!(value("tracestate"), Some(TRACESTATE), "{headers:?}");
    assert_eq!(value("x-request-id"), Some(id), "{headers:?}");
}

#[tokio::test]
async fn the_trace_headers_reach_the_services_behind_the_gateway() {
    let shop = Shop::start().await;
    let (shipping, seen) = recording_shipping().await;
    let shipping_url = shipping.url("");
    let gw = shop
        .gateway(
            "gw-trace",
            &[("SHIPPING_SERVICE_URL", shipping_url.as_str())],
        )
        .await;

    let proxied = traced(shop.http.get(gw.url("/api/shipping/o-1")), "trace-proxy");
    let (status, _, body) = answer(proxied.send().await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = seen.lock().expect("lock").clone();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_traced(&first[0], "trace-proxy");

    let order = traced(shop.http.post(gw.url("/api/orders")), "trace-order");
    let (status, _, body) = answer(order.json(&example_order()).send().await).await;
    let all = seen.lock().expect("lock").clone();
    assert!(all.len() > 1, "the order called shipping: {status} {body}");
    for headers in &all[1..] {
        assert_traced(headers, "trace-order");
    }
}
