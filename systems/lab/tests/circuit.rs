//! The user lookup inside the breaker `user-service`: a user service that is down gives JSON
//! 503s, three failed calls open the circuit, which then answers at once with `Retry-After`,
//! and after the (shortened) open period one trial call closes it again. The breaker is visible
//! in Redis and in `/metrics`.

mod common;

use std::process::Command;

use common::{DEADLINE, Lab, answer};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;
use test_support::wait_until;

const ORDER: &str = r#"{"user_id": 1, "product": "Book"}"#;

fn order() -> serde_json::Value {
    serde_json::from_str(ORDER).expect("json")
}

#[tokio::test]
async fn a_user_service_down_opens_the_circuit_after_three_calls_then_a_trial_closes_it() {
    let lab = Lab::start("1s").await;
    lab.user_faults(&json!({"down": true})).await;
    for call in 1..=3 {
        let (status, _, body) = lab.create_order(&order()).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "call {call}: {body}"
        );
        assert_eq!(
            body,
            json!({"error": "User service unavailable"}),
            "call {call}"
        );
    }
    assert_eq!(lab.breaker_state().await, "open");
    let (status, headers, body) = lab.create_order(&order()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "User service unavailable");
    assert_eq!(body["message"], "circuit open");
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    assert!(headers.get(RETRY_AFTER).is_some(), "{headers:?}");
    assert_eq!(lab.orders().await.as_array().map(Vec::len), Some(2));

    lab.user_faults(&json!({"down": false})).await;
    wait_until(DEADLINE, "a trial call gets through", || async {
        lab.create_order(&order()).await.0 == StatusCode::CREATED
    })
    .await
    .expect("the circuit closes");
    assert_eq!(lab.breaker_state().await, "closed");
}

#[tokio::test]
async fn a_failed_trial_call_opens_the_circuit_again() {
    let lab = Lab::start("1s").await;
    lab.user_faults(&json!({"down": true})).await;
    for _ in 0..3 {
        lab.create_order(&order()).await;
    }
    assert_eq!(lab.breaker_state().await, "open");
    wait_until(DEADLINE, "the trial call is admitted", || async {
        let (status, _, body) = lab.create_order(&order()).await;
        status == StatusCode::SERVICE_UNAVAILABLE && body.get("message").is_none()
    })
    .await
    .expect("a trial call after the open period");
    assert_eq!(lab.breaker_state().await, "open");
}

#[tokio::test]
async fn a_user_service_error_is_a_502_and_counts_against_the_breaker() {
    let lab = Lab::start("30s").await;
    lab.user_faults(&json!({"failure_rate": 1.0})).await;
    let (status, _, body) = lab.create_order(&order()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body, json!({"error": "User service error"}));
    let url = lab.order.url("/breaker");
    let (_, _, breaker) = answer(lab.http.get(url).send().await).await;
    assert_eq!(breaker["consecutive_failures"], 1, "{breaker}");
}

#[tokio::test]
async fn an_unreachable_user_service_is_a_503() {
    let redis = test_support::RedisServer::start().expect("redis-server starts");
    let port = test_support::free_port();
    let config = lab::order::Config {
        redis_url: redis.url(),
        user_service_url: format!("http://127.0.0.1:{port}"),
        retry: lab::order::RetryConfig {
            attempts: 2,
            interval: std::time::Duration::from_millis(10),
        },
        ..lab::order::Config::default()
    };
    let router = lab::order::router(&config, &common::server("order-service"))
        .await
        .expect("valid config");
    let order_service = service_kit::spawn(router).await.expect("serves");
    let request = reqwest::Client::new()
        .post(order_service.url("/create_order"))
        .json(&order());
    let (status, _, body) = answer(request.send().await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"error": "User service unavailable"}));
}

#[tokio::test]
async fn the_breaker_is_visible_in_redis_and_in_metrics() {
    let lab = Lab::start("30s").await;
    let (status, _, _) = lab.create_order(&order()).await;
    assert_eq!(status, StatusCode::CREATED);
    let keys = Command::new("redis-cli")
        .args([
            "-p",
            &lab.redis.port().to_string(),
            "--scan",
            "--pattern",
            "breaker:*",
        ])
        .output()
        .expect("redis-cli runs");
    let keys = String::from_utf8_lossy(&keys.stdout);
    assert!(keys.contains("breaker:{user-service}"), "{keys}");
    let metrics = lab
        .http
        .get(lab.order.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(r#"breaker_state{breaker="user-service",state="open"}"#),
        "{metrics}"
    );
    assert!(metrics.contains("breaker_calls_total{"), "{metrics}");
}
