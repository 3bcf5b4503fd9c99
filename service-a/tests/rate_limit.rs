//! `RATE_LIMIT__*`: a budget per client IP in Redis, in front of everything else.

mod common;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::{DEADLINE, Env, metric_lines, redis_query};
use resilience::RateLimitSettings;
use serde_json::{Value, json};
use service_a::{Config, RATE_LIMITER_NAME};
use service_kit::ServerConfig;
use test_support::wait_until;
use tower::ServiceExt;

/// `per_second` calls a second per client, `burst` at once; B never fails.
async fn limited(env: &Env, per_second: u32, burst: u32) -> Config {
    env.faults(json!({"fail_every": 0})).await;
    Config {
        rate_limit: RateLimitSettings {
            per_second: Some(per_second),
            burst: Some(burst),
            ..RateLimitSettings::default()
        },
        ..env.config()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_burst_answers_429_with_retry_after() {
    let env = Env::start().await;
    let a = env.start_a(&limited(&env, 1, 3).await, "a-1").await;

    for _ in 0..3 {
        let (status, _, body) = env.call(&a).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, headers, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "rate limited");
    let retry_ms = body["retry_after_ms"].as_u64().expect("retry_after_ms");
    assert!(retry_ms > 0 && retry_ms <= 1000, "{body}");
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(body.as_object().map(|o| o.len()), Some(3), "{body}");
    let retry_after = headers["retry-after"].to_str().expect("ascii");
    assert_eq!(retry_after, "1");
    assert_eq!(env.b_requests().await, 3, "a limited call must not reach B");

    // The budget is in Redis, under the client's address.
    let key = format!("rate-limit:{{{RATE_LIMITER_NAME}:127.0.0.1}}");
    let exists: bool = redis_query(&env, redis::cmd("EXISTS").arg(&key)).await;
    assert!(exists, "{key}");
    // Only /call-service-b is limited.
    for path in ["/health", "/breaker", "/metrics"] {
        let status = env.http.get(a.url(path)).send().await.expect(path).status();
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let lines = metric_lines(
        &env,
        &a,
        r#"upstream_calls_total{upstream="service-b",result="rate_limited"}"#,
    )
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].ends_with(" 0"), "{lines:?}");
}

/// `GET /call-service-b` on `router` as if from `ip` (only loopback sockets are available).
async fn call_from(router: &Router, ip: [u8; 4]) -> (StatusCode, Value) {
    let mut request = Request::get("/call-service-b")
        .body(Body::empty())
        .expect("a request");
    let peer = SocketAddr::from((ip, 40_000));
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_client_ip_has_its_own_budget() {
    let env = Env::start().await;
    let server = ServerConfig::new("service-a", 0);
    let router = service_a::router(&limited(&env, 1, 2).await, &server)
        .await
        .expect("valid config");

    for _ in 0..2 {
        assert_eq!(call_from(&router, [10, 0, 0, 1]).await.0, StatusCode::OK);
    }
    let (status, body) = call_from(&router, [10, 0, 0, 1]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, body) = call_from(&router, [10, 0, 0, 2]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client has its own budget: {body}"
    );
    let mut keys: Vec<String> = redis_query(&env, redis::cmd("KEYS").arg("rate-limit:*")).await;
    keys.sort();
    assert_eq!(
        keys,
        [
            "rate-limit:{call-service-b:10.0.0.1}",
            "rate-limit:{call-service-b:10.0.0.2}"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_the_replica_limits_on_its_own() {
    let mut env = Env::start().await;
    let a = env.start_a(&limited(&env, 1, 2).await, "a-1").await;
    env.redis.kill();
    // Each call is answered (never a 500); the local limiter soon rejects the excess.
    wait_until(DEADLINE, "a 429 from the local limiter", || async {
        let (status, _, body) = env.call(&a).await;
        let allowed = [
            StatusCode::OK,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::TOO_MANY_REQUESTS,
        ];
        assert!(allowed.contains(&status), "{status}: {body}");
        status == StatusCode::TOO_MANY_REQUESTS
    })
    .await
    .expect("limited without Redis");
}
