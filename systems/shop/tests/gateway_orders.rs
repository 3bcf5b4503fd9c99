//! `POST /api/orders` against the real services: the amount, stock taken once, idempotency,
//! the race for the last unit, bad input changing nothing.

mod gateway_support;

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::wait_until;

use gateway_support::{
    DEADLINE, Shop, example_order, join_all, order_of, oversized, post, post_keyed, post_raw,
};

const UNAVAILABLE: &str = "Some items are not available in the requested quantity";
const REQUIRED: &str = "Items, payment, and shipping address are required";

#[tokio::test]
async fn a_full_order_is_created_once_and_its_replay_applies_nothing_again() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let (laptops, phones) = (shop.stock("prod-001").await, shop.stock("prod-002").await);
    let url = gw.url("/api/orders");

    let (status, _, first) = post_keyed(&shop.http, &url, "order-key-1", &example_order()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["amount"], 2800);
    assert_eq!(first["status"], "CREATED");
    assert_eq!(first["items"], example_order()["items"]);
    assert!(first["timestamp"].is_string());
    assert_eq!(first["payment"]["status"], "success");
    assert_eq!(first["shipping"]["status"], "PROCESSING");
    let order_id = first["orderId"].as_str().expect("an orderId").to_owned();
    let ms = order_id.strip_prefix("order-").expect("order-<ms>");
    assert!(ms.parse::<u64>().is_ok(), "{order_id}");
    assert_eq!(shop.stock("prod-001").await, laptops - 1);
    assert_eq!(shop.stock("prod-002").await, phones - 2);
    let payment = shop.payment_of(&order_id).await.expect("charged");
    assert_eq!(payment["amount"], 2800);
    assert_eq!(payment["transactionId"], first["payment"]["transactionId"]);

    let (status, _, replay) = post_keyed(&shop.http, &url, "order-key-1", &example_order()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay, first);
    assert_eq!(shop.stock("prod-001").await, laptops - 1);
    assert_eq!(shop.stock("prod-002").await, phones - 2);
    let payment_now = shop.payment_of(&order_id).await.expect("charged");
    assert_eq!(payment_now, payment);

    let (status, _, body) =
        post_keyed(&shop.http, &url, "order-key-1", &order_of("prod-003", 1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(shop.stock("prod-003").await, 20);

    let stored: Option<String> = shop
        .redis(redis::cmd("GET").arg("shop:idempotency:{order-key-1}"))
        .await;
    assert!(
        stored.is_some_and(|r| r.contains(&order_id)),
        "the record is shared in Redis"
    );
}

#[tokio::test]
async fn a_repeat_while_the_first_runs_is_refused_with_409() {
    let shop = Shop::start().await;
    // A slow processor keeps the first order running while the repeat arrives.
    shop.faults(&shop.payment, json!({"delay_ms": 2000})).await;
    let gw = shop.gateway("gw-a", &[]).await;
    let (http, url) = (shop.http.clone(), gw.url("/api/orders"));
    let first =
        tokio::spawn(async move { post_keyed(&http, &url, "slow-key", &example_order()).await });
    wait_until(DEADLINE, "the first order to be claimed", || async {
        let record: Option<String> = shop
            .redis(redis::cmd("GET").arg("shop:idempotency:{slow-key}"))
            .await;
        record.is_some_and(|r| r.contains("\"pending\""))
    })
    .await
    .expect("claimed");
    let url = gw.url("/api/orders");
    let (status, _, body) = post_keyed(&shop.http, &url, "slow-key", &example_order()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"error": "A request with this Idempotency-Key is already in progress"})
    );
    let (status, _, body) = first.await.expect("the first order");
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn bad_orders_are_refused_and_change_nothing() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let url = gw.url("/api/orders");
    let stock = shop.stock("prod-001").await;
    let valid = order_of("prod-001", 1);
    let mut cases: Vec<(Value, &str)> = Vec::new();
    for field in ["items", "payment", "shippingAddress"] {
        let mut body = valid.clone();
        body.as_object_mut().expect("object").remove(field);
        cases.push((body, REQUIRED));
    }
    for (field, wrong) in [
        ("items", json!("prod-001")),
        ("payment", json!(12)),
        ("items", json!([])),
    ] {
        let mut body = valid.clone();
        body[field] = wrong;
        cases.push((body, REQUIRED));
    }
    for item in [
        json!({"productId": "prod-001", "quantity": -1}),
        json!({"productId": "prod-001", "quantity": "1"}),
        json!({"productId": "prod-001"}),
        json!({"quantity": 1}),
    ] {
        let mut body = valid.clone();
        body["items"] = json!([item]);
        cases.push((body, "Product ID and quantity are required for each item"));
    }
    for (body, error) in cases {
        let (status, _, answer) = post(&shop.http, &url, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"], error, "{body}");
    }
    let (status, _, answer) = post_raw(&shop.http, &url, "application/json", "{\"items\": [").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "malformed JSON body");
    let (status, _, answer) = post_raw(&shop.http, &url, "application/json", oversized()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer["error"].is_string());
    let (status, _, answer) = shop_key(&shop, &url, "bad key").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    assert_eq!(shop.stock("prod-001").await, stock);
    let payments: Vec<String> = shop
        .redis(redis::cmd("KEYS").arg("shop:idempotency:*"))
        .await;
    assert!(payments.is_empty(), "{payments:?}");
    let ids: Option<String> = shop
        .redis(redis::cmd("GET").arg("shop:{gateway}:order-id"))
        .await;
    assert_eq!(ids, None, "no order was started");
}

async fn shop_key(
    shop: &Shop,
    url: &str,
    key: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    post_keyed(&shop.http, url, key, &order_of("prod-001", 1)).await
}

#[tokio::test]
async fn two_orders_racing_for_the_last_unit_one_wins() {
    let shop = Shop::start().await;
    let (a, b) = (
        shop.gateway("gw-a", &[]).await,
        shop.gateway("gw-b", &[]).await,
    );
    let left = shop.stock("prod-003").await;
    let (status, _, body) = post(
        &shop.http,
        &a.url("/api/orders"),
        &order_of("prod-003", left - 1),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(shop.stock("prod-003").await, 1);

    let racers = [a.url("/api/orders"), b.url("/api/orders")].map(|url| {
        let http = shop.http.clone();
        async move { post(&http, &url, &order_of("prod-003", 1)).await }
    });
    let answers = join_all(racers).await;
    let won: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .collect();
    let lost: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::BAD_REQUEST)
        .collect();
    assert_eq!((won.len(), lost.len()), (1, 1), "{answers:?}");
    assert_eq!(lost[0].2["error"], UNAVAILABLE);
    assert_eq!(shop.stock("prod-003").await, 0);
}

#[tokio::test]
async fn concurrent_orders_on_two_replicas_get_distinct_ids() {
    let shop = Shop::start().await;
    let (a, b) = (
        shop.gateway("gw-a", &[]).await,
        shop.gateway("gw-b", &[]).await,
    );
    let orders = (0..6).map(|i| {
        let url = if i % 2 == 0 {
            a.url("/api/orders")
        } else {
            b.url("/api/orders")
        };
        let http = shop.http.clone();
        async move { post(&http, &url, &order_of("prod-003", 1)).await }
    });
    let answers = join_all(orders).await;
    let ids: HashSet<String> = answers
        .iter()
        .map(|(status, _, body)| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body["orderId"].as_str().expect("an id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(shop.stock("prod-003").await, 14);
}

#[tokio::test]
async fn items_out_of_stock_are_refused_with_details() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let (status, _, body) = post(
        &shop.http,
        &gw.url("/api/orders"),
        &order_of("prod-001", 1000),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], UNAVAILABLE);
    assert_eq!(body["details"][0]["productId"], "prod-001");
    let (status, _, body) =
        post(&shop.http, &gw.url("/api/orders"), &order_of("prod-404", 1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], UNAVAILABLE);
    assert_eq!(shop.stock("prod-001").await, 10);
}

#[tokio::test]
async fn a_pending_payment_does_not_fail_the_order() {
    let shop = Shop::start().await;
    shop.faults(&shop.payment, json!({"failure_rate": 1.0}))
        .await;
    let gw = shop.gateway("gw-a", &[]).await;
    let (status, _, body) = post(&shop.http, &gw.url("/api/orders"), &example_order()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["payment"]["status"], "pending");
    assert_eq!(shop.stock("prod-001").await, 9);
}

#[tokio::test]
async fn an_order_with_payment_down_answers_503_and_takes_no_stock() {
    let shop = Shop::start().await;
    shop.faults(&shop.payment, json!({"down": true})).await;
    let gw = shop.gateway("gw-a", &[("BREAKER__TIMEOUT", "1s")]).await;
    let (status, _, body) = post_keyed(
        &shop.http,
        &gw.url("/api/orders"),
        "down-key",
        &example_order(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "Payment service is currently unavailable");
    assert_eq!(shop.stock("prod-001").await, 10);

    // Tried again once payment is back (and its circuit closed), the same key creates the
    // order under the id it was given the first time.
    shop.faults(&shop.payment, json!({"down": false})).await;
    let url = gw.url("/api/orders");
    let created = std::sync::Mutex::new(None);
    wait_until(DEADLINE, "the order to go through", || async {
        let (status, _, body) = post_keyed(&shop.http, &url, "down-key", &example_order()).await;
        assert!(
            matches!(
                status,
                StatusCode::CREATED | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{status}: {body}"
        );
        let done = status == StatusCode::CREATED;
        *created.lock().expect("lock") = Some(body);
        done
    })
    .await
    .expect("created once payment is back");
    let body = created.lock().expect("lock").take().expect("an answer");
    let order_id = body["orderId"].as_str().expect("an id");
    assert_eq!(
        shop.payment_of(order_id).await.expect("charged")["amount"],
        2800
    );
    assert_eq!(shop.stock("prod-001").await, 9);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_order_once_across_replicas() {
    let shop = Shop::start().await;
    let (a, b) = (
        shop.gateway("gw-a", &[]).await,
        shop.gateway("gw-b", &[]).await,
    );
    let requests = (0..6).map(|i| {
        let url = if i % 2 == 0 {
            a.url("/api/orders")
        } else {
            b.url("/api/orders")
        };
        let http = shop.http.clone();
        async move { post_keyed(&http, &url, "same-key", &order_of("prod-002", 1)).await }
    });
    let answers = join_all(requests).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::CREATED)
        .map(|(_, _, body)| body)
        .collect();
    for (status, _, body) in &answers {
        assert!(
            matches!(*status, StatusCode::CREATED | StatusCode::CONFLICT),
            "{status}: {body}"
        );
    }
    assert!(!created.is_empty(), "{answers:?}");
    assert!(
        created.iter().all(|body| *body == created[0]),
        "one order, replayed"
    );
    assert_eq!(shop.stock("prod-002").await, 14);
}
