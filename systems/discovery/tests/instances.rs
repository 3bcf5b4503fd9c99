//! The real user and order instances: their bodies, registering, unregistering on SIGTERM,
//! disappearing when they stop heart-beating, and settings they refuse.

mod common;

use common::{DEADLINE, get, instance, ports, redis_ms, server, wait_for_ports};
use reqwest::StatusCode;
use serde_json::json;
use test_support::{RedisServer, free_port, wait_until};

#[tokio::test]
async fn instances_answer_the_seed_bodies_and_register_themselves() {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let http = reqwest::Client::new();
    let (user_port, order_port) = (free_port(), free_port());
    let user = instance("user", user_port, &server, "30", &[]).await;
    let order = instance("order", order_port, &server, "30", &[]).await;
    wait_for_ports(&http, &server, "user-service", &[user_port]).await;
    wait_for_ports(&http, &server, "order-service", &[order_port]).await;

    let (_, users) = get(&http, &user.url("/users")).await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["John Doe", "Jane Smith", "Bob Johnson"]);
    assert_eq!(users["instance"], format!("user-service-{user_port}"));
    let (_, orders) = get(&http, &order.url("/orders/user/1")).await;
    assert_eq!(orders["totalOrders"], 2, "{orders}");
    assert_eq!(
        (&orders["userId"], &orders["orders"][0]["products"]),
        (&json!(1), &json!(["Product A", "Product B"]))
    );
    let (status, bad) = get(&http, &order.url("/orders/user/0")).await;
    assert_eq!(
        (status, bad),
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid user ID"}))
    );

    for (process, name) in [(&user, "user-service"), (&order, "order-service")] {
        let (_, health) = get(&http, &process.url("/health")).await;
        assert_eq!(health["service"], name);
        assert_eq!(health["status"], "healthy");
        assert_eq!(health["port"], process.port);
        assert!(
            health["instance"].is_string() && health["timestamp"].is_string(),
            "{health}"
        );
    }
}

#[tokio::test]
async fn a_sigtermed_instance_unregisters_at_once() {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let http = reqwest::Client::new();
    let (a, b) = (free_port(), free_port());
    // A 30 s interval: only the instance's own unregistering can remove it this soon.
    let first = instance("user", a, &server, "30", &[]).await;
    let _second = instance("user", b, &server, "30", &[]).await;
    wait_for_ports(&http, &server, "user-service", &[a, b]).await;
    first.child.terminate().expect("SIGTERM");
    let status = first.child.wait_exit(DEADLINE).expect("exits");
    assert!(status.success(), "{}", first.child.output());
    assert_eq!(ports(&http, &server, "user-service").await, [u64::from(b)]);
}

#[tokio::test]
async fn an_instance_that_stops_heart_beating_disappears_at_its_deadline() {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let http = reqwest::Client::new();
    let port = free_port();
    let user = instance("user", port, &server, "0.4", &[]).await;
    wait_for_ports(&http, &server, "user-service", &[port]).await;
    user.child.kill();
    let (_, listed) = get(&http, &server.url("/services/user-service")).await;
    let last = listed["services"][0]["lastHeartbeat"].as_u64();
    // Killed between two reads, it may already be gone; otherwise its deadline is known.
    if let Some(last) = last {
        let deadline = last + 600;
        wait_until(DEADLINE, "the deadline on Redis's clock", || async {
            redis_ms(&redis).await > deadline
        })
        .await
        .expect("time passes");
    }
    assert!(ports(&http, &server, "user-service").await.is_empty());
}

#[tokio::test]
async fn bad_settings_stop_an_instance_naming_the_variable() {
    for (name, value) in [
        ("HEARTBEAT_INTERVAL", "0"),
        ("HEARTBEAT_INTERVAL", "soon"),
        ("DISCOVERY_URL", "localhost:3000"),
        ("PORT", "0"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_discovery"));
        command
            .arg("user")
            .env_clear()
            .env("PORT", "4999")
            .env(name, value);
        let child = test_support::ChildProcess::spawn(command, "user").expect("spawn");
        let status = child.wait_exit(DEADLINE).expect("exits");
        assert!(!status.success(), "{name}={value}: {}", child.output());
        assert!(child.output().contains(name), "{name}: {}", child.output());
    }
}
