//! The registry dashboard in headless Chromium, against the real server and a real Redis:
//! it lists every service and instance with its heartbeat age, and an instance that stops
//! heart-beating or is removed leaves the page without a reload.

mod common;
mod dashboard_support;

use std::time::Duration;

use common::{DEADLINE, server};
use dashboard_support::{assert_no_errors, open, screenshot_path};
use serde_json::json;
use test_support::{Browser, RedisServer};

/// The page's default refresh period.
const REFRESH: Duration = Duration::from_secs(2);

async fn register(http: &reqwest::Client, base: &str, name: &str, port: u16, interval: f64) {
    let body =
        json!({"name": name, "port": port, "heartbeatInterval": interval, "host": "127.0.0.1"});
    let response = http
        .post(format!("{base}/heartbeat"))
        .json(&body)
        .send()
        .await
        .expect("heartbeat");
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn the_registry_dashboard_shows_the_instances_and_follows_changes_live() {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let base = server.url("");
    let http = reqwest::Client::new();
    for port in [4000, 4001, 4002] {
        register(&http, &base, "user-service", port, 30.0).await;
    }
    register(&http, &base, "order-service", 5000, 30.0).await;
    // An instance that heart-beats five times an interval until it is "killed", so that a
    // slow machine does not make it miss its deadline before then.
    let beating = {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            loop {
                register(&http, &base, "order-service", 5001, 1.0).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    register(&http, &base, "order-service", 5001, 1.0).await;

    let browser = Browser::launch().await.expect("chromium");
    let page = open(&browser, &format!("{base}/")).await;
    let services = page
        .wait_for_text("#services", "127.0.0.1:5001", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    for shown in [
        "user-service",
        "order-service",
        "user-service@127.0.0.1:4000",
        "127.0.0.1:4001",
        "127.0.0.1:4002",
        "127.0.0.1:5000",
        "3 alive",
        "30 s",
        "1 s",
        " s ago",
    ] {
        assert!(
            services.contains(shown),
            "{shown:?} missing from {services:?}"
        );
    }
    assert_eq!(page.text("#service-count").await.expect("count"), "2");
    assert_eq!(page.text("#instance-count").await.expect("count"), "5");
    assert_eq!(page.text("#connection").await.expect("pill"), "live");
    page.screenshot(&screenshot_path("registry"))
        .await
        .expect("screenshot");

    // The instance stops heart-beating: it leaves the registry 1.5 x 1 s later and the page
    // within one refresh after that.
    beating.abort();
    let gone = REFRESH + Duration::from_secs(5);
    page.wait_for(
        "!document.querySelector('#services').textContent.includes('127.0.0.1:5001')",
        gone,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    page.wait_for_text("#instance-count", "4", gone)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    // An instance removed through the API leaves too.
    let removed = http
        .delete(format!("{base}/services/user-service/4001"))
        .send()
        .await
        .expect("delete");
    assert!(removed.status().is_success());
    page.wait_for_text("[data-service='user-service'] h2", "2 alive", gone)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let services = page.text("#services").await.expect("services");
    assert!(!services.contains("127.0.0.1:4001"), "{services}");
    assert!(services.contains("127.0.0.1:4000"), "{services}");
    assert_no_errors(&page);
}

#[tokio::test]
async fn the_registry_dashboard_says_so_when_the_registry_stops_answering() {
    let redis = RedisServer::start().expect("redis");
    let server = server(&redis).await;
    let base = server.url("");
    let browser = Browser::launch().await.expect("chromium");
    let page = open(&browser, &format!("{base}/")).await;
    page.wait_for_text("#services", "No instance is registered", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(page.text("#service-count").await.expect("count"), "0");
    assert_no_errors(&page);

    // Redis gone: the registry answers 503 and the page keeps its last answer, marked stale.
    drop(redis);
    page.wait_for_text(
        "#connection",
        "unreachable",
        REFRESH + Duration::from_secs(5),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    let error = page.text("#error").await.expect("error line");
    assert!(error.contains("503"), "{error}");
}
