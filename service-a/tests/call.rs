//! `GET /call-service-b` against a real service-b router and a real Redis.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{Env, fixed_upstream};
use serde_json::json;
use service_a::Config;

#[tokio::test(flavor = "multi_thread")]
async fn answers_carry_b_body_and_the_breaker_and_every_third_fails() {
    let env = Env::start().await;
    let a = env.start_a(&env.config(), "a-1").await;

    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["instance"], "a-1");
    assert_eq!(body["upstream"]["message"], "Hello from Service B");
    assert_eq!(body["upstream"]["request"], 1);
    assert_eq!(body["upstream"]["instance"], "b-test");
    let breaker = body["breaker"].as_object().expect("a breaker object");
    assert_eq!(breaker["name"], "service-b");
    assert_eq!(breaker["state"], "closed");
    assert!(breaker["generation"].is_u64(), "{body}");
    assert_eq!(breaker["forced"], "none");
    assert_eq!(breaker.len(), 4, "{body}");

    let (status, _, _) = env.call(&a).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "service-b call failed");
    assert_eq!(
        body["detail"],
        "service-b answered 500 Internal Server Error"
    );
    assert_eq!(body["upstream_status"], 500);
    assert_eq!(body["breaker"]["state"], "closed");
    // One failure in three calls stays under the 60 % ratio.
    let snapshot = env.breaker_counted(&a, 3).await;
    assert_eq!(
        (&snapshot["requests"], &snapshot["failures"]),
        (&json!(3), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn b_down_fails_then_the_open_circuit_rejects_without_calling_b() {
    let env = Env::start().await;
    let a = env.start_a(&env.config(), "a-1").await;
    env.faults(json!({"down": true})).await;

    for _ in 0..3 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["upstream_status"], 503);
    }
    let before = env.b_requests().await;
    assert_eq!(before, 3);
    let (status, headers, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "circuit open");
    let mut breaker = body["breaker"].clone();
    let generation = breaker["generation"].take();
    assert!(generation.is_u64(), "{body}"); // starts at the store's clock in ms
    assert_eq!(
        breaker,
        json!({"name": "service-b", "state": "open", "generation": null, "forced": "none"})
    );
    let retry_ms = body["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(retry_ms > 0 && retry_ms <= 10_000, "{retry_ms}");
    let retry_after: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert_eq!(retry_after, retry_ms.div_ceil(1000).max(1));
    assert_eq!(
        env.b_requests().await,
        before,
        "a rejected call must not reach B"
    );

    let (_, snapshot) = env.breaker(&a).await;
    assert_eq!(snapshot["state"], "open");
    assert!(
        snapshot["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0),
        "{snapshot}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_b_times_out_with_504_and_counts_as_a_failure() {
    let env = Env::start().await;
    let config = Config {
        service_b_timeout: Duration::from_millis(200),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    env.faults(json!({"delay_ms": 2000, "fail_every": 0})).await;

    for _ in 0..3 {
        let started = Instant::now();
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
        assert_eq!(body["error"], "service-b timed out");
        assert_eq!(body["timeout_ms"], 200);
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }
    let (status, _, _) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_b_is_a_502_failure() {
    let env = Env::start().await;
    let refusing = test_support::refusing_port();
    let closed_port = refusing.port();
    let config = Config {
        service_b_url: format!("http://127.0.0.1:{closed_port}"),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["detail"], "service-b could not be reached");
    assert!(body.get("upstream_status").is_none(), "{body}");
    let (_, snapshot) = env.breaker(&a).await;
    assert_eq!(snapshot["failures"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_4xx_from_b_is_a_502_the_breaker_ignores() {
    let env = Env::start().await;
    let upstream = fixed_upstream(StatusCode::NOT_FOUND, r#"{"error":"no"}"#).await;
    let config = Config {
        service_b_url: upstream.url(""),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    for _ in 0..5 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["detail"], "service-b answered 404 Not Found");
        assert_eq!(body["upstream_status"], 404);
    }
    let (_, snapshot) = env.breaker(&a).await;
    assert_eq!(snapshot["state"], "closed");
    assert_eq!(
        (&snapshot["requests"], &snapshot["failures"]),
        (&json!(0), &json!(0))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_requests_and_unreadable_bodies_are_failures() {
    let env = Env::start().await;
    let cases = [
        (
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            "service-b answered 429 Too Many Requests",
        ),
        (
            StatusCode::OK,
            "not json",
            "service-b sent a body that is not JSON",
        ),
    ];
    for (status, body, detail) in cases {
        let upstream = fixed_upstream(status, body).await;
        let config = Config {
            service_b_url: upstream.url("/"),
            ..env.config()
        };
        let a = env.start_a(&config, "a-1").await;
        let (status, _, answer) = env.call(&a).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{answer}");
        assert_eq!(answer["detail"], detail);
        let (_, snapshot) = env.breaker(&a).await;
        assert_eq!(snapshot["failures"], 1, "{snapshot}");
        // The next case starts from an empty circuit.
        let mut con = env
            .redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .expect("redis");
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut con)
            .await
            .expect("flush");
    }
}

/// axum would answer HEAD by running the GET handler: a call to B that the breaker counts.
#[tokio::test(flavor = "multi_thread")]
async fn head_is_refused_without_calling_service_b() {
    let env = Env::start().await;
    let a = env.start_a(&env.config(), "a-1").await;
    for _ in 0..3 {
        let response = env
            .http
            .head(a.url("/call-service-b"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
    assert_eq!(env.b_requests().await, 0, "B was never called");
    let (_, view) = env.breaker(&a).await;
    assert_eq!(view["requests"], 0, "the breaker counted nothing: {view}");
    let (status, _, _) = env.get(&a.url("/call-service-b")).await;
    assert_eq!(status, StatusCode::OK, "GET still calls B");
    assert_eq!(env.b_requests().await, 1);
}
