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

/// The value of the series `line` starts with (`name{labels}`), if shown.
fn series(text: &str, line: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line)?.strip_prefix(' ')?.parse().ok())
}

/// Waits until `/metrics` of `service` shows `line` at `value`.
async fn wait_for(http: &reqwest::Client, service: &Service, line: &str, value: f64) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = metrics(http, service).await;
        if series(&text, line) == Some(value) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{line} never read {value}:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

const OPENED_LOCAL: &str =
    r#"breaker_transitions_total{breaker="service-b",from="closed",to="open",origin="local"}"#;
const OPENED_REMOTE: &str =
    r#"breaker_transitions_total{breaker="service-b",from="closed",to="open",origin="remote"}"#;
const RESET_REMOTE: &str =
    r#"breaker_transitions_total{breaker="service-b",from="closed",to="closed",origin="remote"}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_trip_is_counted_local_by_the_replica_that_made_it_and_remote_by_the_other() {
    let redis = RedisServer::start().expect("redis-server starts");
    let b = procs::start(&test_support::cargo_bin("service-b"), "b", &[]).await;
    let (redis_url, b_url) = (redis.url(), b.url(""));
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_service-a"));
    let replica = async |id: &str| {
        let env = [
            ("REDIS_URL", redis_url.as_str()),
            ("SERVICE_B_URL", b_url.as_str()),
            ("INSTANCE_ID", id),
            ("ADMIN_TOKEN", "metrics-test-admin-token"),
        ];
        procs::start(program, id, &env).await
    };
    let (one, two) = (replica("a-1").await, replica("a-2").await);
    let http = reqwest::Client::new();
    for replica in [&one, &two] {
        let fresh = check(&http, replica, "fresh replica").await;
        assert_eq!(series(&fresh, OPENED_LOCAL), Some(0.0), "{fresh}");
        assert_eq!(series(&fresh, OPENED_REMOTE), Some(0.0), "{fresh}");
        let closed = r#"breaker_state{breaker="service-b",state="closed"}"#;
        assert_eq!(series(&fresh, closed), Some(1.0), "{fresh}");
        assert!(fresh.contains("process_resident_memory_bytes "), "{fresh}");
        assert!(
            fresh.contains(r#"build_info{service="service-a",version=""#),
            "{fresh}"
        );
    }

    // Until replica two hears replica one's overrides, a trip could pass it by unheard.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reset = http
            .post(one.url("/breaker/reset"))
            .bearer_auth("metrics-test-admin-token")
            .send()
            .await;
        assert_eq!(reset.expect("POST /breaker/reset").status(), StatusCode::OK);
        let text = metrics(&http, &two).await;
        if series(&text, RESET_REMOTE).is_some_and(|n| n > 0.0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never heard:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let down = http
        .put(b.url("/faults"))
        .json(&json!({"down": true}))
        .send()
        .await;
    assert_eq!(down.expect("PUT /faults").status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while series(&metrics(&http, &one).await, OPENED_LOCAL) != Some(1.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the circuit never opened"
        );
        procs::get(&http, &one.url("/call-service-b")).await;
    }

    let seen_by_two = wait_for(&http, &two, OPENED_REMOTE, 1.0).await;
    assert_eq!(series(&seen_by_two, OPENED_LOCAL), Some(0.0));
    let open = r#"breaker_state{breaker="service-b",state="open"}"#;
    assert_eq!(series(&seen_by_two, open), Some(1.0), "{seen_by_two}");
    let made_by_one = check(&http, &one, "replica one after the trip").await;
    assert_eq!(series(&made_by_one, OPENED_REMOTE), Some(0.0));
    assert_eq!(series(&made_by_one, open), Some(1.0), "{made_by_one}");
    let calls = r#"breaker_call_duration_seconds_count{breaker="service-b",outcome="failure"}"#;
    assert!(
        series(&made_by_one, calls).is_some_and(|n| n > 0.0),
        "{made_by_one}"
    );
    check(&http, &two, "replica two after the trip").await;
}
