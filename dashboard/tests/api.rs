//! The JSON API of the real binary against a real Redis and real breakers: what it lists and
//! shows, the overrides behind the token reaching a running breaker, bad input refused
//! without changing anything, bad settings stopping the binary, and metrics promtool accepts.

mod common;

use common::{DEADLINE, Dashboard, TOKEN, breaker, call_ok, trip, wait_field};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{POLL_INTERVAL, RedisServer, cargo_bin, wait_until};

#[tokio::test]
async fn the_breakers_are_listed_and_shown_with_their_history() {
    let redis = RedisServer::start().expect("redis");
    let payments = breaker(&redis, "payments").await;
    let users = breaker(&redis, "users").await;
    call_ok(&users).await;
    trip(&payments).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;

    // Each breaker publishes its settings beside its state, in the background.
    let end = tokio::time::Instant::now() + DEADLINE;
    let body = loop {
        let (status, body) = dashboard.get("/api/breakers").await;
        let all = body["breakers"].as_array().cloned().unwrap_or_default();
        if status == StatusCode::OK
            && all.len() == 2
            && all.iter().all(|b| b["settings"].is_object())
        {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "no settings: {status} {body}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    assert_eq!(body["truncated"], false);
    let names: Vec<&str> = body["breakers"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, ["payments", "users"], "{body}");
    let users_view = &body["breakers"][1];
    assert_eq!(users_view["state"], "closed");
    assert_eq!(users_view["forced"], "none");
    assert_eq!(users_view["requests"], 1, "{users_view}");
    assert!(
        users_view["ttl_ms"].as_u64().is_some_and(|t| t > 0),
        "{users_view}"
    );

    let (status, shown) = dashboard.get("/api/breakers/payments").await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["state"], "open");
    assert!(shown["open_until_ms"].as_u64().is_some_and(|t| t > 0));
    let history = shown["history"].as_array().expect("history");
    assert_eq!(history.len(), 1, "{shown}");
    let t = &history[0];
    assert_eq!(
        (&t["from"], &t["to"], &t["forced"]),
        (&"closed".into(), &"open".into(), &"none".into())
    );
    assert_eq!(t["breaker"], "payments");
    assert_eq!(t["origin"], "test-replica");
    assert_eq!(t["reason"], "failure threshold reached");
    assert_eq!(t["generation"], shown["generation"]);
    assert!(t["id"].as_str().is_some_and(|id| id.contains('-')), "{t}");

    // The history route, newest first, limited.
    payments.reset().await.expect("reset");
    trip(&payments).await;
    let (status, body) = dashboard
        .get("/api/breakers/payments/history?limit=2")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reasons: Vec<&str> = body["history"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["failure threshold reached", "reset"], "{body}");
    let (_, all) = dashboard.get("/api/breakers/payments/history").await;
    assert_eq!(all["history"].as_array().map(Vec::len), Some(3), "{all}");
}

#[tokio::test]
async fn unknown_breakers_and_bad_input_get_json_errors() {
    let redis = RedisServer::start().expect("redis");
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let cases = [
        (
            "/api/breakers/nobody",
            StatusCode::NOT_FOUND,
            "unknown breaker",
        ),
        (
            "/api/breakers/nobody/history",
            StatusCode::NOT_FOUND,
            "unknown breaker",
        ),
        (
            "/api/breakers/a%20b",
            StatusCode::BAD_REQUEST,
            "invalid breaker name",
        ),
        (
            "/api/breakers/a%7Bb%7D/history",
            StatusCode::BAD_REQUEST,
            "invalid breaker name",
        ),
        (
            "/api/breakers/x/history?limit=0",
            StatusCode::BAD_REQUEST,
            "invalid limit",
        ),
        (
            "/api/breakers/x/history?limit=1001",
            StatusCode::BAD_REQUEST,
            "invalid limit",
        ),
        (
            "/api/breakers/x/history?limit=abc",
            StatusCode::BAD_REQUEST,
            "invalid query",
        ),
        (
            "/api/events?breaker=a%20b",
            StatusCode::BAD_REQUEST,
            "invalid breaker name",
        ),
    ];
    for (path, expected, error) in cases {
        let (status, body) = dashboard.get(path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert_eq!(body["error"], error, "{path}: {body}");
    }
    let long = "x".repeat(129);
    let (status, _) = dashboard.get(&format!("/api/breakers/{long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = dashboard
        .http
        .get(dashboard.url("/api/events"))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

async fn generation(dashboard: &Dashboard, name: &str) -> Value {
    let (status, body) = dashboard.get(&format!("/api/breakers/{name}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["generation"].clone()
}

#[tokio::test]
async fn overrides_need_the_token_and_reach_a_running_breaker() {
    let redis = RedisServer::start().expect("redis");
    let running = breaker(&redis, "orders").await;
    call_ok(&running).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let before = generation(&dashboard, "orders").await;

    // Refused, and nothing changes.
    let path = "/api/breakers/orders/open";
    let refused = [
        (None, StatusCode::UNAUTHORIZED),
        (Some("Bearer wrong-token"), StatusCode::UNAUTHORIZED),
        (Some(TOKEN), StatusCode::UNAUTHORIZED),
        (Some("Basic b3JkZXJz"), StatusCode::UNAUTHORIZED),
    ];
    for (auth, expected) in refused {
        let (status, body) = dashboard.post(path, auth).await;
        assert_eq!(status, expected, "{auth:?}: {body}");
        assert_eq!(body["error"], "unauthorized");
    }
    for (path, expected) in [
        ("/api/breakers/orders/explode", StatusCode::NOT_FOUND),
        ("/api/breakers/nobody/open", StatusCode::NOT_FOUND),
        ("/api/breakers/bad%20name/open", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = dashboard.apply_path(path).await;
        assert_eq!(status, expected, "{path}: {body}");
    }
    assert_eq!(generation(&dashboard, "orders").await, before);
    let (_, unknown) = dashboard.get("/api/breakers/nobody").await;
    assert_eq!(
        unknown["error"], "unknown breaker",
        "an override created it"
    );
    running
        .acquire()
        .await
        .expect("still closed")
        .success()
        .await;

    // Each override reaches the running breaker.
    let (status, body) = dashboard.apply("orders", "open").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["to"], &body["forced"]),
        (&"open".into(), &"open".into())
    );
    assert_eq!(
        (&body["action"], &body["breaker"]),
        (&"open".into(), &"orders".into())
    );
    assert!(body["generation"].as_u64() > before.as_u64());
    wait_until(DEADLINE, "the running breaker rejects", || async {
        running.acquire().await.is_err()
    })
    .await
    .expect("forced open");
    let shown = wait_field(&dashboard, "orders", "forced", "open").await;
    assert_eq!(
        shown["ttl_ms"],
        Value::Null,
        "a forced breaker never expires"
    );
    assert_eq!(shown["history"][0]["reason"], "forced open");

    for (action, forced) in [
        ("close", "closed"),
        ("disable", "disabled"),
        ("reset", "none"),
    ] {
        let (status, body) = dashboard.apply("orders", action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        assert_eq!(body["forced"], forced, "{action}");
        assert_eq!(body["to"], "closed", "{action}");
    }
    running
        .acquire()
        .await
        .expect("reset: closed")
        .success()
        .await;
}

#[tokio::test]
async fn without_a_token_the_overrides_are_off() {
    let redis = RedisServer::start().expect("redis");
    let running = breaker(&redis, "orders").await;
    call_ok(&running).await;
    let dashboard = Dashboard::start(&redis.url(), &[("ADMIN_TOKEN", "")]).await;
    let (status, body) = dashboard.apply("orders", "open").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "admin endpoints are disabled");
    wait_field(&dashboard, "orders", "forced", "none").await;
}

#[test]
fn a_bad_setting_stops_the_binary_naming_the_variable() {
    for (var, value) in [
        ("SSE_MAX_CLIENTS", "0"),
        ("REDIS_TIMEOUT", "soon"),
        ("REDIS_URL", "http://x"),
        ("MAX_BREAKERS", "-1"),
        ("ADMIN_TOKEN", "short"),
    ] {
        let output = std::process::Command::new(cargo_bin("dashboard"))
            .env_clear()
            .env("PORT", "0")
            .env(var, value)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{var}={value} was accepted");
        assert_eq!(output.status.code(), Some(1), "{var}: {stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn metrics_pass_promtool_fresh_and_after_traffic() {
    let redis = RedisServer::start().expect("redis");
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let metrics = || async {
        let response = dashboard
            .http
            .get(dashboard.url("/metrics"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("text")
    };
    test_support::promtool_check_metrics(&metrics().await).unwrap_or_else(|e| panic!("{e:#}"));
    dashboard.get("/api/breakers").await;
    dashboard.get("/api/breakers/nobody").await;
    let after = metrics().await;
    test_support::promtool_check_metrics(&after).unwrap_or_else(|e| panic!("{e:#}"));
}
