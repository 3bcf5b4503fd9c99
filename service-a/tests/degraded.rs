//! Redis unreachable: service A keeps serving, reports it, and returns to the shared state.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use breaker_redis::Settings;
use common::{DEADLINE, Env, TOKEN};
use serde_json::{Value, json};
use service_a::Config;
use service_kit::Spawned;
use test_support::wait_until;

fn quick_retry(env: &Env) -> Config {
    let settings = Settings {
        retry_backoff: Duration::from_millis(100),
        ..Settings::default()
    };
    Config {
        admin_token: Some(TOKEN.to_owned()),
        breaker: settings,
        ..env.config()
    }
}

async fn health(env: &Env, a: &Spawned) -> Value {
    let (status, _, body) = env.get(&a.url("/health")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `/ready` stays 200 whatever Redis does: the breaker protects locally meanwhile.
async fn assert_ready(env: &Env, a: &Spawned) {
    let (status, _, body) = env.get(&a.url("/ready")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_calls_are_still_answered_and_state_reads_fail() {
    let mut env = Env::start().await;
    let a = env.start_a(&quick_retry(&env), "a-1").await;
    let body = health(&env, &a).await;
    assert_eq!(
        (&body["status"], &body["redis"]),
        (&json!("ok"), &json!("ok")),
        "{body}"
    );

    env.redis.kill();
    state_reads_fail(&env, &a).await;

    // B fails every third call; the local breaker may open. Never a 500.
    for _ in 0..9 {
        let (status, _, body) = env.call(&a).await;
        let allowed = [
            StatusCode::OK,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ];
        assert!(allowed.contains(&status), "{status}: {body}");
    }
    let body = health(&env, &a).await;
    assert_eq!(
        (&body["status"], &body["redis"]),
        (&json!("degraded"), &json!("degraded")),
        "{body}"
    );
    assert_ready(&env, &a).await;

    env.redis.restart().expect("redis restarts");
    back_to_shared(&env, &a).await;
    assert_ready(&env, &a).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starts_and_serves_with_redis_down() {
    let env = Env::start().await;
    let refusing = test_support::refusing_port();
    let config = Config {
        redis_url: format!("redis://127.0.0.1:{}", refusing.port()),
        ..quick_retry(&env)
    };
    let a = env.start_a(&config, "a-1").await;
    let body = health(&env, &a).await;
    assert_eq!(body["redis"], "degraded", "{body}");
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["breaker"]["state"], "closed");
}

/// `GET /breaker` and the overrides answer 503: they need the shared state.
async fn state_reads_fail(env: &Env, a: &Spawned) {
    let (status, body) = env.breaker(a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "breaker state unavailable");
    assert_eq!(
        (&body["degraded"], &body["name"], &body["instance"]),
        (&json!(true), &json!("service-b"), &json!("a-1"))
    );
    let (status, body) = env.admin(a, "open", Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(
        (status, &body["error"]),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!("breaker state unavailable")
        )
    );
}

/// With B healthy, calls until one reaches Redis again and `/health` says so.
async fn back_to_shared(env: &Env, a: &Spawned) {
    env.faults(json!({"fail_every": 0})).await;
    let (http, url) = (&env.http, a.url("/call-service-b"));
    wait_until(
        DEADLINE,
        "a call to reach the shared state again",
        || async {
            let called = http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            called && health(env, a).await["redis"] == "ok"
        },
    )
    .await
    .expect("back to the shared state");
    let (status, body) = env.breaker(a).await;
    assert_eq!(
        (status, &body["degraded"]),
        (StatusCode::OK, &json!(false)),
        "{body}"
    );
}
