//! `GET /ready`: ready once serving, unless the service's readiness check says otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use service_kit::{App, ServerConfig};

fn server() -> ServerConfig {
    ServerConfig {
        instance_id: "test-1".to_owned(),
        ..ServerConfig::new("kit-test", 0)
    }
}

async fn ready(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.expect("GET /ready");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_service_is_ready_once_it_serves() {
    let app = App::new(&server()).build(Router::new());
    let app = service_kit::spawn(app).await.expect("server starts");
    let expected = json!({"status": "ready", "service": "kit-test", "instance": "test-1"});
    assert_eq!(ready(&app.url("/ready")).await, (StatusCode::OK, expected));
}

#[tokio::test]
async fn a_readiness_check_answers_503_with_its_reason_until_it_passes() {
    let warm = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&warm);
    let app = App::new(&server()).ready_check(move || {
        let warm = flag.load(Ordering::SeqCst);
        async move {
            if warm {
                Ok(())
            } else {
                Err("cache not loaded".to_owned())
            }
        }
    });
    let app = service_kit::spawn(app.build(Router::new()))
        .await
        .expect("server starts");
    let url = app.url("/ready");
    let (status, body) = ready(&url).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        (&body["status"], &body["reason"]),
        (&json!("not-ready"), &json!("cache not loaded"))
    );
    let health = reqwest::get(app.url("/health")).await.expect("GET /health");
    assert_eq!(health.status(), StatusCode::OK, "liveness is not readiness");

    warm.store(true, Ordering::SeqCst);
    let (status, body) = ready(&url).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("ready")));
}
