//! Each service's routes as the contract gives them, and bad input changing nothing.

mod common;

use common::{Lab, answer, text};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_user_service_answers_the_seed() {
    let lab = Lab::start("30s").await;
    let http = &lab.http;
    assert_eq!(
        text(http, &lab.user.url("/")).await,
        (StatusCode::OK, "User Service is running!".to_owned())
    );
    let (status, _, users) = answer(http.get(lab.user.url("/users")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        users,
        json!([{"id": 1, "name": "John Doe"}, {"id": 2, "name": "Jane Doe"}])
    );
    let (status, _, jane) = answer(http.get(lab.user.url("/users/2")).send().await).await;
    assert_eq!(
        (status, jane),
        (StatusCode::OK, json!({"id": 2, "name": "Jane Doe"}))
    );
    let (status, _, missing) = answer(http.get(lab.user.url("/users/9")).send().await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing, json!({"error": "User not found"}));
    let (status, _, bad) = answer(http.get(lab.user.url("/users/abc")).send().await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"], "User id must be an integer");
}

#[tokio::test]
async fn an_order_is_created_with_the_next_id_and_listed() {
    let lab = Lab::start("30s").await;
    assert_eq!(
        text(&lab.http, &lab.order.url("/")).await,
        (StatusCode::OK, "Order Service is running!".to_owned())
    );
    let seed = lab.orders().await;
    assert_eq!(seed.as_array().map(Vec::len), Some(2), "{seed}");
    assert_eq!(seed[0]["id"], 1);
    assert_eq!(seed[1]["id"], 2);
    for field in ["id", "user_id", "product"] {
        assert!(seed[0].get(field).is_some(), "{seed}");
    }
    let (status, _, created) = lab
        .create_order(&json!({"user_id": 1, "product": "Book"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created, json!({"id": 3, "user_id": 1, "product": "Book"}));
    let (status, _, next) = lab
        .create_order(&json!({"user_id": 2, "product": "Pen"}))
        .await;
    assert_eq!(
        (status, next["id"].clone()),
        (StatusCode::CREATED, json!(4))
    );
    let orders = lab.orders().await;
    assert_eq!(orders[2], created);
    assert_eq!(orders.as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn an_unknown_user_is_a_404_and_not_a_failure_of_the_breaker() {
    let lab = Lab::start("30s").await;
    for _ in 0..4 {
        let (status, _, body) = lab
            .create_order(&json!({"user_id": 99, "product": "Book"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, json!({"error": "User not found"}));
    }
    assert_eq!(lab.breaker_state().await, "closed");
    assert_eq!(lab.orders().await.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_input_is_a_400_json_and_stores_nothing() {
    let lab = Lab::start("30s").await;
    let before = lab.orders().await;
    let bodies = [
        json!({"product": "Book"}),
        json!({"user_id": "1", "product": "Book"}),
        json!({"user_id": 1.5, "product": "Book"}),
        json!({"user_id": 1}),
        json!({"user_id": 1, "product": ""}),
        json!({"user_id": 1, "product": 7}),
        json!([1, "Book"]),
    ];
    for body in &bodies {
        let (status, _, answer) = lab.create_order(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let url = lab.order.url("/create_order");
    let malformed = lab
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"user_id\": 1,");
    let (status, _, body) = answer(malformed.send().await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].is_string());
    assert_eq!(lab.orders().await, before);
    let (status, _, created) = lab
        .create_order(&json!({"user_id": 1, "product": "Book"}))
        .await;
    assert_eq!(
        (status, created["id"].clone()),
        (StatusCode::CREATED, json!(3))
    );
}

#[tokio::test]
async fn the_dashboard_reports_both_services_and_the_breaker() {
    let lab = Lab::start("30s").await;
    let http = &lab.http;
    let (status, _, health) = answer(http.get(lab.dashboard.url("/health")).send().await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["user_service"], "healthy", "{health}");
    assert_eq!(health["order_service"], "healthy", "{health}");
    let (status, page) = text(http, &lab.dashboard.url("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"http-equiv="refresh" content="5""#),
        "{page}"
    );
    assert!(
        page.contains(r#"<span class="closed">closed</span>"#),
        "{page}"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );

    lab.user_faults(&json!({"down": true})).await;
    let (_, _, health) = answer(http.get(lab.dashboard.url("/health")).send().await).await;
    assert_eq!(health["user_service"], "unhealthy", "{health}");
    assert_eq!(health["order_service"], "healthy", "{health}");
    let (_, _, status) = answer(http.get(lab.dashboard.url("/status")).send().await).await;
    assert_eq!(status["breaker"]["state"], "closed", "{status}");
    assert_eq!(status["breaker"]["name"], "user-service", "{status}");
}
