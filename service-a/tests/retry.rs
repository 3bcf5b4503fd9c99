//! `RETRY__*`: retries around the breaker, against a real service-b and a real Redis.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use common::{Env, counting_upstream, metric_lines};
use resilience::RetrySettings;
use serde_json::json;
use service_a::Config;

/// Up to `attempts` attempts, 1 to 10 ms apart.
fn retrying(env: &Env, attempts: u32) -> Config {
    Config {
        retry: RetrySettings {
            max_attempts: Some(attempts),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
            ..RetrySettings::default()
        },
        ..env.config()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_call_is_retried_and_every_attempt_is_counted() {
    let env = Env::start().await;
    let a = env.start_a(&retrying(&env, 2), "a-1").await;

    // B fails its third request: the third call answers with B's fourth.
    let mut requests = Vec::new();
    for _ in 0..3 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("fallback").is_none(), "{body}");
        requests.push(body["upstream"]["request"].clone());
    }
    assert_eq!(requests, [json!(1), json!(2), json!(4)]);
    assert_eq!(env.b_requests().await, 4, "the retry reached B");
    let snapshot = env.breaker_counted(&a, 4).await;
    assert_eq!(
        (&snapshot["requests"], &snapshot["failures"]),
        (&json!(4), &json!(1)),
        "each attempt is counted by the breaker: {snapshot}"
    );
    let retries = metric_lines(&env, &a, "upstream_retries_total").await;
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert!(!retries[0].ends_with(" 0"), "{retries:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_circuit_ends_the_retries_without_reaching_b() {
    let env = Env::start().await;
    let a = env.start_a(&retrying(&env, 5), "a-1").await;
    env.faults(json!({"down": true})).await;

    // The third failure trips the circuit: the fourth attempt is rejected, and not retried.
    let (status, headers, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "circuit open");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    assert_eq!(env.b_requests().await, 3);

    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(env.b_requests().await, 3, "no attempt reaches B while open");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_is_not_retried_and_a_timeout_is() {
    let env = Env::start().await;
    let (upstream, hits) = counting_upstream(StatusCode::NOT_FOUND, r#"{"error":"no"}"#).await;
    let config = Config {
        service_b_url: upstream.url(""),
        ..retrying(&env, 3)
    };
    let a = env.start_a(&config, "a-1").await;
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["upstream_status"], 404);
    assert_eq!(hits.load(Ordering::Relaxed), 1, "a 4xx is not retried");

    // Each timed-out attempt is one failure.
    let config = Config {
        service_b_timeout: Duration::from_millis(100),
        ..retrying(&env, 2)
    };
    let a = env.start_a(&config, "a-2").await;
    env.faults(json!({"delay_ms": 1000, "fail_every": 0})).await;
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(env.b_requests().await, 2);
    let (_, snapshot) = env.breaker(&a).await;
    assert_eq!(
        (&snapshot["requests"], &snapshot["failures"]),
        (&json!(2), &json!(2))
    );
}
