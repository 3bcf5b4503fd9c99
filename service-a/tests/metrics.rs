//! `promtool check metrics` on the real binaries' `/metrics`: service-a (with its breaker, rate
//! limiter and bulkhead on) and service-b, fresh and after calls that succeed, fail and are
//! rejected by an open circuit.

mod common;

use axum::http::StatusCode;
use common::procs::{self, Service};
use serde_json::json;
use test_support::{RedisServer, promtool_check_metrics};

/// Series a fresh replica must already show, before its first call.
const FRESH_SERIES: [&str; 7] = [
    r#"breaker_calls_total{breaker="service-b",outcome="failure"} 0"#,
    r#"breaker_rejections_total{breaker="service-b"} 0"#,
    r#"breaker_degraded{breaker="service-b"} 0"#,
    r#"rate_limit_rejected_total{limiter="call-service-b"} 0"#,
    r#"bulkhead_in_flight{bulkhead="service-b"} 0"#,
    r#"upstream_calls_total{upstream="service-b",result="ok"} 0"#,
    r#"upstream_fallbacks_total{upstream="service-b"} 0"#,
];

async fn metrics(http: &reqwest::Client, service: &Service) -> String {
    let response = http.get(service.url("/metrics")).send().await;
    let response = response.expect("GET /metrics");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

async fn check(http: &reqwest::Client, service: &Service, when: &str) -> String {
    let text = metrics(http, service).await;
    if let Err(e) = promtool_check_metrics(&text) {
        panic!("{when}: {e:#}");
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn every_series_passes_promtool_fresh_and_after_traffic() {
    let redis = RedisServer::start().expect("redis-server starts");
    let b = procs::start(&test_support::cargo_bin("service-b"), "b", &[]).await;
    let (redis_url, b_url) = (redis.url(), b.url(""));
    let env = [
        ("REDIS_URL", redis_url.as_str()),
        ("SERVICE_B_URL", b_url.as_str()),
        ("RATE_LIMIT__PER_SECOND", "1000"),
        ("BULKHEAD__MAX_CONCURRENT", "4"),
    ];
    let a = procs::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_service-a")),
        "a",
        &env,
    )
    .await;
    let http = reqwest::Client::new();

    let fresh = check(&http, &a, "service-a fresh").await;
    for series in FRESH_SERIES {
        assert!(fresh.lines().any(|l| l == series), "{series} in:\n{fresh}");
    }
    check(&http, &b, "service-b fresh").await;

    // Successes and B's failures (every third request fails), then B down until the circuit
    // opens and rejects.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(procs::get(&http, &a.url("/call-service-b")).await.0);
    }
    let response = http
        .put(b.url("/faults"))
        .json(&json!({"down": true}))
        .send()
        .await;
    assert_eq!(response.expect("PUT /faults").status(), StatusCode::OK);
    for _ in 0..10 {
        statuses.push(procs::get(&http, &a.url("/call-service-b")).await.0);
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(
        statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "the circuit opened: {statuses:?}\n{}",
        a.process.output()
    );

    let after = check(&http, &a, "service-a after traffic").await;
    assert!(
        after
            .lines()
            .any(|l| l.starts_with("breaker_rejections_total{") && !l.ends_with(" 0")),
        "{after}"
    );
    check(&http, &b, "service-b after traffic").await;
}
