//! The inventory-service router: the list and its time limit, lookups and their retries, checks,
//! atomic once-per-order updates, bad input, `down` (the binary: `inventory_binary.rs`).

mod common;

use std::time::Duration;

use common::{DEADLINE, get, post, set_faults};
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_kit::Spawned;
use service_kit::faults::FaultsConfig;
use shop::common::Overrides;
use shop::inventory::{self, Config};
use test_support::wait_until;

fn seed() -> Value {
    json!([
        {"id": "prod-001", "name": "Laptop", "quantity": 10, "price": 1200},
        {"id": "prod-002", "name": "Smartphone", "quantity": 15, "price": 800},
        {"id": "prod-003", "name": "Headphones", "quantity": 20, "price": 100},
    ])
}

/// A database without faults, and retries 10 ms apart.
fn config() -> Config {
    Config {
        product_failure_rate: 0.0,
        update_failure_rate: 0.0,
        list_max_delay_ms: 0,
        retry: Overrides::from_pairs([("base_delay", "10ms"), ("max_delay", "10ms")]),
        faults: FaultsConfig {
            failure_rate: Some(0.0),
            delay_ms: Some(0),
            ..FaultsConfig::default()
        },
        ..Config::default()
    }
}

async fn spawn(config: &Config) -> Spawned {
    let server = common::server("inventory-service", "inventory-test");
    let router = inventory::router(config, &server)
        .await
        .expect("valid config");
    service_kit::spawn(router).await.expect("serves")
}

fn line(id: &str, quantity: Value) -> Value {
    json!({"productId": id, "quantity": quantity})
}

fn order(id: &str, items: &[Value]) -> Value {
    json!({"orderId": id, "items": items})
}

#[tokio::test]
async fn the_list_is_the_seed_stock_until_the_database_is_too_slow() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let (status, list) = get(&http, &app.url("/api/inventory")).await;
    assert_eq!((status, list), (StatusCode::OK, seed()));
    set_faults(&http, &app.url(""), &json!({"delay_ms": 3000})).await;
    let (status, body) = get(&http, &app.url("/api/inventory")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body, json!({"error": "Inventory service timed out"}));
}

#[tokio::test]
async fn a_random_list_delay_over_the_limit_times_out_too() {
    let app = spawn(&Config {
        list_timeout: Duration::from_millis(50),
        ..config()
    })
    .await;
    let http = reqwest::Client::new();
    // Every draw from 0..=60000 ms but the first 50 is over the limit.
    set_faults(&http, &app.url(""), &json!({"list_max_delay_ms": 60000})).await;
    wait_until(DEADLINE, "a list times out", || async {
        get(&http, &app.url("/api/inventory")).await.0 == StatusCode::GATEWAY_TIMEOUT
    })
    .await
    .expect("504");
}

#[tokio::test]
async fn a_product_is_found_retried_or_missing() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let (status, laptop) = get(&http, &app.url("/api/inventory/prod-001")).await;
    assert_eq!((status, &laptop), (StatusCode::OK, &seed()[0]));
    let (status, missing) = get(&http, &app.url("/api/inventory/prod-999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing, json!({"error": "Product not found"}));

    set_faults(&http, &app.url(""), &json!({"product_failure_rate": 1.0})).await;
    let (status, failed) = get(&http, &app.url("/api/inventory/prod-001")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed["error"], "Failed to fetch product");
    assert!(failed["message"].is_string(), "{failed}");
    // The generic failure rate fails every access too.
    set_faults(
        &http,
        &app.url(""),
        &json!({"product_failure_rate": 0.0, "failure_rate": 1.0}),
    )
    .await;
    let (status, _) = get(&http, &app.url("/api/inventory/prod-001")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_check_reports_every_line() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let url = app.url("/api/inventory/check");
    let body = json!({"items": [line("prod-001", json!(1)), line("prod-002", json!(2))]});
    let (status, report) = post(&http, &url, &body).await;
    assert_eq!(status, StatusCode::OK);
    let expected = json!({"available": true, "items": [
        {"productId": "prod-001", "name": "Laptop", "requested": 1, "available": 10, "inStock": true, "price": 1200},
        {"productId": "prod-002", "name": "Smartphone", "requested": 2, "available": 15, "inStock": true, "price": 800},
    ]});
    assert_eq!(report, expected);
    let body = json!({"items": [line("prod-003", json!(21)), line("prod-404", json!(1))]});
    let (status, report) = post(&http, &url, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["available"], false);
    assert_eq!(report["items"][0]["inStock"], false);
    let unknown =
        json!({"productId": "prod-404", "available": false, "message": "Product not found"});
    assert_eq!(report["items"][1], unknown);
}

#[tokio::test]
async fn an_update_takes_all_or_nothing_once_per_order() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let url = app.url("/api/inventory/update");
    let body = order(
        "o-1",
        &[line("prod-001", json!(1)), line("prod-002", json!(2))],
    );
    let (status, taken) = post(&http, &url, &body).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["orderId"], "o-1");
    assert!(
        taken["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let updated = json!([
        {"productId": "prod-001", "name": "Laptop", "quantityReduced": 1, "newQuantity": 9},
        {"productId": "prod-002", "name": "Smartphone", "quantityReduced": 2, "newQuantity": 13},
    ]);
    assert_eq!(taken["updatedItems"], updated);
    let (status, again) = post(&http, &url, &body).await;
    assert_eq!(
        (status, &again),
        (StatusCode::OK, &taken),
        "a replay answers the first result"
    );

    let short = order(
        "o-2",
        &[line("prod-003", json!(5)), line("prod-001", json!(10))],
    );
    let (status, refused) = post(&http, &url, &short).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["error"], "Insufficient stock");
    let detail =
        json!({"productId": "prod-001", "name": "Laptop", "requested": 10, "available": 9});
    assert_eq!(refused["details"], json!([detail]));
    let unknown = order(
        "o-3",
        &[line("prod-003", json!(1)), line("prod-404", json!(1))],
    );
    let (status, refused) = post(&http, &url, &unknown).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["details"][0]["message"], "Product not found");

    let (_, list) = get(&http, &app.url("/api/inventory")).await;
    let quantities: Vec<_> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["quantity"].clone())
        .collect();
    assert_eq!(
        quantities,
        [json!(9), json!(13), json!(20)],
        "taken once, nothing taken when short"
    );
}

#[tokio::test]
async fn two_orders_racing_for_the_last_unit_one_wins() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let url = app.url("/api/inventory/update");
    let (status, _) = post(&http, &url, &order("first", &[line("prod-001", json!(9))])).await;
    assert_eq!(status, StatusCode::OK);
    let racers = ["a", "b"].map(|id| {
        let (http, url) = (http.clone(), url.clone());
        tokio::spawn(
            async move { post(&http, &url, &order(id, &[line("prod-001", json!(1))])).await },
        )
    });
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.expect("joins").0.as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let (_, laptop) = get(&http, &app.url("/api/inventory/prod-001")).await;
    assert_eq!(laptop["quantity"], 0);
}

#[tokio::test]
async fn only_the_latest_orders_are_remembered_for_replays() {
    let app = spawn(&Config {
        max_orders: 1,
        ..config()
    })
    .await;
    let http = reqwest::Client::new();
    let url = app.url("/api/inventory/update");
    for id in ["a", "b", "b"] {
        let (status, _) = post(&http, &url, &order(id, &[line("prod-003", json!(1))])).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, headphones) = get(&http, &app.url("/api/inventory/prod-003")).await;
    assert_eq!(headphones["quantity"], 18, "b's replay took nothing");
    // a was forgotten to keep the record bounded: the same id is a new order now.
    let (_, again) = post(&http, &url, &order("a", &[line("prod-003", json!(1))])).await;
    assert_eq!(again["updatedItems"][0]["newQuantity"], 17);
}

#[tokio::test]
async fn failing_updates_are_retried_then_refused_taking_nothing() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    set_faults(&http, &app.url(""), &json!({"update_failure_rate": 1.0})).await;
    let body = order("o-1", &[line("prod-001", json!(1))]);
    let (status, failed) = post(&http, &app.url("/api/inventory/update"), &body).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed["error"], "Failed to update inventory");
    let (_, laptop) = get(&http, &app.url("/api/inventory/prod-001")).await;
    assert_eq!(laptop["quantity"], 10);
}

#[tokio::test]
async fn bad_bodies_answer_4xx_and_change_nothing() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    let bad_lines = [
        json!([line("prod-001", json!(0))]),
        json!([line("prod-001", json!(-1))]),
        json!([line("prod-001", json!(1.5))]),
        json!([line("prod-001", json!("2"))]),
        json!([line("prod-001", Value::Null)]),
        json!([{"quantity": 1}]),
        json!([line("", json!(1))]),
        json!([line("prod-001", json!(1)), 7]),
    ];
    let per_line = json!({"error": "Product ID and quantity are required for each item"});
    let check = app.url("/api/inventory/check");
    let update = app.url("/api/inventory/update");
    let mut cases = Vec::new();
    for items in &bad_lines {
        cases.push((&check, json!({"items": items}), per_line.clone()));
        cases.push((
            &update,
            json!({"orderId": "bad", "items": items}),
            per_line.clone(),
        ));
    }
    let no_items = json!({"error": "Items array is required"});
    for body in [
        json!({}),
        json!({"items": "prod-001"}),
        json!({"items": []}),
        json!([]),
    ] {
        cases.push((&check, body, no_items.clone()));
    }
    let required = json!({"error": "Items array and order ID are required"});
    let items = json!([line("prod-001", json!(1))]);
    for body in [
        json!({"items": items}),
        json!({"orderId": "", "items": items}),
        json!({"orderId": 3, "items": items}),
        json!({"orderId": "bad"}),
        json!({"orderId": "bad", "items": []}),
        json!([]),
    ] {
        cases.push((&update, body, required.clone()));
    }
    for (url, body, error) in cases {
        let (status, answer) = post(&http, url, &body).await;
        assert_eq!(
            (status, &answer),
            (StatusCode::BAD_REQUEST, &error),
            "{url} {body}"
        );
    }
    for url in [&check, &update] {
        let raw = [
            (
                "application/json",
                r#"{"orderId":"bad","items":["#.to_owned(),
                400,
            ),
            (
                "text/plain",
                order("bad", &[line("prod-001", json!(1))]).to_string(),
                415,
            ),
            ("application/json", common::oversized(), 413),
        ];
        common::refuses_raw(&http, url, raw.into()).await;
    }
    let (_, list) = get(&http, &app.url("/api/inventory")).await;
    assert_eq!(list, seed(), "nothing changed");
    // The order id was never applied: a valid update under it now takes stock.
    let (status, taken) = post(&http, &update, &order("bad", &[line("prod-001", json!(1))])).await;
    assert_eq!(
        (status, &taken["updatedItems"][0]["newQuantity"]),
        (StatusCode::OK, &json!(9))
    );
}

#[tokio::test]
async fn down_refuses_the_api_but_not_health_or_faults() {
    let app = spawn(&config()).await;
    let http = reqwest::Client::new();
    set_faults(&http, &app.url(""), &json!({"down": true})).await;
    let down = json!({"error": "Inventory service is down"});
    let body = order("d", &[line("prod-001", json!(1))]);
    let (status, answer) = post(&http, &app.url("/api/inventory/update"), &body).await;
    assert_eq!((status, &answer), (StatusCode::SERVICE_UNAVAILABLE, &down));
    let (status, answer) = get(&http, &app.url("/api/inventory")).await;
    assert_eq!((status, &answer), (StatusCode::SERVICE_UNAVAILABLE, &down));
    let (status, health) = get(&http, &app.url("/health")).await;
    assert_eq!(
        (status, &health["status"]),
        (StatusCode::OK, &json!("DOWN"))
    );
    assert_eq!(health["service"], "inventory-service");
    set_faults(&http, &app.url(""), &json!({"down": false})).await;
    let (_, list) = get(&http, &app.url("/api/inventory")).await;
    assert_eq!(list, seed(), "nothing was taken");
}
