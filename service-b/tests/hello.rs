//! `/hello` and `/stats` with the configured defaults.

mod common;

use reqwest::StatusCode;
use serde_json::json;

use common::{INSTANCE, answer, start};

#[tokio::test]
async fn every_third_request_fails() {
    let b = start(3).await;
    let client = reqwest::Client::new();
    for n in 1..=9_u64 {
        let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
        if n % 3 == 0 {
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "request {n}");
            assert_eq!(
                body,
                json!({"error": "Service B Error", "code": "simulated_failure", "request": n, "instance": INSTANCE})
            );
        } else {
            assert_eq!(status, StatusCode::OK, "request {n}");
            let expected =
                json!({"message": "Hello from Service B", "request": n, "instance": INSTANCE});
            assert_eq!(body, expected);
        }
    }
    let (_, stats) = answer(client.get(b.url("/stats")).send().await).await;
    assert_eq!(stats, json!({"requests": 9, "failures": 3}));
}

#[tokio::test]
async fn fail_every_zero_never_fails() {
    let b = start(0).await;
    let client = reqwest::Client::new();
    for n in 1..=12_u64 {
        let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
        assert_eq!((status, &body["request"]), (StatusCode::OK, &json!(n)));
    }
    let (_, stats) = answer(client.get(b.url("/stats")).send().await).await;
    assert_eq!(stats, json!({"requests": 12, "failures": 0}));
}

#[tokio::test]
async fn health_names_the_service_and_instance() {
    let b = start(3).await;
    let (status, body) = answer(reqwest::get(b.url("/health")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "service": "service-b", "instance": INSTANCE})
    );
}
