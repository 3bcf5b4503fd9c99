//! The gateway's proxy, rate limit, time limit and health, against the real services.

mod gateway_support;

use reqwest::StatusCode;
use serde_json::json;
use service_kit::Loader;
use shop::common::RATE_LIMIT_MESSAGE;
use shop::gateway;

use gateway_support::{
    DEADLINE, Shop, answer, client_from, get, join_all, oversized, post, post_raw,
};

#[tokio::test]
async fn every_service_answers_through_the_gateway_with_its_own_status_and_body() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let http = &shop.http;

    let (status, headers, list) = get(http, &gw.url("/api/inventory?sort=none")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let (_, _, direct) = get(http, &shop.inventory.url("/api/inventory")).await;
    assert_eq!(list, direct);
    assert_eq!(headers["x-ratelimit-limit"], "100");
    assert!(headers.contains_key("x-ratelimit-remaining"));
    assert!(headers.contains_key("x-ratelimit-reset"));

    let payment = json!({"orderId": "proxy-1", "amount": 12.5});
    let (status, _, body) = post(http, &gw.url("/api/payments"), &payment).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["orderId"], "proxy-1");
    let (status, _, body) = get(http, &gw.url("/api/payments/proxy-1")).await;
    assert_eq!((status, &body["amount"]), (StatusCode::OK, &json!(12.5)));

    let (status, _, body) = get(http, &gw.url("/api/payments/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "Payment not found"}));
    let (status, _, body) = get(http, &gw.url("/api/shipping/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "Shipment not found");

    let (status, headers, body) = get(http, &gw.url("/health")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!headers.contains_key("x-ratelimit-limit"));
}

#[tokio::test]
async fn a_bad_body_is_refused_and_nothing_is_forwarded() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let http = &shop.http;
    let url = gw.url("/api/payments");

    let (status, _, body) = post_raw(http, &url, "application/json", "{\"orderId\": ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "malformed JSON body");
    let (status, _, body) = post_raw(http, &url, "text/plain", "orderId=bad-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "malformed JSON body");
    let big = oversized().replace("\"pad\"", "\"orderId\":\"big-1\",\"amount\":1,\"pad\"");
    let (status, _, body) = post_raw(http, &url, "application/json", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["error"].is_string(), "{body}");

    // The service refuses what it finds wrong itself; the gateway passes that on.
    let wrong = json!({"orderId": "neg-1", "amount": -5});
    let (status, _, body) = post(http, &url, &wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "Order ID and amount are required");

    for order in ["bad-1", "big-1", "neg-1"] {
        assert_eq!(shop.payment_of(order).await, None, "{order} was charged");
    }
}

#[tokio::test]
async fn a_slow_service_answers_504() {
    let shop = Shop::start().await;
    shop.faults(&shop.inventory, json!({"delay_ms": 3000}))
        .await;
    let gw = shop.gateway("gw-a", &[]).await;
    // Inventory's own 2 s limit on the list answers first, and is passed through.
    let (status, _, body) = get(&shop.http, &gw.url("/api/inventory")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(body, json!({"error": "Inventory service timed out"}));

    // A 5xx counts as a failure: one call, more than half of the window, opens the circuit.
    shop.wait_breaker("inventory-service", "open").await;

    // A gateway with a shorter limit than the service's answers with its own words (its
    // breakers under another prefix, so that the open circuit above is not theirs).
    let impatient = [
        ("SERVICE_TIMEOUT", "500ms"),
        ("BREAKER__KEY_PREFIX", "impatient"),
    ];
    let impatient = shop.gateway("gw-b", &impatient).await;
    let (status, _, body) = get(&shop.http, &impatient.url("/api/inventory")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        json!({"error": "Inventory service error", "message": "Service request timed out"})
    );
    let state: Option<String> = shop
        .redis(
            redis::cmd("HGET")
                .arg("impatient:{inventory-service}")
                .arg("state"),
        )
        .await;
    assert_eq!(
        state.as_deref(),
        Some("open"),
        "the time limit counts as a failure"
    );
}

#[tokio::test]
async fn a_refusal_from_a_service_never_opens_its_circuit() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    for i in 0..20 {
        let url = gw.url(&format!("/api/payments/missing-{i}"));
        let (status, _, body) = get(&shop.http, &url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let state = shop.breaker_state("payment-service").await;
    assert!(
        matches!(state.as_deref(), None | Some("closed")),
        "{state:?}"
    );
    let (_, _, health) = get(&shop.http, &gw.url("/health")).await;
    assert_eq!(health["services"][0]["breaker"], "closed", "{health}");
}

#[tokio::test]
async fn an_unreachable_service_answers_503_naming_it() {
    let shop = Shop::start().await;
    let nowhere = format!("http://127.0.0.1:{}", test_support::free_port());
    let gw = shop
        .gateway("gw-a", &[("SHIPPING_SERVICE_URL", nowhere.as_str())])
        .await;
    let (status, _, body) = get(&shop.http, &gw.url("/api/shipping/o-1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "Shipping service is currently unavailable");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (_, _, health) = get(&shop.http, &gw.url("/health")).await;
    assert_eq!(health["status"], "PARTIAL", "{health}");
    assert_eq!(health["gateway"], "UP");
    let shipping = &health["services"][2];
    assert_eq!(
        (&shipping["service"], &shipping["status"]),
        (&json!("shipping-service"), &json!("DOWN"))
    );
}

#[tokio::test]
async fn health_reports_each_service_and_its_breaker() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let (status, _, health) = get(&shop.http, &gw.url("/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "UP", "{health}");
    assert_eq!(health["gateway"], "UP");
    let names: Vec<_> = health["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            (
                s["service"].clone(),
                s["status"].clone(),
                s["breaker"].clone(),
            )
        })
        .collect();
    assert_eq!(
        names,
        ["payment-service", "inventory-service", "shipping-service"].map(|n| (
            json!(n),
            json!("UP"),
            json!("closed")
        ))
    );

    shop.faults(&shop.payment, json!({"down": true})).await;
    let (_, _, health) = get(&shop.http, &gw.url("/health")).await;
    assert_eq!(health["status"], "PARTIAL", "{health}");
    assert_eq!(health["services"][0]["status"], "DOWN");
}

#[tokio::test]
async fn fifteen_shipments_from_one_client_get_ten_through_and_the_next_client_its_own() {
    let shop = Shop::start().await;
    let gw = shop.gateway("gw-a", &[]).await;
    let one = client_from("127.0.0.1");
    let shipments = (0..15).map(|i| {
        let body = json!({"orderId": format!("ship-{i}"), "address": "1 Main St", "items": [{"productId": "prod-001", "quantity": 1}]});
        let request = one.post(gw.url("/api/shipping")).json(&body);
        async move { answer(request.send().await).await }
    });
    let answers = join_all(shipments).await;
    let count = |status| answers.iter().filter(|(s, _, _)| *s == status).count();
    assert_eq!(count(StatusCode::CREATED), 10, "{answers:?}");
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 5, "{answers:?}");
    let limited = answers
        .iter()
        .find(|(s, _, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .expect("a 429");
    assert_eq!(limited.2["error"], RATE_LIMIT_MESSAGE);

    let two = client_from("127.0.0.2");
    let body = json!({"orderId": "ship-other", "address": "2 Main St", "items": [{"productId": "prod-001", "quantity": 1}]});
    let (status, _, body) =
        answer(two.post(gw.url("/api/shipping")).json(&body).send().await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn each_client_ip_has_one_budget_across_the_replicas() {
    let shop = Shop::start().await;
    let limit = [("RATE_LIMIT_PER_MINUTE", "3")];
    let (a, b) = (
        shop.gateway("gw-a", &limit).await,
        shop.gateway("gw-b", &limit).await,
    );
    let one = client_from("127.0.0.1");
    for gw in [&a, &b, &a] {
        let (status, headers, _) = get(&one, &gw.url("/api/inventory/prod-001")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-ratelimit-limit"], "3");
    }
    let (status, headers, body) = get(&one, &b.url("/api/inventory/prod-001")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], RATE_LIMIT_MESSAGE);
    assert!(
        body["retry_after_ms"].as_u64().is_some_and(|ms| ms > 0),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    assert_eq!(headers["x-ratelimit-remaining"], "0");

    let (status, _, _) = get(&one, &b.url("/health")).await;
    assert_eq!(status, StatusCode::OK);
    let two = client_from("127.0.0.2");
    let (status, _, _) = get(&two, &b.url("/api/inventory/prod-001")).await;
    assert_eq!(status, StatusCode::OK);
    let key: bool = shop
        .redis(redis::cmd("EXISTS").arg("rate-limit:{gateway:127.0.0.1}"))
        .await;
    assert!(key, "the budget lives in Redis");
}

#[tokio::test]
async fn a_bad_setting_stops_the_gateway_naming_its_variable() {
    for (variable, value) in [
        ("PAYMENT_SERVICE_URL", "ftp://payment"),
        ("INVENTORY_SERVICE_URL", "inventory:3002"),
        ("SERVICE_TIMEOUT", "0s"),
        ("BREAKER__MAX_REQUESTS", "0"),
        ("RATE_LIMIT_PER_MINUTE", "0"),
        ("TRUSTED_PROXIES", "10.0.0.0/40"),
        ("IDEMPOTENCY_TTL", "0s"),
    ] {
        let loaded =
            Loader::from_vars([(variable, value)]).and_then(|l| l.load::<gateway::Config>());
        let error = match loaded {
            Err(e) => e,
            Ok(config) => {
                let server = service_kit::ServerConfig::new("api-gateway", 0);
                gateway::router(&config, &server).await.expect_err(variable)
            }
        };
        assert!(error.to_string().contains(variable), "{variable}: {error}");
    }
}

#[tokio::test]
async fn the_binary_serves_the_gateway_and_refuses_a_bad_setting() {
    let shop = Shop::start().await;
    let (redis, payment) = (shop.redis.url(), shop.payment.url(""));
    let (inventory, shipping) = (shop.inventory.url(""), shop.shipping.url(""));
    let env = [
        ("REDIS_URL", redis.as_str()),
        ("PAYMENT_SERVICE_URL", payment.as_str()),
        ("INVENTORY_SERVICE_URL", inventory.as_str()),
        ("SHIPPING_SERVICE_URL", shipping.as_str()),
    ];
    let child = binary(&env);
    let line = child
        .wait_for_line_async("listening on ", DEADLINE)
        .await
        .expect("listening");
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address");
    let (status, _, health) = get(&shop.http, &format!("http://{addr}/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "UP", "{health}");
    assert_eq!(health["service"], "api-gateway");

    let refused = binary(&[("SHIPPING_SERVICE_URL", "shipping:3003")]);
    let exit = refused.wait_exit(DEADLINE).expect("exits");
    assert!(!exit.success(), "{}", refused.output());
    assert!(
        refused.output().contains("SHIPPING_SERVICE_URL"),
        "{}",
        refused.output()
    );
}

/// `shop gateway` with only `env`, on a free port of 127.0.0.1.
fn binary(env: &[(&str, &str)]) -> test_support::ChildProcess {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shop"));
    command
        .arg("gateway")
        .env_clear()
        .envs([("PORT", "0"), ("BIND_ADDR", "127.0.0.1")])
        .envs(env.iter().copied());
    test_support::ChildProcess::spawn(command, "gateway").expect("the binary starts")
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budgets() {
    let shop = Shop::start().await;
    let vars = [
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("RATE_LIMIT_PER_MINUTE", "12"),
    ];
    let gw = shop.gateway("gw-a", &vars).await;
    let ship = |client: &'static str, i: usize| {
        let body =
            json!({"orderId": format!("{client}-{i}"), "address": "1 Main St", "items": [1]});
        let request = shop
            .http
            .post(gw.url("/api/shipping"))
            .header("x-forwarded-for", client);
        async move { answer(request.json(&body).send().await).await }
    };
    // Shipping's 10 a minute, counted for the client the gateway names.
    for i in 0..10 {
        let (status, _, body) = ship("203.0.113.1", i).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, headers, _) = ship("203.0.113.1", 10).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "shipping's limit");
    assert_eq!(
        headers["x-ratelimit-remaining"], "1",
        "the gateway's own count"
    );
    let (status, _, _) = ship("203.0.113.1", 11).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, body) = ship("203.0.113.1", 12).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], RATE_LIMIT_MESSAGE, "the gateway's 429");

    let (status, _, body) = ship("203.0.113.2", 0).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let keys = [
            format!("rate-limit:{{gateway:{ip}}}"),
            format!("rate-limit:{{shipping:{ip}}}"),
        ];
        for key in keys {
            let exists: bool = shop.redis(redis::cmd("EXISTS").arg(&key)).await;
            assert!(exists, "{key}");
        }
    }
}
