//! The standard routes, layers and JSON errors, over real sockets.

use std::time::Duration;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::routing::{get, post};
use reqwest::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use serde::Deserialize;
use serde_json::{Value, json};
use service_kit::{App, AppError, HealthFields, Json, ServerConfig, Spawned};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    quantity: u32,
}

async fn order(Json(order): Json<Order>) -> Json<Value> {
    Json(json!({ "quantity": order.quantity }))
}

async fn busy() -> AppError {
    AppError::unavailable("busy")
        .with_field("detail", "try later")
        .with_retry_after(Duration::from_millis(1500))
}

async fn broken() -> Result<&'static str, AppError> {
    Err(std::io::Error::other("disk on fire: secret detail"))?
}

async fn peer(ConnectInfo(addr): ConnectInfo<SocketAddr>) -> String {
    addr.ip().to_string()
}

fn routes() -> Router {
    Router::new()
        .route("/orders", post(order))
        .route("/peer", get(peer))
        .route("/busy", get(busy))
        .route("/broken", get(broken))
        .route("/items/{id}", get(item))
        .route("/plain", get(plain))
}

async fn item(axum::extract::Path(id): axum::extract::Path<String>) -> String {
    id
}

async fn plain() -> (StatusCode, &'static str) {
    (StatusCode::CONFLICT, "a plain-text refusal")
}

async fn start(server: &ServerConfig) -> Spawned {
    service_kit::spawn(App::new(server).build(routes()))
        .await
        .expect("server starts")
}

fn server() -> ServerConfig {
    ServerConfig {
        instance_id: "test-1".to_owned(),
        ..ServerConfig::new("kit-test", 0)
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let response = client.get(app.url("/nope")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["error"], "no such route");

    let response = client
        .delete(app.url("/orders"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[ALLOW], "POST");
    assert_eq!(json_of(response).await["error"], "method not allowed");
}

#[tokio::test]
async fn json_rejections_are_json_errors() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let cases = [
        (r#"{"quantity": 2"#, "malformed JSON body"),
        (r#"{"quantity": "two"}"#, "invalid request body"),
        (r#"{"quantity": -1}"#, "invalid request body"),
        (
            r#"{"quantity": 1, "colour": "red"}"#,
            "invalid request body",
        ),
        (r#"{}"#, "invalid request body"),
    ];
    for (body, error) in cases {
        let response = client
            .post(app.url("/orders"))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer = json_of(response).await;
        assert_eq!(answer["error"], error, "{body}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    let response = client
        .post(app.url("/orders"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(json_of(response).await["error"].is_string());

    let ok = client
        .post(app.url("/orders"))
        .json(&json!({"quantity": 3}))
        .send()
        .await;
    assert_eq!(json_of(ok.expect("request")).await, json!({"quantity": 3}));
}

#[tokio::test]
async fn oversized_bodies_answer_json_413() {
    let small = ServerConfig {
        max_body_bytes: 32,
        ..server()
    };
    let app = start(&small).await;
    let body = json!({ "quantity": 1, "padding": "x".repeat(100) });
    let response = reqwest::Client::new()
        .post(app.url("/orders"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let answer = json_of(response).await;
    assert_eq!(answer["error"], "request body too large");
    assert_eq!(answer["limit_bytes"], 32);
}

/// A chunked body has no `Content-Length`: the limit applies while the extractor reads it.
#[tokio::test]
async fn oversized_chunked_bodies_answer_json_413() {
    let small = ServerConfig {
        max_body_bytes: 32,
        ..server()
    };
    let app = start(&small).await;
    let chunk = format!(r#"{{"quantity": 1, "padding": "{}"}}"#, "x".repeat(100));
    let request = format!(
        "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains(r#""error":"request body too large""#),
        "{response}"
    );
}

#[tokio::test]
async fn app_errors_carry_fields_and_headers_and_hide_causes() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let response = client.get(app.url("/busy")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[RETRY_AFTER], "2");
    let expected = json!({"error": "busy", "code": "unavailable", "detail": "try later", "retry_after_ms": 1500});
    assert_eq!(json_of(response).await, expected);

    let response = client
        .get(app.url("/broken"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        json_of(response).await,
        json!({"error": "internal error", "code": "internal"})
    );
}

#[tokio::test]
async fn clients_asking_for_problem_details_get_rfc_9457_bodies() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let problem = "application/problem+json";
    let response = client
        .get(app.url("/busy"))
        .header("accept", format!("text/html, {problem};q=0.9"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["content-type"], problem);
    assert_eq!(response.headers()[RETRY_AFTER], "2");
    let expected = json!({
        "type": "urn:breaker-redis:error:unavailable",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "try later",
        "code": "unavailable",
        "error": "busy",
        "retry_after_ms": 1500,
    });
    assert_eq!(json_of(response).await, expected);
    for path in ["/nope", "/broken"] {
        let response = client
            .get(app.url(path))
            .header("accept", problem)
            .send()
            .await
            .expect("request");
        assert_eq!(response.headers()["content-type"], problem, "{path}");
        let body = json_of(response).await;
        assert!(
            body["status"].is_u64() && body["title"].is_string() && body["code"].is_string(),
            "{body}"
        );
    }
    // Successes, and clients that refuse problem details, are untouched.
    let ok = client
        .get(app.url("/health"))
        .header("accept", problem)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.headers()["content-type"], "application/json");
    let refused = client
        .get(app.url("/busy"))
        .header("accept", format!("{problem};q=0, application/json"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let response = client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "abc-123");

    let first = client.get(app.url("/nope")).send().await.expect("request");
    let second = client.get(app.url("/nope")).send().await.expect("request");
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().map(str::to_owned);
    let (first, second) = (id(&first).expect("ascii"), id(&second).expect("ascii"));
    assert_eq!(first.len(), 36, "a UUID: {first}");
    assert_ne!(first, second);
}

#[tokio::test]
async fn health_reports_service_instance_and_hook_fields() {
    let app = start(&server()).await;
    let response = reqwest::get(app.url("/health")).await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let expected = json!({"status": "ok", "service": "kit-test", "instance": "test-1"});
    assert_eq!(json_of(response).await, expected);

    let degraded = App::new(&server()).health_check(|| async {
        let mut fields = HealthFields::new();
        fields.insert("status".into(), "degraded".into());
        fields.insert("redis".into(), "down".into());
        fields
    });
    let app = service_kit::spawn(degraded.build(routes()))
        .await
        .expect("server starts");
    let response = reqwest::get(app.url("/health")).await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let answer = json_of(response).await;
    assert_eq!(
        (&answer["status"], &answer["redis"]),
        (&json!("degraded"), &json!("down"))
    );
    assert_eq!(answer["service"], "kit-test");
}

#[tokio::test]
async fn metrics_count_requests_per_route() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    client.get(app.url("/busy")).send().await.expect("request");
    client
        .get(app.url("/no/such/thing"))
        .send()
        .await
        .expect("request");
    let response = client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    let has = |needle: &str| text.lines().any(|line| line.contains(needle));
    assert!(
        has(r#"http_requests_total{method="GET",route="/busy",status="503"}"#),
        "{text}"
    );
    assert!(has(r#"route="unmatched",status="404""#), "{text}");
    assert!(
        has(r#"http_request_duration_seconds_bucket{method="GET",route="/busy""#),
        "{text}"
    );
}

#[tokio::test]
async fn stop_waits_for_the_server_to_finish() {
    let app = start(&server()).await;
    let url = app.url("/health");
    reqwest::get(&url).await.expect("serving");
    tokio::time::timeout(Duration::from_secs(5), app.stop())
        .await
        .expect("stops promptly")
        .expect("stops cleanly");
    assert!(reqwest::get(&url).await.is_err(), "no longer serving");
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let app = start(&server()).await;
    let response = reqwest::get(app.url("/peer")).await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.expect("text"), "127.0.0.1");
}

#[tokio::test]
async fn extension_methods_share_one_metrics_label() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    let invented = ["FOOBAR", "BREW", "PURGE", "get"];
    for name in invented {
        let method = reqwest::Method::from_bytes(name.as_bytes()).expect("a valid token");
        let response = client
            .request(method, app.url("/busy"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{name}");
    }
    let text = client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    for name in invented {
        let label = format!(r#"method="{name}""#);
        assert!(!text.contains(&label), "{label} in\n{text}");
    }
    assert!(
        text.lines().any(|line| line
            .starts_with(r#"http_requests_total{method="other",route="/busy",status="405"}"#)),
        "{text}"
    );
}

#[tokio::test]
async fn errors_that_are_not_json_become_json_with_a_code() {
    let app = start(&server()).await;
    let client = reqwest::Client::new();
    // A percent-encoded path that is not UTF-8: axum's `Path` refuses it in plain text.
    let response = client
        .get(app.url("/items/%FF%FE"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let body = json_of(response).await;
    assert_eq!(
        (&body["error"], &body["code"]),
        (&json!("bad request"), &json!("bad_request")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );

    let response = client
        .get(app.url("/plain"))
        .header("accept", "application/problem+json")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    let body = json_of(response).await;
    assert_eq!(
        (&body["code"], &body["status"], &body["detail"]),
        (
            &json!("conflict"),
            &json!(409),
            &json!("a plain-text refusal")
        ),
        "{body}"
    );
    // Successes are untouched.
    let ok = client
        .get(app.url("/items/abc"))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.text().await.expect("text"), "abc");
}
