//! The shipping-service: its routes, shipping once per order, the provider's fallback, bad
//! input, the rate limit per client (behind trusted proxies only), `down`, and the binary.

mod common;

use common::shipping::{Env, shipment};
use common::{answer, get, post, set_faults};
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_kit::time::{date, now_ms};
use shop::shipping::{Config, VALID_STATUSES};
use test_support::RedisServer;

#[tokio::test]
async fn a_shipment_is_created_once_found_and_moved_on() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/shipping");
    let before = now_ms();
    let (status, created) = post(&env.http, &url, &shipment("o-1")).await;
    let after = now_ms();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["orderId"], "o-1");
    assert_eq!(created["address"], "1 Main St");
    assert_eq!(created["items"], shipment("o-1")["items"]);
    assert_eq!(created["status"], "PROCESSING");
    assert_eq!(created["carrier"], "Express Shipping");
    let tracking = created["trackingNumber"]
        .as_str()
        .expect("a tracking number");
    assert!(tracking.starts_with("TRK"), "{tracking}");
    let eta = created["estimatedDelivery"].as_str().expect("a date");
    assert!(eta == date(before, 3) || eta == date(after, 3), "{eta}");
    assert!(
        created["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(created.get("updatedAt").is_none());

    let (status, found) = get(&env.http, &app.url("/api/shipping/o-1")).await;
    assert_eq!((status, &found), (StatusCode::OK, &created));

    let status_url = app.url("/api/shipping/o-1/status");
    let moved = answer(
        env.http
            .put(&status_url)
            .json(&json!({"status": "SHIPPED"}))
            .send()
            .await,
    );
    let (status, _, moved) = moved.await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["status"], "SHIPPED");
    assert_eq!(moved["trackingNumber"], created["trackingNumber"]);
    assert!(
        moved["updatedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // The same order again: the shipment as it is, the (now failing) provider not called.
    set_faults(&env.http, &app.url(""), &json!({"failure_rate": 1.0})).await;
    let (status, again) = post(&env.http, &url, &shipment("o-1")).await;
    assert_eq!((status, &again), (StatusCode::OK, &moved));
}

#[tokio::test]
async fn concurrent_requests_for_one_order_ship_once() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    // Slow enough that every request arrives while the provider is being called.
    set_faults(&env.http, &app.url(""), &json!({"delay_ms": 300})).await;
    let url = app.url("/api/shipping");
    let requests = (0..5).map(|_| {
        let (http, url) = (env.http.clone(), url.clone());
        tokio::spawn(async move { post(&http, &url, &shipment("same")).await })
    });
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.expect("joins"));
    }
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, b)| s.is_success() && *b == answers[0].1)
    );
}

#[tokio::test]
async fn the_oldest_shipments_are_forgotten() {
    let env = Env::start();
    let app = env
        .spawn(&Config {
            max_shipments: 1,
            ..env.config()
        })
        .await;
    for id in ["a", "b"] {
        let (status, _) = post(&env.http, &app.url("/api/shipping"), &shipment(id)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(
        get(&env.http, &app.url("/api/shipping/a")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&env.http, &app.url("/api/shipping/b")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn status_changes_are_checked_in_the_contracts_order() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    post(&env.http, &app.url("/api/shipping"), &shipment("o-1")).await;
    let put = |id: &str, body: Value| {
        let request = env.http.put(app.url(&format!("/api/shipping/{id}/status")));
        async move { answer(request.json(&body).send().await).await }
    };
    let required = json!({"error": "Status is required"});
    let invalid = json!({"error": "Invalid status", "validStatuses": VALID_STATUSES});
    let not_found = json!({"error": "Shipment not found"});
    let cases = [
        ("nope", json!({}), StatusCode::BAD_REQUEST, &required),
        (
            "o-1",
            json!({"status": ""}),
            StatusCode::BAD_REQUEST,
            &required,
        ),
        (
            "o-1",
            json!({"status": null}),
            StatusCode::BAD_REQUEST,
            &required,
        ),
        ("o-1", json!([]), StatusCode::BAD_REQUEST, &required),
        (
            "nope",
            json!({"status": "LOST"}),
            StatusCode::NOT_FOUND,
            &not_found,
        ),
        (
            "o-1",
            json!({"status": "LOST"}),
            StatusCode::BAD_REQUEST,
            &invalid,
        ),
        (
            "o-1",
            json!({"status": 3}),
            StatusCode::BAD_REQUEST,
            &invalid,
        ),
        (
            "o-1",
            json!({"status": "shipped"}),
            StatusCode::BAD_REQUEST,
            &invalid,
        ),
    ];
    for (id, body, expected, error) in cases {
        let (status, _, answer) = put(id, body.clone()).await;
        assert_eq!((status, &answer), (expected, error), "{id} {body}");
    }
    let (_, found) = get(&env.http, &app.url("/api/shipping/o-1")).await;
    assert_eq!(found["status"], "PROCESSING", "nothing changed");
    for status in VALID_STATUSES {
        let (code, _, answer) = put("o-1", json!({"status": status})).await;
        assert_eq!((code, &answer["status"]), (StatusCode::OK, &json!(status)));
    }
}

#[tokio::test]
async fn a_failing_provider_gives_a_pending_shipment() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    set_faults(&env.http, &app.url(""), &json!({"failure_rate": 1.0})).await;
    let (status, body) = post(&env.http, &app.url("/api/shipping"), &shipment("o-1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let tracking = body["trackingNumber"].as_str().expect("a tracking number");
    assert!(tracking.starts_with("PENDING-"), "{tracking}");
    assert_eq!(body["estimatedDelivery"], "Pending");
    assert_eq!(body["carrier"], "Pending");
    assert_eq!(body["status"], "PROCESSING");
}

#[tokio::test]
async fn bad_bodies_answer_4xx_and_store_nothing() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/shipping");
    let items = json!([{"productId": "prod-001", "quantity": 1}]);
    let cases = [
        json!({"address": "x", "items": items}),
        json!({"orderId": "", "address": "x", "items": items}),
        json!({"orderId": 5, "address": "x", "items": items}),
        json!({"orderId": "bad", "items": items}),
        json!({"orderId": "bad", "address": "", "items": items}),
        json!({"orderId": "bad", "address": 7, "items": items}),
        json!({"orderId": "bad", "address": {}, "items": items}),
        json!({"orderId": "bad", "address": "x"}),
        json!({"orderId": "bad", "address": "x", "items": []}),
        json!({"orderId": "bad", "address": "x", "items": "prod-001"}),
        json!(["bad"]),
    ];
    let required = json!({"error": "Order ID, address, and items are required"});
    for body in cases {
        let (status, answer) = post(&env.http, &url, &body).await;
        assert_eq!(
            (status, &answer),
            (StatusCode::BAD_REQUEST, &required),
            "{body}"
        );
    }
    let raw = [
        ("application/json", r#"{"orderId":"bad""#.to_owned(), 400),
        ("text/plain", shipment("bad").to_string(), 415),
        ("application/json", common::oversized(), 413),
    ];
    common::refuses_raw(&env.http, &url, raw.into()).await;
    let (status, _) = get(&env.http, &app.url("/api/shipping/bad")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
}

#[tokio::test]
async fn down_refuses_the_api_but_not_health_or_faults() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let (_, health) = get(&env.http, &app.url("/health")).await;
    assert_eq!(
        (&health["status"], &health["service"]),
        (&json!("UP"), &json!("shipping-service"))
    );
    set_faults(&env.http, &app.url(""), &json!({"down": true})).await;
    let down = json!({"error": "Shipping service is down"});
    let (status, body) = post(&env.http, &app.url("/api/shipping"), &shipment("d")).await;
    assert_eq!((status, &body), (StatusCode::SERVICE_UNAVAILABLE, &down));
    let (status, health) = get(&env.http, &app.url("/health")).await;
    assert_eq!(
        (status, &health["status"]),
        (StatusCode::OK, &json!("DOWN"))
    );
    set_faults(&env.http, &app.url(""), &json!({"down": false})).await;
    let (status, _) = get(&env.http, &app.url("/api/shipping/d")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "up again, and nothing was stored"
    );
}

#[tokio::test]
async fn the_binary_serves_and_refuses_bad_settings() {
    let redis = RedisServer::start().expect("redis-server starts");
    let url = redis.url();
    let with = |var, value| [("REDIS_URL", url.as_str()), (var, value)];
    let bad = [
        ("RATE_LIMIT_PER_MINUTE", "0"),
        ("RATE_LIMIT_PER_MINUTE", "many"),
        ("TRUSTED_PROXIES", "nope"),
        ("PROVIDER_TIMEOUT", "0s"),
        ("MAX_SHIPMENTS", "0"),
        ("BREAKER__FAILURE_RATIO", "2"),
        ("REDIS_URL", "nope://x"),
    ];
    for (var, value) in bad {
        common::refuses_to_start("shipping", &with(var, value), var);
    }
    let child = common::binary("shipping", &with("FAULTS__DELAY_MS", "0"));
    let base = common::listening(&child).await;
    let http = reqwest::Client::new();
    let (status, body) = get(&http, &format!("{base}/health")).await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("UP")));
    let (_, faults) = get(&http, &format!("{base}/faults")).await;
    assert_eq!(
        faults,
        json!({"failure_rate": 0.25, "delay_ms": 0, "down": false})
    );
}
