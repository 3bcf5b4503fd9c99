//! The real `shop inventory` binary: retries seen in its metrics, the database recovering
//! mid-retry, and settings it refuses.

mod common;

use common::{DEADLINE, get, set_faults};
use reqwest::StatusCode;
use serde_json::json;
use test_support::wait_until;

/// The value of `inventory_db_attempts_total{operation, result}` in the binary's metrics.
async fn attempts(http: &reqwest::Client, base: &str, operation: &str, result: &str) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| l.starts_with("inventory_db_attempts_total{"))
        .filter(|l| l.contains(&format!("operation=\"{operation}\"")))
        .filter(|l| l.contains(&format!("result=\"{result}\"")))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_binary_retries_lookups_three_times_but_not_a_missing_product() {
    let env = [
        ("PRODUCT_FAILURE_RATE", "1"),
        ("RETRY__BASE_DELAY", "10ms"),
        ("RETRY__MAX_DELAY", "10ms"),
    ];
    let child = common::binary("inventory", &env);
    let base = common::listening(&child).await;
    let http = reqwest::Client::new();
    let (status, body) = get(&http, &format!("{base}/api/inventory/prod-001")).await;
    assert_eq!(
        (status, &body["error"]),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!("Failed to fetch product")
        )
    );
    assert_eq!(
        attempts(&http, &base, "product", "failed").await,
        4,
        "3 retries"
    );

    set_faults(&http, &base, &json!({"product_failure_rate": 0.0})).await;
    let (status, _) = get(&http, &format!("{base}/api/inventory/prod-404")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        attempts(&http, &base, "product", "ok").await,
        1,
        "a 404 is not retried"
    );
}

#[tokio::test]
async fn the_binary_answers_once_the_database_recovers_during_the_retries() {
    let env = [
        ("PRODUCT_FAILURE_RATE", "1"),
        ("RETRY__MAX_ATTEMPTS", "1000"),
        ("RETRY__BASE_DELAY", "20ms"),
        ("RETRY__MAX_DELAY", "20ms"),
        ("RETRY__BUDGET_MIN_PER_SEC", "1000"),
    ];
    let child = common::binary("inventory", &env);
    let base = common::listening(&child).await;
    let http = reqwest::Client::new();
    let lookup = tokio::spawn({
        let (http, url) = (http.clone(), format!("{base}/api/inventory/prod-002"));
        async move { get(&http, &url).await }
    });
    wait_until(DEADLINE, "a failed attempt", || async {
        attempts(&http, &base, "product", "failed").await > 0
    })
    .await
    .expect("the first attempt failed");
    set_faults(&http, &base, &json!({"product_failure_rate": 0.0})).await;
    let (status, product) = lookup.await.expect("joins");
    assert_eq!(
        (status, &product["id"]),
        (StatusCode::OK, &json!("prod-002"))
    );
}

#[tokio::test]
async fn the_binary_refuses_bad_settings() {
    let bad = [
        ("PRODUCT_FAILURE_RATE", "1.5"),
        ("UPDATE_FAILURE_RATE", "-0.1"),
        ("LIST_MAX_DELAY_MS", "60001"),
        ("LIST_TIMEOUT", "0s"),
        ("RETRY__BASE_DELAY", "soon"),
        ("RETRY__MAX_ATTEMPTS", "0"),
        ("MAX_ORDERS", "0"),
        ("FAULTS__DELAY_MS", "70000"),
    ];
    for (var, value) in bad {
        common::refuses_to_start("inventory", &[(var, value)], var);
    }
}
