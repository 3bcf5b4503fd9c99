//! `BREAKER_BACKEND` (`redis`, `memory`, `none`) and `BREAKER__ADMISSION=cached`: the variants
//! the benchmark compares.

mod common;

use axum::http::StatusCode;
use breaker_redis::{AdmissionSetting, Settings};
use common::{DEADLINE, Env, TOKEN};
use serde_json::json;
use service_a::{Backend, Config};
use test_support::wait_until;

#[tokio::test(flavor = "multi_thread")]
async fn none_calls_b_every_time_and_never_answers_503() {
    let env = Env::start().await;
    let config = Config {
        breaker_backend: Backend::None,
        admin_token: Some(TOKEN.to_owned()),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    env.faults(json!({"down": true})).await;

    for _ in 0..10 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(body["upstream_status"], 503);
        assert!(body["breaker"].is_null(), "{body}");
    }
    assert_eq!(env.b_requests().await, 10, "every call must reach B");

    let (status, body) = env.breaker(&a).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let auth = format!("Bearer {TOKEN}");
    let (status, body) = env.admin(&a, "open", Some(&auth)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, _, health) = env.get(&a.url("/health")).await;
    assert_eq!(health["breaker"], "none", "{health}");
    assert!(health.get("redis").is_none(), "{health}");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_opens_without_redis() {
    let env = Env::start().await;
    let refusing = test_support::refusing_port();
    let config = Config {
        breaker_backend: Backend::Memory,
        // Nothing listens there: the memory backend must not need Redis at all.
        redis_url: format!("redis://127.0.0.1:{}", refusing.port()),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    env.faults(json!({"down": true})).await;

    for _ in 0..3 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    }
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["breaker"]["state"], "open", "{body}");
    assert_eq!(env.b_requests().await, 3);

    let (status, snapshot) = env.breaker(&a).await;
    assert_eq!(status, StatusCode::OK, "{snapshot}");
    assert_eq!(
        (&snapshot["state"], &snapshot["degraded"]),
        (&json!("open"), &json!(false))
    );
    let (_, _, health) = env.get(&a.url("/health")).await;
    assert_eq!(
        (&health["status"], &health["breaker"]),
        (&json!("ok"), &json!("memory")),
        "{health}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_admission_serves_and_counts_in_redis() {
    let env = Env::start().await;
    let config = Config {
        breaker: Settings {
            admission: AdmissionSetting::Cached,
            ..Settings::default()
        },
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    env.faults(json!({"fail_every": 0})).await;

    for _ in 0..20 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["breaker"]["state"], "closed");
    }
    // Outcomes reach Redis in batches, shortly after the calls.
    wait_until(DEADLINE, "20 calls counted in Redis", || async {
        let (_, snapshot) = env.breaker(&a).await;
        snapshot["requests"] == 20
    })
    .await
    .expect("the batches arrive");
}
