//! The page in headless Chromium, against the real binary, a real Redis and real breakers: it
//! lists the breakers, a trip made after it loaded shows within 2 s without a reload, a
//! breaker's history opens, the override buttons ask for the token, send it, and reach a
//! running breaker, and the page says when Redis is down and follows again when it is back.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{DEADLINE, Dashboard, TOKEN, breaker, call_ok, trip};
use test_support::{Browser, Page, RedisServer, wait_until};

/// How soon a transition must show on the open page.
const LIVE: Duration = Duration::from_secs(2);

/// Where the screenshot goes: `DASHBOARD_SCREENSHOT`, or `target/tmp/dashboard.png`.
fn screenshot_path() -> PathBuf {
    std::env::var_os("DASHBOARD_SCREENSHOT").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png"),
        PathBuf::from,
    )
}

fn row(name: &str, part: &str) -> String {
    format!("tr[data-breaker='{name}'] {part}")
}

async fn text_within(page: &Page, selector: &str, needle: &str, deadline: Duration) -> String {
    page.wait_for_text(selector, needle, deadline)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn assert_no_errors(page: &Page) {
    if let Err(e) = page.check_no_errors() {
        panic!("{e:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_lists_the_breakers_and_follows_a_trip_live() {
    let redis = RedisServer::start().expect("redis");
    let payments = breaker(&redis, "payments").await;
    let users = breaker(&redis, "users").await;
    call_ok(&payments).await;
    call_ok(&users).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let browser = Browser::launch().await.expect("chromium");
    let page = browser.new_page().await.expect("a tab");
    page.goto(&dashboard.url("/"))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    let rows = text_within(&page, "#breaker-rows", "users", DEADLINE).await;
    assert!(rows.contains("payments"), "{rows}");
    assert_eq!(
        page.text(&row("payments", ".state")).await.expect("badge"),
        "closed"
    );
    assert_eq!(page.text("#count").await.expect("count"), "2");
    text_within(
        &page,
        &row("payments", ".settings"),
        "2 failures in a row",
        DEADLINE,
    )
    .await;
    text_within(&page, &row("payments", ".counts"), "1 calls", DEADLINE).await;
    text_within(&page, "#feed", "live", DEADLINE).await;

    // A trip after the page loaded: on the page within 2 s, without a reload.
    trip(&payments).await;
    text_within(&page, &row("payments", ".state"), "open", LIVE).await;
    text_within(&page, "#events", "failure threshold reached", LIVE).await;
    assert_eq!(
        page.text(&row("users", ".state")).await.expect("badge"),
        "closed"
    );

    // The breaker's history, on a click.
    page.click(&row("payments", ".name button"))
        .await
        .expect("the name");
    let history = text_within(&page, "#history", "failure threshold reached", DEADLINE).await;
    assert!(history.contains("test-replica"), "{history}");
    assert_no_errors(&page);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_override_buttons_ask_for_the_token_and_reach_a_running_breaker() {
    let redis = RedisServer::start().expect("redis");
    let orders = breaker(&redis, "orders").await;
    call_ok(&orders).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let browser = Browser::launch().await.expect("chromium");
    let page = browser.new_page().await.expect("a tab");
    page.goto(&dashboard.url("/"))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    text_within(&page, "#breaker-rows", "orders", DEADLINE).await;
    text_within(&page, "#feed", "live", DEADLINE).await;

    // Without a token the page asks for one and sends nothing.
    let open = row("orders", "button[data-action='open']");
    page.click(&open).await.expect("the button");
    text_within(&page, "#notice", "Enter the admin token", DEADLINE).await;
    let panel = page
        .eval("document.querySelector('#token-panel').hidden")
        .await;
    assert_eq!(panel.expect("evaluates"), false);
    orders
        .acquire()
        .await
        .expect("still closed")
        .success()
        .await;

    page.set_value("#token", TOKEN).await.expect("typed");
    page.click("#token-save").await.expect("saved");
    page.click(&open).await.expect("the button");
    text_within(&page, &row("orders", ".state"), "forced open", DEADLINE).await;
    text_within(&page, "#notice", "orders is now forced open", DEADLINE).await;
    wait_until(DEADLINE, "the running breaker rejects", || async {
        orders.acquire().await.is_err()
    })
    .await
    .expect("forced open");
    // The token lives in this tab's sessionStorage, never in a URL.
    let stored = page
        .eval("sessionStorage.getItem('dashboard.admin-token')")
        .await
        .expect("evaluates");
    assert_eq!(stored, TOKEN);
    let href = page.eval("location.href").await.expect("evaluates");
    assert!(!href.to_string().contains(TOKEN), "{href}");

    page.click(&row("orders", "button[data-action='reset']"))
        .await
        .expect("the button");
    text_within(&page, &row("orders", ".state"), "closed", DEADLINE).await;
    assert_no_errors(&page);

    // A wrong token: the page shows the refusal, and the breaker stays as it is.
    page.click("#token-button").await.expect("the panel");
    page.set_value("#token", "not-the-token")
        .await
        .expect("typed");
    page.click("#token-save").await.expect("saved");
    page.click(&open).await.expect("the button");
    text_within(&page, "#notice", "401 unauthorized", DEADLINE).await;
    orders.acquire().await.expect("not opened").success().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_when_redis_is_down_and_recovers() {
    let mut redis = RedisServer::start().expect("redis");
    let orders = breaker(&redis, "orders").await;
    call_ok(&orders).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let browser = Browser::launch().await.expect("chromium");
    let page = browser.new_page().await.expect("a tab");
    page.goto(&dashboard.url("/"))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    text_within(&page, "#feed", "live", DEADLINE).await;
    text_within(&page, "#breaker-rows", "orders", DEADLINE).await;

    redis.kill();
    text_within(&page, "#feed", "redis down", DEADLINE).await;
    // Said by the feed ("Redis is unreachable") or the refresh ("503 redis unavailable").
    let said = "!document.querySelector('#error').hidden && \
                /redis/i.test(document.querySelector('#error').textContent)";
    page.wait_for(said, DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    // The last state read stays on the page, marked stale.
    let stale = page.eval("document.querySelector('#breakers').classList.contains('stale')");
    assert_eq!(stale.await.expect("evaluates"), true);
    assert!(
        page.text("#breaker-rows")
            .await
            .expect("rows")
            .contains("orders")
    );

    // Back, empty: the page follows without a reload.
    redis.restart().expect("redis restarts");
    text_within(&page, "#feed", "live", DEADLINE).await;
    page.wait_for("document.querySelector('#error').hidden", DEADLINE)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let fresh = breaker(&redis, "payments").await;
    trip(&fresh).await;
    text_within(&page, &row("payments", ".state"), "open", DEADLINE).await;
}

/// A fleet in several states, for the README's screenshot: what the page shows in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_of_a_fleet_in_several_states() {
    let redis = RedisServer::start().expect("redis");
    let names = [
        "inventory-service",
        "payment-service",
        "service-b",
        "user-service",
    ];
    let mut breakers = Vec::new();
    for name in names {
        let b = breaker(&redis, name).await;
        call_ok(&b).await;
        breakers.push(b);
    }
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let browser = Browser::launch().await.expect("chromium");
    let page = browser.new_page().await.expect("a tab");
    page.goto(&dashboard.url("/"))
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    text_within(&page, "#feed", "live", DEADLINE).await;
    text_within(&page, "#breaker-rows", "user-service", DEADLINE).await;

    trip(&breakers[2]).await;
    dashboard.apply("payment-service", "open").await;
    trip(&breakers[3]).await;
    dashboard.apply("user-service", "reset").await;
    let failed = breakers[0].acquire().await.expect("admitted");
    failed.failure().await;
    text_within(&page, &row("service-b", ".state"), "open", LIVE).await;
    text_within(
        &page,
        &row("payment-service", ".state"),
        "forced open",
        LIVE,
    )
    .await;
    text_within(&page, "#events", "reset", LIVE).await;
    page.click(&row("service-b", ".name button"))
        .await
        .expect("the name");
    text_within(&page, "#history", "failure threshold reached", DEADLINE).await;
    text_within(
        &page,
        &row("inventory-service", ".counts"),
        "1 failed",
        DEADLINE,
    )
    .await;
    page.screenshot(&screenshot_path())
        .await
        .expect("screenshot");
    assert_no_errors(&page);
}

/// Not a check: a screenshot of a dashboard running elsewhere (`DASHBOARD_URL`, e.g. the
/// demo's), for the README. `DASHBOARD_URL=http://localhost:8088/ cargo test -p dashboard
/// --test browser -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a dashboard running at DASHBOARD_URL"]
async fn a_screenshot_of_a_running_dashboard() {
    let url = std::env::var("DASHBOARD_URL").expect("DASHBOARD_URL");
    let browser = Browser::launch().await.expect("chromium");
    let page = browser.new_page().await.expect("a tab");
    page.goto(&url).await.unwrap_or_else(|e| panic!("{e:#}"));
    text_within(&page, "#feed", "live", DEADLINE).await;
    let first = page
        .eval("document.querySelector('#breaker-rows tr[data-breaker] .name button').click()")
        .await;
    first.expect("a breaker to pick");
    text_within(&page, "#history", "->", DEADLINE).await;
    if let Ok(wait) = std::env::var("DASHBOARD_WAIT_FOR") {
        text_within(&page, "#events", &wait, Duration::from_secs(60)).await;
    }
    page.screenshot(&screenshot_path())
        .await
        .expect("screenshot");
    assert_no_errors(&page);
}
