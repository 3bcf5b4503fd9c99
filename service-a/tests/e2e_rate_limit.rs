//! End to end with the real binaries: one rate limit shared by two service-a replicas through
//! Redis.

mod common;

use std::path::Path;
use std::time::Instant;

use axum::http::StatusCode;
use common::procs;
use test_support::RedisServer;

const PER_SECOND: u64 = 2;
const BURST: u64 = 5;
const CALLS: usize = 30;

#[tokio::test(flavor = "multi_thread")]
async fn a_client_alternating_replicas_gets_one_quota() {
    let redis = RedisServer::start().expect("redis-server starts");
    let b = procs::start(
        &test_support::cargo_bin("service-b"),
        "b",
        &[("INSTANCE_ID", "b"), ("FAIL_EVERY", "0")],
    )
    .await;
    let (redis_url, b_url) = (redis.url(), b.url(""));
    let (per_second, burst) = (PER_SECOND.to_string(), BURST.to_string());
    let env = |id| {
        [
            ("INSTANCE_ID", id),
            ("REDIS_URL", redis_url.as_str()),
            ("SERVICE_B_URL", b_url.as_str()),
            ("RATE_LIMIT__PER_SECOND", per_second.as_str()),
            ("RATE_LIMIT__BURST", burst.as_str()),
        ]
    };
    let a = Path::new(env!("CARGO_BIN_EXE_service-a"));
    let replicas = [
        procs::start(a, "a-1", &env("a-1")).await,
        procs::start(a, "a-2", &env("a-2")).await,
    ];
    let http = reqwest::Client::new();

    let started = Instant::now();
    let mut answers = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let replica = i % 2;
        let url = replicas[replica].url("/call-service-b");
        let (status, headers, body) = procs::get(&http, &url).await;
        answers.push((replica, status, headers, body));
    }
    let elapsed = started.elapsed();

    let statuses: Vec<_> = answers
        .iter()
        .map(|(r, s, _, _)| (*r, s.as_u16()))
        .collect();
    let admitted = answers.iter().filter(|a| a.1 == StatusCode::OK).count() as u64;
    let limited = answers
        .iter()
        .filter(|a| a.1 == StatusCode::TOO_MANY_REQUESTS)
        .count() as u64;
    assert_eq!(admitted + limited, CALLS as u64, "{statuses:?}");
    // GCRA: within any span of d ms at most burst + floor(d * rate) calls; the client's span
    // contains the one Redis saw.
    // Two replicas limiting on their own would admit twice the burst at once.
    let quota = BURST + elapsed.as_millis() as u64 * PER_SECOND / 1000;
    assert!(
        limited >= (CALLS as u64).saturating_sub(quota),
        "{limited} limited, {admitted} admitted in {elapsed:?} (quota {quota}): {statuses:?}"
    );
    assert!(
        answers[..BURST as usize]
            .iter()
            .all(|a| a.1 == StatusCode::OK),
        "a fresh budget admits the burst: {statuses:?}"
    );
    // Both replicas enforce the one budget.
    for replica in 0..2 {
        let answer = answers
            .iter()
            .find(|a| a.0 == replica && a.1 == StatusCode::TOO_MANY_REQUESTS)
            .unwrap_or_else(|| panic!("no 429 from replica {}: {statuses:?}", replica + 1));
        let (_, _, headers, body) = answer;
        assert_eq!(body["error"], "rate limited", "{body}");
        let retry_ms = body["retry_after_ms"].as_u64().expect("retry_after_ms");
        assert!((1..=1000 / PER_SECOND).contains(&retry_ms), "{body}");
        assert_eq!(headers["retry-after"], "1");
    }
    let (_, _, stats) = procs::get(&http, &b.url("/stats")).await;
    assert_eq!(stats["requests"], admitted, "only admitted calls reach B");
}
