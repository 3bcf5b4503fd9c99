//! `FALLBACK=last-good`: a rejected or failed call answers with B's last good answer, which
//! every replica can serve because it is kept in Redis.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{DEADLINE, Env, metric_lines, redis_query};
use serde_json::{Value, json};
use service_a::{Config, FallbackMode};
use service_kit::Spawned;
use test_support::wait_until;

const KEY: &str = "breaker:{service-b}:last-good";

fn last_good(env: &Env, ttl: Duration) -> Config {
    Config {
        fallback: FallbackMode::LastGood,
        fallback_ttl: ttl,
        ..env.config()
    }
}

/// A call to `a` that `a` answers from the last good answer: that answer's body.
async fn fallback_answer(env: &Env, a: &Spawned, state: &str) -> Value {
    let (status, _, body) = env.call(a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["fallback"], true, "{body}");
    assert_eq!(body["breaker"]["state"], state, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn every_replica_serves_the_last_good_answer() {
    let env = Env::start().await;
    let config = last_good(&env, Duration::from_secs(60));
    let a1 = env.start_a(&config, "a-1").await;
    let a2 = env.start_a(&config, "a-2").await;

    let (status, _, good) = env.call(&a1).await;
    assert_eq!(status, StatusCode::OK, "{good}");
    assert!(good.get("fallback").is_none(), "{good}");
    // Written to Redis in the background.
    wait_until(DEADLINE, "the good answer to reach Redis", || async {
        redis_query::<Option<String>>(&env, redis::cmd("GET").arg(KEY))
            .await
            .is_some()
    })
    .await
    .expect("remembered");

    // B down: replica 2, which never saw a good answer, serves replica 1's.
    env.faults(json!({"down": true})).await;
    let body = fallback_answer(&env, &a2, "closed").await;
    assert_eq!(body["instance"], "a-2");
    assert_eq!(body["upstream"], good["upstream"]);
    assert_eq!(body.as_object().map(|o| o.len()), Some(4), "{body}");
    fallback_answer(&env, &a1, "closed").await;
    // Two failures in three calls opened the circuit: the rejection is answered the same way,
    // without calling B.
    let before = env.b_requests().await;
    let body = fallback_answer(&env, &a2, "open").await;
    assert_eq!(body["upstream"], good["upstream"]);
    assert_eq!(env.b_requests().await, before);
    let lines = metric_lines(&env, &a2, "upstream_fallbacks_total").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].ends_with(" 0"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_remembered_answer_the_errors_are_the_usual_ones() {
    let env = Env::start().await;
    let a = env
        .start_a(&last_good(&env, Duration::from_millis(300)), "a-1")
        .await;
    env.faults(json!({"down": true})).await;
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.get("fallback").is_none(), "{body}");

    // A good answer is served for FALLBACK_TTL, then the errors come back.
    env.faults(json!({"down": false, "fail_every": 0})).await;
    assert_eq!(env.call(&a).await.0, StatusCode::OK);
    env.faults(json!({"down": true})).await;
    fallback_answer(&env, &a, "closed").await;
    wait_until(DEADLINE, "the remembered answer to expire", || async {
        let (status, _, body) = env.call(&a).await;
        assert!(
            status == StatusCode::OK || body.get("fallback").is_none(),
            "{status}: {body}"
        );
        status != StatusCode::OK
    })
    .await
    .expect("expired");
    let (status, _, body) = env.call(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "circuit open");
}
