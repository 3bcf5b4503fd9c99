//! `GET /breaker`, the admin overrides and their bearer token, and requests no route takes.

mod common;

use axum::http::StatusCode;
use common::{Env, TOKEN};
use serde_json::json;
use service_a::Config;
use service_kit::Spawned;

fn with_token(env: &Env) -> Config {
    Config {
        admin_token: Some(TOKEN.to_owned()),
        ..env.config()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn breaker_state_is_served_as_json() {
    let env = Env::start().await;
    let a = env.start_a(&env.config(), "a-1").await;
    let (status, body) = env.breaker(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (field, value) in [
        ("name", json!("service-b")),
        ("instance", json!("a-1")),
        ("degraded", json!(false)),
    ] {
        assert_eq!(body[field], value, "{field} in {body}");
    }
    assert_eq!(
        (&body["state"], &body["forced"]),
        (&json!("closed"), &json!("none"))
    );
    let numbers = [
        "generation",
        "open_until_ms",
        "requests",
        "failures",
        "consecutive_failures",
        "half_open_successes",
        "in_flight",
        "now_ms",
        "retry_after_ms",
    ];
    for field in numbers {
        assert!(body[field].is_u64(), "{field} in {body}");
    }
    assert_eq!(body["repaired"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_routes_are_off_without_a_token() {
    let env = Env::start().await;
    let a = env
        .start_a(
            &Config {
                admin_token: Some(String::new()),
                ..env.config()
            },
            "a-1",
        )
        .await;
    for action in ["open", "close", "reset"] {
        let auth = format!("Bearer {TOKEN}");
        let (status, body) = env.admin(&a, action, Some(&auth)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "admin endpoints are disabled");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_routes_need_the_right_bearer_token() {
    let env = Env::start().await;
    let a = env.start_a(&with_token(&env), "a-1").await;
    let huge = format!("Bearer {}", "x".repeat(16 * 1024));
    let wrong = [
        None,
        Some("Bearer wrong"),
        Some(&*format!("Bearer {TOKEN}x")),
        Some(&TOKEN[..TOKEN.len() - 1]),
        Some(&*format!("Basic {TOKEN}")),
        Some(&*format!("Bearer  {TOKEN}")),
        Some("Bearer "),
        Some(&*huge),
    ];
    for auth in wrong {
        let response = env.http.post(a.url("/breaker/open"));
        let response = match auth {
            Some(auth) => response.header("authorization", auth),
            None => response,
        };
        let response = response.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "unauthorized");
    }
    let (_, body) = env.breaker(&a).await;
    assert_eq!(body["forced"], "none", "nothing was applied");
    // The scheme is case-insensitive.
    let (status, body) = env
        .admin(&a, "open", Some(&format!("bearer {TOKEN}")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn overrides_apply_to_every_replica() {
    let env = Env::start().await;
    let config = with_token(&env);
    let (a1, a2) = (
        env.start_a(&config, "a-1").await,
        env.start_a(&config, "a-2").await,
    );
    let auth = format!("Bearer {TOKEN}");

    let (status, body) = env.admin(&a1, "open", Some(&auth)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["action"], &body["forced"], &body["instance"]),
        (&json!("open"), &json!("open"), &json!("a-1"))
    );
    assert!(body["generation"].is_u64(), "{body}");
    let (_, view) = env.breaker(&a2).await;
    assert_eq!(view["forced"], "open");
    let (status, headers, body) = env.call(&a2).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["breaker"]["forced"], "open");
    assert_eq!(body["retry_after_ms"], serde_json::Value::Null);
    assert!(
        headers.get("retry-after").is_none(),
        "no deadline when forced open"
    );
    assert_eq!(env.b_requests().await, 0);

    forced_closed_never_trips(&env, &a1, &a2).await;

    // A POST body is ignored.
    let response = env
        .http
        .post(a1.url("/breaker/reset"))
        .header("authorization", &auth)
        .body("{\"ignored\":1}")
        .send()
        .await;
    let (status, _, body) = common::answer(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["action"], &body["state"], &body["forced"]),
        (&json!("reset"), &json!("closed"), &json!("none"))
    );
    let (_, view) = env.breaker(&a2).await;
    assert_eq!(
        (&view["forced"], &view["requests"]),
        (&json!("none"), &json!(0)),
        "{view}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_no_route_takes_get_json_errors() {
    let env = Env::start().await;
    let a = env.start_a(&with_token(&env), "a-1").await;
    let (status, _, body) = env.get(&a.url("/nope")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::NOT_FOUND, &json!("no such route"))
    );
    for (method, path) in [
        ("POST", "/call-service-b"),
        ("GET", "/breaker/open"),
        ("DELETE", "/breaker"),
        ("PUT", "/breaker/reset"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = env.http.request(method.clone(), a.url(path)).send().await;
        let (status, _, body) = common::answer(response).await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
    }
    // Query strings are ignored.
    let (status, _, body) = env.get(&a.url("/call-service-b?x=1&state=open")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) = env.get(&a.url("/breaker?name=other")).await;
    assert_eq!(status, StatusCode::OK);
    let big = env
        .http
        .post(a.url("/breaker/reset"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(vec![b'x'; 100_000])
        .send()
        .await;
    assert_eq!(common::answer(big).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Forced closed: with B down every call fails, and the circuit never trips.
async fn forced_closed_never_trips(env: &Env, a1: &Spawned, a2: &Spawned) {
    let auth = format!("Bearer {TOKEN}");
    let (status, body) = env.admin(a2, "close", Some(&auth)).await;
    assert_eq!(
        (status, &body["forced"]),
        (StatusCode::OK, &json!("closed")),
        "{body}"
    );
    env.faults(json!({"down": true})).await;
    for _ in 0..5 {
        let (status, _, body) = env.call(a1).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_authorization_headers_are_a_bad_request_and_change_nothing() {
    let env = Env::start().await;
    let a = env.start_a(&with_token(&env), "a-1").await;
    let auth = format!("Bearer {TOKEN}");
    let response = env
        .http
        .post(a.url("/breaker/open"))
        .header("authorization", &auth)
        .header("authorization", &auth)
        .send()
        .await;
    let (status, _, body) = common::answer(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_request");
    let (_, view) = env.breaker(&a).await;
    assert_eq!(view["forced"], "none", "nothing was applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_admin_attempts_are_rate_limited_per_client() {
    let env = Env::start().await;
    let config = Config {
        admin_failures: service_kit::admin::FailureSettings {
            limit: 3,
            period: std::time::Duration::from_secs(3600),
        },
        ..with_token(&env)
    };
    let a = env.start_a(&config, "a-1").await;
    for _ in 0..3 {
        let (status, body) = env.admin(&a, "open", Some("Bearer wrong-guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Even the right token waits now: a guesser must not learn which attempt was right.
    let response = env
        .http
        .post(a.url("/breaker/open"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await;
    let (status, headers, body) = common::answer(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    let secs: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(secs >= 1);
    let (_, view) = env.breaker(&a).await;
    assert_eq!(view["forced"], "none", "nothing was applied");
}

#[tokio::test]
async fn bad_admin_tokens_stop_the_binary_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, "short\n").expect("written");
    let file = file.to_str().expect("UTF-8 path");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("ADMIN_TOKEN", "fifteen-bytes!!")],
            "ADMIN_TOKEN: the token must be at least 16 bytes",
        ),
        (
            &[("ADMIN_TOKEN", " sixteen-bytes-and-space")],
            "ADMIN_TOKEN: the token has whitespace",
        ),
        (
            &[("ADMIN_TOKEN_FILE", file)],
            "ADMIN_TOKEN_FILE: the token must be at least 16 bytes",
        ),
        (
            &[("ADMIN_TOKEN_FILE", "/nonexistent/token")],
            "ADMIN_TOKEN_FILE: cannot read",
        ),
    ];
    for (env, expected) in cases {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_service-a"))
            .env_clear()
            .envs([
                ("PORT", "0"),
                ("BIND_ADDR", "127.0.0.1"),
                ("REDIS_URL", "redis://127.0.0.1:1"),
            ])
            .envs(env.iter().copied())
            .output()
            .await
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{env:?} started");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_may_come_from_a_file() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("written");
    let config = Config {
        admin_token_file: Some(file),
        ..env.config()
    };
    let a = env.start_a(&config, "a-1").await;
    let (status, body) = env
        .admin(&a, "open", Some(&format!("Bearer {TOKEN}")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["forced"], "open");
}
