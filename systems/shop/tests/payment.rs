//! The payment-service: its routes, idempotency, the processor's breaker and fallback, bad
//! input, the store's cap, `down`, and the binary's start-up.

mod common;

use std::time::Duration;

use common::{DEADLINE, answer, get, post, set_faults};
use reqwest::StatusCode;
use serde_json::{Value, json};
use service_kit::Spawned;
use service_kit::faults::FaultsConfig;
use shop::common::Overrides;
use shop::payment::{self, Config};
use test_support::{RedisServer, wait_until};

struct Env {
    redis: RedisServer,
    http: reqwest::Client,
}

impl Env {
    fn start() -> Self {
        Self {
            redis: RedisServer::start().expect("redis-server starts"),
            http: reqwest::Client::new(),
        }
    }

    /// Defaults, with this Redis and a processor that always answers at once.
    fn config(&self) -> Config {
        Config {
            redis_url: self.redis.url(),
            faults: FaultsConfig {
                failure_rate: Some(0.0),
                delay_ms: Some(0),
                ..FaultsConfig::default()
            },
            ..Config::default()
        }
    }

    async fn spawn(&self, config: &Config) -> Spawned {
        let server = common::server("payment-service", "payment-test");
        let router = payment::router(config, &server)
            .await
            .expect("valid config");
        service_kit::spawn(router).await.expect("serves")
    }
}

fn order(id: &str, amount: Value) -> Value {
    json!({"orderId": id, "amount": amount})
}

#[tokio::test]
async fn a_payment_is_created_once_and_found() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/payments");
    let body = json!({"orderId": "o-1", "amount": 2800, "currency": "EUR", "method": "paypal"});
    let (status, created) = post(&env.http, &url, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["orderId"], "o-1");
    assert_eq!(created["amount"], json!(2800));
    assert_eq!(created["currency"], "EUR");
    assert_eq!(created["method"], "paypal");
    assert_eq!(created["status"], "success");
    let txn = created["transactionId"].as_str().expect("a transaction id");
    assert!(txn.starts_with("txn_"), "{txn}");
    let stamp = created["timestamp"].as_str().expect("a timestamp");
    assert!(stamp.ends_with('Z') && stamp.len() == 24, "{stamp}");

    let (status, found) = get(&env.http, &app.url("/api/payments/o-1")).await;
    assert_eq!((status, &found), (StatusCode::OK, &created));
    let (status, again) = post(&env.http, &url, &body).await;
    assert_eq!((status, &again), (StatusCode::OK, &created));
    let (status, missing) = get(&env.http, &app.url("/api/payments/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing, json!({"error": "Payment not found"}));

    let (status, defaults) = post(&env.http, &url, &order("o-2", json!(9.5))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(defaults["currency"], "USD");
    assert_eq!(defaults["method"], "credit_card");
    assert_eq!(defaults["amount"], json!(9.5));
}

#[tokio::test]
async fn an_order_id_reused_for_another_payment_is_refused() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/payments");
    let (status, first) = post(&env.http, &url, &order("o-1", json!(100))).await;
    assert_eq!(status, StatusCode::CREATED);
    let other_currency = json!({"orderId": "o-1", "amount": 100, "currency": "EUR"});
    for body in [order("o-1", json!(101)), other_currency] {
        let (status, refused) = post(&env.http, &url, &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let error = json!({"error": "Order ID already used for a different payment"});
        assert_eq!(refused, error);
    }
    let (_, found) = get(&env.http, &app.url("/api/payments/o-1")).await;
    assert_eq!(found, first);
}

#[tokio::test]
async fn concurrent_requests_for_one_order_charge_once() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    // Slow enough that every request arrives while the charge is in progress.
    set_faults(&env.http, &app.url(""), &json!({"delay_ms": 300})).await;
    let url = app.url("/api/payments");
    let requests = (0..10).map(|_| {
        let (http, url) = (env.http.clone(), url.clone());
        tokio::spawn(async move { post(&http, &url, &order("same", json!(42))).await })
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
    assert_eq!(answers[0].1["status"], "success");
}

#[tokio::test]
async fn a_failing_processor_gives_a_pending_payment_until_the_circuit_closes() {
    let env = Env::start();
    let config = Config {
        breaker: Overrides::from_pairs([("timeout", "1s")]),
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/payments");
    set_faults(&env.http, &app.url(""), &json!({"failure_rate": 1.0})).await;
    let (status, failed) = post(&env.http, &url, &order("o-1", json!(10))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(failed["status"], "pending");
    let txn = failed["transactionId"].as_str().expect("an id");
    assert!(txn.starts_with("fallback_"), "{txn}");

    // One failure in one call is over half: the circuit is open, and the processor, healthy
    // again, is not called until the open period ends.
    set_faults(&env.http, &app.url(""), &json!({"failure_rate": 0.0})).await;
    let (status, rejected) = post(&env.http, &url, &order("o-2", json!(10))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(rejected["status"], "pending");
    let mut redis = env.redis.client().get_connection().expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("breaker:{payment-gateway}*")
        .query(&mut redis)
        .expect("KEYS");
    assert!(!keys.is_empty(), "the circuit lives in Redis");

    let mut n = 3;
    wait_until(DEADLINE, "the circuit closes", || {
        n += 1;
        let (http, url) = (env.http.clone(), url.clone());
        async move {
            let (_, body) = post(&http, &url, &order(&format!("o-{n}"), json!(10))).await;
            body["status"] == "success"
        }
    })
    .await
    .expect("closed after the open period");
}

#[tokio::test]
async fn payments_go_on_while_redis_is_down() {
    let mut env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/payments");
    let (status, _) = post(&env.http, &url, &order("before", json!(5))).await;
    assert_eq!(status, StatusCode::CREATED);
    env.redis.kill();
    for n in 0..5 {
        // The breaker protects locally: a payment, never a 500.
        let (status, body) = post(&env.http, &url, &order(&format!("o-{n}"), json!(5))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "success");
    }
    env.redis.restart().expect("redis restarts");
    let (status, _) = post(&env.http, &url, &order("after", json!(5))).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_slow_processor_times_out_into_a_pending_payment() {
    let env = Env::start();
    let config = Config {
        processor_timeout: Duration::from_millis(100),
        ..env.config()
    };
    let app = env.spawn(&config).await;
    set_faults(&env.http, &app.url(""), &json!({"delay_ms": 5000})).await;
    let (status, body) = post(&env.http, &app.url("/api/payments"), &order("o", json!(1))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["status"], "pending");
}

#[tokio::test]
async fn bad_bodies_answer_4xx_and_store_nothing() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let url = app.url("/api/payments");
    let required = json!({"error": "Order ID and amount are required"});
    let strings = json!({"error": "Currency and method must be non-empty strings"});
    let cases = [
        (json!({"amount": 10}), &required),
        (json!({"orderId": "", "amount": 10}), &required),
        (json!({"orderId": 7, "amount": 10}), &required),
        (json!({"orderId": "bad"}), &required),
        (order("bad", json!("10")), &required),
        (order("bad", json!(-5)), &required),
        (order("bad", json!(0)), &required),
        (order("bad", Value::Null), &required),
        (json!(["bad", 10]), &required),
        (
            json!({"orderId": "bad", "amount": 1, "currency": 5}),
            &strings,
        ),
        (
            json!({"orderId": "bad", "amount": 1, "method": ""}),
            &strings,
        ),
        (
            json!({"orderId": "bad", "amount": 1, "method": {}}),
            &strings,
        ),
    ];
    for (body, error) in cases {
        let (status, answer) = post(&env.http, &url, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(&answer, error, "{body}");
    }
    let raw = [
        (
            "application/json",
            r#"{"orderId":"bad","amount":"#.to_owned(),
            400,
        ),
        (
            "text/plain",
            r#"{"orderId":"bad","amount":1}"#.to_owned(),
            415,
        ),
        ("application/json", common::oversized(), 413),
    ];
    common::refuses_raw(&env.http, &url, raw.into()).await;
    let (status, _) = get(&env.http, &app.url("/api/payments/bad")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
}

#[tokio::test]
async fn the_oldest_payments_are_forgotten() {
    let env = Env::start();
    let config = Config {
        max_payments: 2,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    for id in ["a", "b", "c"] {
        let (status, _) = post(&env.http, &app.url("/api/payments"), &order(id, json!(1))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    for (id, expected) in [
        ("a", StatusCode::NOT_FOUND),
        ("b", StatusCode::OK),
        ("c", StatusCode::OK),
    ] {
        let (status, _) = get(&env.http, &app.url(&format!("/api/payments/{id}"))).await;
        assert_eq!(status, expected, "{id}");
    }
}

#[tokio::test]
async fn down_refuses_the_api_but_not_health_or_faults() {
    let env = Env::start();
    let app = env.spawn(&env.config()).await;
    let (status, health) = get(&env.http, &app.url("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "UP");
    assert_eq!(health["service"], "payment-service");

    set_faults(&env.http, &app.url(""), &json!({"down": true})).await;
    let down = json!({"error": "Payment service is down"});
    let (status, body) = post(&env.http, &app.url("/api/payments"), &order("d", json!(1))).await;
    assert_eq!((status, &body), (StatusCode::SERVICE_UNAVAILABLE, &down));
    let (status, body) = get(&env.http, &app.url("/api/payments/d")).await;
    assert_eq!((status, &body), (StatusCode::SERVICE_UNAVAILABLE, &down));
    let (status, health) = get(&env.http, &app.url("/health")).await;
    assert_eq!(
        (status, &health["status"]),
        (StatusCode::OK, &json!("DOWN"))
    );

    let reset = answer(env.http.delete(app.url("/faults")).send().await).await;
    assert_eq!(reset.0, StatusCode::OK);
    let defaults = json!({"failure_rate": 0.0, "delay_ms": 0, "down": false});
    assert_eq!(reset.2, defaults, "back to the start-up settings");
    let (status, _) = get(&env.http, &app.url("/api/payments/d")).await;
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
    common::refuses_to_start(
        "payment",
        &with("PROCESSOR_TIMEOUT", "soon"),
        "PROCESSOR_TIMEOUT",
    );
    common::refuses_to_start(
        "payment",
        &with("PROCESSOR_TIMEOUT", "0s"),
        "PROCESSOR_TIMEOUT",
    );
    common::refuses_to_start(
        "payment",
        &with("BREAKER__TIMEOUT", "never"),
        "BREAKER__TIMEOUT",
    );
    common::refuses_to_start(
        "payment",
        &with("BREAKER__MAX_REQUESTS", "0"),
        "BREAKER__MAX_REQUESTS",
    );
    common::refuses_to_start(
        "payment",
        &with("FAULTS__FAILURE_RATE", "2"),
        "FAULTS__FAILURE_RATE",
    );
    common::refuses_to_start("payment", &with("MAX_PAYMENTS", "0"), "MAX_PAYMENTS");

    let child = common::binary("payment", &with("FAULTS__FAILURE_RATE", "0"));
    let base = common::listening(&child).await;
    let http = reqwest::Client::new();
    let (status, body) = get(&http, &format!("{base}/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "UP");
    let (_, faults) = get(&http, &format!("{base}/faults")).await;
    assert_eq!(
        faults,
        json!({"failure_rate": 0.0, "delay_ms": 500, "down": false})
    );
}
