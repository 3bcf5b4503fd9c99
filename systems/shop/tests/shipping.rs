//! The shipping-service: its routes, shipping once per order, the provider's fallback, bad
//! input, the rate limit per client (behind trusted proxies only), `down`, and the binary.

mod common;

use std::net::IpAddr;

use common::{answer, get, post, post_raw, set_faults};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use service_kit::Spawned;
use service_kit::faults::FaultsConfig;
use shop::common::time::{date, now_ms};
use shop::common::{RATE_LIMIT_MESSAGE, TrustedProxies};
use shop::shipping::{self, Config, VALID_STATUSES};
use test_support::RedisServer;

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

    /// Defaults, with this Redis, a provider that always answers at once and a rate limit
    /// the tests that are not about it stay under.
    fn config(&self) -> Config {
        Config {
            redis_url: self.redis.url(),
            rate_limit_per_minute: 1000,
            faults: FaultsConfig {
                failure_rate: Some(0.0),
                delay_ms: Some(0),
                ..FaultsConfig::default()
            },
            ..Config::default()
        }
    }

    async fn spawn(&self, config: &Config) -> Spawned {
        let server = common::server("shipping-service", "shipping-test");
        let router = shipping::router(config, &server)
            .await
            .expect("valid config");
        service_kit::spawn(router).await.expect("serves")
    }
}

fn shipment(id: &str) -> Value {
    json!({"orderId": id, "address": "1 Main St", "items": [{"productId": "prod-001", "quantity": 1}]})
}

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
    for (content_type, body, expected) in raw {
        let (status, answer) = post_raw(&env.http, &url, content_type, body).await;
        assert_eq!(status.as_u16(), expected, "{answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, _) = get(&env.http, &app.url("/api/shipping/bad")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");
}

fn header(headers: &HeaderMap, name: &str) -> u64 {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a numeric {name} in {headers:?}"))
}

#[tokio::test]
async fn fifteen_concurrent_requests_from_one_client_give_ten_shipments() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping");
    let requests = (0..15).map(|n| {
        let request = env.http.post(&url).json(&shipment(&format!("o-{n}")));
        tokio::spawn(async move { answer(request.send().await).await })
    });
    let (mut created, mut limited) = (0, 0);
    for request in requests {
        let (status, headers, body) = request.await.expect("joins");
        assert_eq!(header(&headers, "x-ratelimit-limit"), 10);
        assert!(header(&headers, "x-ratelimit-remaining") < 10);
        assert!(header(&headers, "x-ratelimit-reset") > now_ms() / 1000 - 1);
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert_eq!(body["error"], RATE_LIMIT_MESSAGE);
                assert!(body["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0));
                assert!(header(&headers, "retry-after") >= 1);
                assert_eq!(header(&headers, "x-ratelimit-remaining"), 0);
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((created, limited), (10, 5));
}

/// Sends `n` `GET`s as `http` with `X-Forwarded-For: forwarded`; the statuses.
async fn statuses(http: &reqwest::Client, url: &str, forwarded: &str, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        let request = http.get(url).header("x-forwarded-for", forwarded);
        statuses.push(request.send().await.expect("request").status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_have_their_own_budgets() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping/none");
    let first = statuses(&env.http, &url, "203.0.113.1", 11).await;
    assert_eq!(first[..10], [404; 10]);
    assert_eq!(first[10], 429);
    let second = statuses(&env.http, &url, "198.51.100.7, 203.0.113.2", 10).await;
    assert_eq!(second, [404; 10], "the last address is the client");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_name_its_client() {
    let env = Env::start();
    let config = Config {
        rate_limit_per_minute: 10,
        trusted_proxies: "127.0.0.1".parse::<TrustedProxies>().expect("valid"),
        ..env.config()
    };
    let app = env.spawn(&config).await;
    let url = app.url("/api/shipping/none");
    let untrusted = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let mut seen = Vec::new();
    for n in 0..11 {
        seen.extend(statuses(&untrusted, &url, &format!("203.0.113.{n}"), 1).await);
    }
    assert_eq!(seen[..10], [404; 10]);
    assert_eq!(seen[10], 429, "every request counted against 127.0.0.2");
    let trusted = statuses(&env.http, &url, "203.0.113.50", 1).await;
    assert_eq!(trusted, [404]);
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
