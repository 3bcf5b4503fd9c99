//! The real gateway over real instances, discovery server and Redis: bodies, failover when an
//! instance is killed, the fallback and the shared open circuit when all are, recovery, and
//! `/health`'s shape.

mod common;

use common::{DEADLINE, Process, get, instance, server, wait_for_ports};
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::{RedisServer, free_port, wait_until};

const LIVE: &str = "service-discovery + circuit-breaker";

/// The discovery server, three user and three order instances (1 s heartbeats), and two
/// gateway replicas sharing the breakers, `user-service` open for `open_for`.
struct Stack {
    redis: RedisServer,
    server: Process,
    users: Vec<Process>,
    orders: Vec<Process>,
    gateways: [Process; 2],
}

async fn stack(open_for: &str) -> Stack {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let http = reqwest::Client::new();
    let mut users = Vec::new();
    let mut orders = Vec::new();
    for _ in 0..3 {
        users.push(instance("user", free_port(), &server, "1", &[]).await);
        orders.push(instance("order", free_port(), &server, "1", &[]).await);
    }
    let user_ports: Vec<u16> = users.iter().map(|p| p.port).collect();
    let order_ports: Vec<u16> = orders.iter().map(|p| p.port).collect();
    wait_for_ports(&http, &server, "user-service", &user_ports).await;
    wait_for_ports(&http, &server, "order-service", &order_ports).await;
    let url = redis.url();
    let env = [
        ("REDIS_URL", url.as_str()),
        ("USER_BREAKER__TIMEOUT", open_for),
    ];
    let gateways = [
        instance("gateway", free_port(), &server, "1", &env).await,
        instance("gateway", free_port(), &server, "1", &env).await,
    ];
    Stack {
        redis,
        server,
        users,
        orders,
        gateways,
    }
}

fn names(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|u| u["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn breaker_state(http: &reqwest::Client, gateway: &Process, name: &str) -> Value {
    let (_, health) = get(http, &gateway.url("/health")).await;
    health["breakers"][name]["state"].clone()
}

#[tokio::test]
async fn the_gateway_fails_over_falls_back_opens_the_shared_circuit_and_recovers() {
    let mut stack = stack("2s").await;
    let http = reqwest::Client::new();
    let [one, two] = &stack.gateways;
    let (status, body) = get(&http, &one.url("/users-with-orders")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&body["meta"]["totalUsers"], &body["meta"]["totalOrders"]),
        (&json!(3), &json!(5))
    );
    assert_eq!(body["meta"]["source"], LIVE);

    // One instance killed: every request still answers the real users, none fails.
    stack.users[0].child.kill();
    for i in 0..30 {
        let gateway = if i % 2 == 0 { one } else { two };
        let (status, body) = get(&http, &gateway.url("/users")).await;
        assert_eq!(status, StatusCode::OK, "request {i}");
        assert_eq!(body["meta"]["source"], LIVE, "request {i}: {body}");
        assert_eq!(names(&body), ["John Doe", "Jane Smith", "Bob Johnson"]);
    }

    // All killed: the fallback from the first failure, open after the third, on both replicas.
    for user in &stack.users {
        user.child.kill();
    }
    for failure in 1..=3 {
        assert_eq!(
            breaker_state(&http, two, "user-service").await,
            "closed",
            "before failure {failure}"
        );
        let (status, body) = get(&http, &one.url("/users")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["meta"]["source"], "fallback", "{body}");
        assert_eq!(names(&body), ["Fallback User", "Default User"]);
    }
    assert_eq!(breaker_state(&http, two, "user-service").await, "open");
    let (_, body) = get(&http, &two.url("/users")).await;
    assert_eq!(body["meta"]["source"], "fallback");
    let mut conn = stack
        .redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("breaker:{user-service}*")
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(!keys.is_empty(), "the circuit lives in Redis");

    // An instance back and the open period over: real users again.
    let port = stack.users[1].port;
    stack.users[1] = instance("user", port, &stack.server, "1", &[]).await;
    wait_until(DEADLINE, "real users through the gateway", || async {
        let (_, body) = get(&http, &two.url("/users")).await;
        body["meta"]["source"] == LIVE
    })
    .await
    .expect("recovered");
    // The trial call's outcome may be recorded just after its answer went out.
    wait_until(
        DEADLINE,
        "user-service closed for the other replica",
        || async { breaker_state(&http, one, "user-service").await == "closed" },
    )
    .await
    .expect("the circuit closes for every replica");
}

#[tokio::test]
async fn health_has_every_contract_field_with_its_type() {
    let stack = stack("30s").await;
    let http = reqwest::Client::new();
    let gateway = &stack.gateways[0];
    get(&http, &gateway.url("/users")).await;
    get(&http, &gateway.url("/orders/user/2")).await;
    let response = http
        .get(gateway.url("/health"))
        .header("Origin", "http://elsewhere")
        .send()
        .await
        .expect("health");
    assert!(
        response
            .headers()
            .contains_key("access-control-allow-origin"),
        "CORS"
    );
    let health: Value = response.json().await.expect("json");
    assert_eq!(health["service"], "api-gateway");
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["port"], gateway.port);
    assert!(
        health["instance"].is_string() && health["timestamp"].is_string(),
        "{health}"
    );
    assert_eq!(
        health["serviceDiscovery"],
        json!({"status": "healthy", "server": "connected"})
    );
    for service in ["user-service", "order-service"] {
        let cache = &health["cache"][service];
        assert_eq!(cache["servicesCount"], 3, "{health}");
        assert!(
            cache["cachedAt"].is_string() && cache["expiresAt"].is_string(),
            "{cache}"
        );
        assert!(
            cache["isValid"].is_boolean() && cache["timeToExpiry"].is_u64(),
            "{cache}"
        );
        let breaker = &health["breakers"][service];
        assert_eq!(breaker["state"], "closed");
        assert!(
            breaker["generation"].is_u64() && breaker["retryAfterMs"].is_u64(),
            "{breaker}"
        );
    }
    let (status, body) = get(&http, &gateway.url("/orders/user/abc")).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid user ID"}))
    );
    let (_, orders) = get(&http, &gateway.url("/orders/user/3")).await;
    assert_eq!(
        (&orders["meta"]["userId"], &orders["meta"]["source"]),
        (&json!(3), &json!(LIVE))
    );
    drop(stack.server);
    let (_, health) = get(&http, &gateway.url("/health")).await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["serviceDiscovery"]["server"], "disconnected");
    assert!(health["serviceDiscovery"]["error"].is_string());
    let (_, users) = get(&http, &gateway.url("/users")).await;
    assert_eq!(
        users["meta"]["source"], LIVE,
        "the stale cache still finds the instances"
    );
}

#[tokio::test]
async fn orders_fall_back_per_user_and_open_their_own_circuit() {
    let stack = stack("30s").await;
    let http = reqwest::Client::new();
    let gateway = &stack.gateways[0];
    for order in &stack.orders {
        order.child.kill();
    }
    let (_, orders) = get(&http, &gateway.url("/orders/user/2")).await;
    assert_eq!(orders["meta"]["source"], "fallback", "{orders}");
    assert_eq!(
        orders["orders"],
        json!([{"id": 2, "userId": 2, "products": ["Fallback Product"]}])
    );
    let (_, combined) = get(&http, &gateway.url("/users-with-orders")).await;
    assert_eq!(combined["meta"]["source"], "fallback", "{combined}");
    assert_eq!(combined["meta"]["totalUsers"], 3, "the users are real");
    assert_eq!(combined["users"][0]["name"], "John Doe");
    assert_eq!(breaker_state(&http, gateway, "order-service").await, "open");
    assert_eq!(
        breaker_state(&http, gateway, "user-service").await,
        "closed"
    );
}

#[tokio::test]
async fn a_bad_breaker_setting_stops_the_gateway_naming_the_variable() {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_discovery"));
    command
        .arg("gateway")
        .env_clear()
        .env("PORT", "8999")
        .env("ORDER_BREAKER__TIMEOUT", "soon");
    let child = test_support::ChildProcess::spawn(command, "gateway").expect("spawn");
    assert!(!child.wait_exit(DEADLINE).expect("exits").success());
    assert!(
        child.output().contains("ORDER_BREAKER__TIMEOUT"),
        "{}",
        child.output()
    );
}
