//! Run-time fault control through `/faults`.

mod common;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use service_b::Config;
use service_kit::ServerConfig;

use common::{INSTANCE, answer, start};

async fn put(client: &reqwest::Client, url: &str, body: Value) -> (StatusCode, Value) {
    answer(client.put(url).json(&body).send().await).await
}

#[tokio::test]
async fn down_answers_503_and_counts_as_failure() {
    let b = start(3).await;
    let client = reqwest::Client::new();
    let (status, faults) = put(&client, &b.url("/faults"), json!({"down": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        faults,
        json!({"fail_every": 3, "failure_rate": 0.0, "delay_ms": 0, "down": true})
    );
    for n in 1..=2_u64 {
        let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({"error": "Service B is down", "code": "service_down", "request": n, "instance": INSTANCE})
        );
    }
    let (_, stats) = answer(client.get(b.url("/stats")).send().await).await;
    assert_eq!(stats, json!({"requests": 2, "failures": 2}));

    let (status, faults) = answer(client.delete(b.url("/faults")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults["down"], false);
    // The count went on while down: request 3 is the third, and fails as every third does.
    let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
    assert_eq!(
        (status, &body["request"]),
        (StatusCode::INTERNAL_SERVER_ERROR, &json!(3))
    );
    let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
    assert_eq!((status, &body["request"]), (StatusCode::OK, &json!(4)));
}

#[tokio::test]
async fn delay_holds_every_answer() {
    let b = start(0).await;
    let client = reqwest::Client::new();
    put(&client, &b.url("/faults"), json!({"delay_ms": 300})).await;
    let started = Instant::now();
    let (status, _) = answer(client.get(b.url("/hello")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn failure_rate_one_always_fails_and_partial_updates_keep_the_rest() {
    let b = start(0).await;
    let client = reqwest::Client::new();
    put(&client, &b.url("/faults"), json!({"delay_ms": 5})).await;
    let (_, faults) = put(&client, &b.url("/faults"), json!({"failure_rate": 1.0})).await;
    assert_eq!(
        faults,
        json!({"fail_every": 0, "failure_rate": 1.0, "delay_ms": 5, "down": false})
    );
    for n in 1..=10_u64 {
        let (status, body) = answer(client.get(b.url("/hello")).send().await).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["request"], n);
    }
    let (_, stats) = answer(client.get(b.url("/stats")).send().await).await;
    assert_eq!(stats, json!({"requests": 10, "failures": 10}));
}

#[tokio::test]
async fn invalid_fault_settings_answer_4xx_and_change_nothing() {
    let b = start(3).await;
    let client = reqwest::Client::new();
    let (_, before) = answer(client.get(b.url("/faults")).send().await).await;
    let bodies = [
        r#"{"failure_rate": 1.5}"#,
        r#"{"failure_rate": -0.1}"#,
        r#"{"down": true, "failure_rate": 2}"#,
        r#"{"delay_ms": -5}"#,
        r#"{"delay_ms": 1.5}"#,
        r#"{"delay_ms": 60001}"#,
        r#"{"fail_every": "3"}"#,
        r#"{"down": "yes"}"#,
        r#"{"down": true, "colour": "red"}"#,
        r#"{"down": tru"#,
        r#"[]"#,
    ];
    for body in bodies {
        let request = client
            .put(b.url("/faults"))
            .header(CONTENT_TYPE, "application/json");
        let (status, answer) = answer(request.body(body).send().await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["error"].is_string(), "{body}: {answer}");
    }
    let (status, answer) = answer(
        client
            .put(b.url("/faults"))
            .body(r#"{"down":true}"#)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(answer["error"].is_string(), "{answer}");
    let (_, after) = common::answer(client.get(b.url("/faults")).send().await).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn oversized_fault_settings_answer_413_and_change_nothing() {
    let server = ServerConfig {
        max_body_bytes: 1024,
        ..ServerConfig::new("service-b", 0)
    };
    let b = service_kit::spawn(service_b::router(&Config::default(), &server))
        .await
        .expect("service-b starts");
    let client = reqwest::Client::new();
    let body = format!(r#"{{"down": true, "padding": "{}"}}"#, "x".repeat(2048));
    let request = client
        .put(b.url("/faults"))
        .header(CONTENT_TYPE, "application/json");
    let (status, answer) = answer(request.body(body).send().await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].is_string(), "{answer}");
    let (_, faults) = common::answer(client.get(b.url("/faults")).send().await).await;
    assert_eq!(faults["down"], false);
}
