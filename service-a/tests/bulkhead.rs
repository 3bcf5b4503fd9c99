//! `BULKHEAD__*`: at most N calls in flight per replica; the excess is rejected at once.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{DEADLINE, Env, metric_lines};
use resilience::BulkheadSettings;
use serde_json::json;
use service_a::Config;
use test_support::wait_until;
use tokio::task::JoinSet;

const SLOTS: u64 = 2;
const EXTRA: usize = 3;

#[tokio::test(flavor = "multi_thread")]
async fn n_calls_reach_b_and_the_rest_get_503_at_once() {
    let env = Env::start().await;
    let config = Config {
        bulkhead: BulkheadSettings {
            max_concurrent: Some(SLOTS as usize),
            max_wait: Duration::ZERO,
        },
        service_b_timeout: Duration::from_secs(5),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    // Slow enough that the first calls still hold their slots while the others arrive.
    env.faults(json!({"delay_ms": 1500, "fail_every": 0})).await;

    let mut holders = JoinSet::new();
    for _ in 0..SLOTS {
        let (http, url) = (env.http.clone(), a.url("/call-service-b"));
        holders.spawn(async move { common::answer(http.get(url).send().await).await });
    }
    wait_until(DEADLINE, "the first calls to reach B", || async {
        env.b_requests().await == SLOTS
    })
    .await
    .expect("in flight");

    let started = Instant::now();
    let mut extra = JoinSet::new();
    for _ in 0..EXTRA {
        let (http, url) = (env.http.clone(), a.url("/call-service-b"));
        extra.spawn(async move { common::answer(http.get(url).send().await).await });
    }
    for (status, headers, body) in extra.join_all().await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        // A slot is free at the latest when an attempt in flight times out (5 s here).
        assert_eq!(
            body,
            json!({"error": "bulkhead full", "code": "bulkhead_full", "retry_after_ms": 5000})
        );
        assert_eq!(headers["retry-after"], "5");
    }
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "rejected at once, not after B answered: {:?}",
        started.elapsed()
    );
    for (status, _, body) in holders.join_all().await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        env.b_requests().await,
        SLOTS,
        "only the admitted calls reach B"
    );
    let snapshot = env.breaker_counted(&a, SLOTS).await;
    assert_eq!(
        snapshot["requests"],
        json!(SLOTS),
        "a rejection is not a breaker call"
    );

    // The slots are free again.
    env.faults(json!({"delay_ms": 0})).await;
    assert_eq!(env.call(&a).await.0, StatusCode::OK);
    let lines = metric_lines(
        &env,
        &a,
        r#"upstream_calls_total{upstream="service-b",result="bulkhead_full"}"#,
    )
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].ends_with(" 0"), "{lines:?}");
}
