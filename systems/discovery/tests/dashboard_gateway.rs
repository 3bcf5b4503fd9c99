//! The gateway dashboard in headless Chromium, against the real gateway, instances, discovery
//! server and Redis: it shows health, breakers, users, a chosen user's orders and users with
//! orders, and when every user instance dies the fallback and the open circuit appear without a
//! reload.

mod common;
mod dashboard_support;

use std::time::Duration;

use common::{DEADLINE, Process, instance, server, wait_for_ports};
use dashboard_support::{assert_no_errors, open, screenshot_path};
use test_support::{Browser, Page, RedisServer, free_port};

/// The refresh period the test sets with the page's slider, in seconds.
const RATE: u64 = 1;

async fn shows(page: &Page, selector: &str, text: &str, within: Duration) -> String {
    page.wait_for_text(selector, text, within)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

async fn started() -> (RedisServer, Process, Vec<Process>, Vec<Process>, Process) {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let http = reqwest::Client::new();
    let (mut users, mut orders) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        users.push(instance("user", free_port(), &server, "1", &[]).await);
        orders.push(instance("order", free_port(), &server, "1", &[]).await);
    }
    let ports = |ps: &[Process]| ps.iter().map(|p| p.port).collect::<Vec<u16>>();
    wait_for_ports(&http, &server, "user-service", &ports(&users)).await;
    wait_for_ports(&http, &server, "order-service", &ports(&orders)).await;
    let url = redis.url();
    // Open long enough that the page sees the circuit open however slow the machine is.
    let env = [
        ("REDIS_URL", url.as_str()),
        ("USER_BREAKER__TIMEOUT", "60s"),
    ];
    let gateway = instance("gateway", free_port(), &server, "1", &env).await;
    (redis, server, users, orders, gateway)
}

#[tokio::test]
async fn the_gateway_dashboard_shows_the_data_and_the_circuit_opening_live() {
    let (_redis, _server, users, _orders, gateway) = started().await;
    let browser = Browser::launch().await.expect("chromium");
    let page = open(&browser, &gateway.url("/")).await;

    let shown = shows(&page, "#users", "Bob Johnson", DEADLINE).await;
    for text in [
        "John Doe",
        "Jane Smith",
        "john@example.com",
        "service-discovery + circuit-breaker",
    ] {
        assert!(shown.contains(text), "{text:?} missing from {shown:?}");
    }
    shows(&page, "#health", "healthy", DEADLINE).await;
    shows(&page, "#health", "connected", DEADLINE).await;
    shows(&page, "[data-breaker='user-service']", "closed", DEADLINE).await;
    shows(&page, "[data-breaker='order-service']", "closed", DEADLINE).await;
    assert_eq!(
        page.text("#gateway-status").await.expect("status"),
        "healthy"
    );
    let instance = format!("api-gateway-{}", gateway.port);
    assert!(
        page.text("#gateway-instance")
            .await
            .expect("instance")
            .contains(&instance)
    );

    // Users with orders: the seed's order counts per user.
    shows(&page, "#users-with-orders", "3 users, 5 orders", DEADLINE).await;
    for (user, count) in [("1", "2"), ("2", "2"), ("3", "1")] {
        let cell = format!("[data-user='{user}'] td:nth-child(2)");
        assert_eq!(
            page.text(&cell).await.expect("order count"),
            count,
            "user {user}"
        );
    }

    // Orders of a chosen user.
    shows(&page, "#orders", "Product A, Product B", DEADLINE).await;
    page.set_value("#user-id", "2").await.expect("user id");
    let orders = shows(
        &page,
        "#orders",
        "Product G, Product H, Product I",
        DEADLINE,
    )
    .await;
    assert!(!orders.contains("Product A"), "{orders}");

    // The refresh rate follows the slider.
    assert_eq!(page.text("#rate-label").await.expect("label"), "5 s");
    page.set_value("#rate", &RATE.to_string())
        .await
        .expect("rate");
    assert_eq!(page.text("#rate-label").await.expect("label"), "1 s");
    shows(&page, "#cache", "user-service", DEADLINE).await;
    page.screenshot(&screenshot_path("gateway"))
        .await
        .expect("screenshot");
    assert_no_errors(&page);

    // Every user instance killed: the page's own refreshes fail over, fall back and trip the
    // breaker (3 failures); the fallback and the open circuit appear without a reload.
    for user in &users {
        user.child.kill();
    }
    // Three failing refreshes trip it; a few more periods absorb a slow machine.
    let within = Duration::from_secs(RATE * 10);
    shows(&page, "#users", "Fallback User", within).await;
    shows(&page, "#users", "fallback", within).await;
    shows(&page, "[data-breaker='user-service']", "open", within).await;
    let order_breaker = page
        .text("[data-breaker='order-service']")
        .await
        .expect("order breaker");
    assert!(order_breaker.contains("closed"), "{order_breaker}");
    page.screenshot(&screenshot_path("gateway-open"))
        .await
        .expect("screenshot");
    // Fallbacks are answers, not errors: the page stays free of console errors.
    assert_no_errors(&page);
}

#[tokio::test]
async fn a_bad_user_id_is_refused_on_the_page() {
    let (_redis, _server, _users, _orders, gateway) = started().await;
    let browser = Browser::launch().await.expect("chromium");
    let page = open(&browser, &gateway.url("/")).await;
    shows(&page, "#orders", "Product A", DEADLINE).await;
    page.set_value("#user-id", "-3").await.expect("user id");
    shows(&page, "#orders", "positive whole number", DEADLINE).await;
    assert_no_errors(&page);
}
