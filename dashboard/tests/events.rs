//! The live feed of the real binary: a real breaker's trip arrives as an event whose id is its
//! history stream id; a reconnect with `Last-Event-ID` gets what it missed exactly once, then
//! the live ones; feeds are capped; and Redis killed makes the API answer 503 and the feed say
//! so, until Redis is back.

mod common;

use common::sse::{Feed, SseEvent};
use common::{DEADLINE, Dashboard, breaker, call_ok, trip};
use reqwest::StatusCode;
use test_support::{RedisServer, wait_until};

/// Opens the feed at `path` and waits for its first `status` event, which comes after the
/// feed has subscribed and caught up.
async fn open(dashboard: &Dashboard, path: &str, last: Option<&str>) -> Feed {
    let mut feed = Feed::open(&dashboard.http, &dashboard.url(path), last).await;
    let status = feed.next_named("status", DEADLINE).await;
    assert_eq!(status.json()["redis"], "up", "{status:?}");
    feed
}

fn summary(event: &SseEvent) -> (String, String, String) {
    let t = event.json();
    assert_eq!(
        event.id.as_deref(),
        t["id"].as_str(),
        "the SSE id is the stream id"
    );
    let field = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
    (field("breaker"), field("to"), field("forced"))
}

fn tuple(breaker: &str, to: &str, forced: &str) -> (String, String, String) {
    (breaker.to_owned(), to.to_owned(), forced.to_owned())
}

#[tokio::test]
async fn a_trip_arrives_as_an_event_with_its_stream_id() {
    let redis = RedisServer::start().expect("redis");
    let payments = breaker(&redis, "payments").await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let mut all = open(&dashboard, "/api/events", None).await;
    let mut one = open(&dashboard, "/api/events?breaker=payments", None).await;

    let other = breaker(&redis, "users").await;
    trip(&other).await;
    trip(&payments).await;
    let first = all.next_named("transition", DEADLINE).await;
    assert_eq!(summary(&first), tuple("users", "open", "none"));
    let second = all.next_named("transition", DEADLINE).await;
    assert_eq!(summary(&second), tuple("payments", "open", "none"));
    let t = second.json();
    assert_eq!(t["from"], "closed");
    assert_eq!(t["reason"], "failure threshold reached");
    assert_eq!(t["origin"], "test-replica");

    // The one-breaker feed skips the other breaker's transition.
    let only = one.next_named("transition", DEADLINE).await;
    assert_eq!(only, second);

    // The id is the entry's id in the history the API shows.
    let (_, shown) = dashboard.get("/api/breakers/payments").await;
    assert_eq!(shown["history"][0]["id"].as_str(), second.id.as_deref());
}

#[tokio::test]
async fn a_reconnect_gets_what_it_missed_exactly_once_then_the_live_ones() {
    let redis = RedisServer::start().expect("redis");
    let payments = breaker(&redis, "payments").await;
    let users = breaker(&redis, "users").await;
    call_ok(&users).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;

    let mut feed = open(&dashboard, "/api/events", None).await;
    trip(&payments).await;
    let seen = feed.next_named("transition", DEADLINE).await;
    let last = seen.id.clone().expect("an id");
    drop(feed);

    // Missed while away: two of payments (an override through the dashboard, a trip) and one
    // of users.
    let (status, _) = dashboard.apply("payments", "reset").await;
    assert_eq!(status, StatusCode::OK);
    trip(&payments).await;
    trip(&users).await;

    let mut feed = open(&dashboard, "/api/events", Some(&last)).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(feed.next_named("transition", DEADLINE).await);
    }
    let summaries: Vec<_> = got.iter().map(summary).collect();
    assert_eq!(
        summaries,
        [
            tuple("payments", "closed", "none"),
            tuple("payments", "open", "none"),
            tuple("users", "open", "none"),
        ]
    );
    // Then the live feed, with nothing sent twice in between: the next transition is the new
    // one (the feed is ordered, so anything repeated would come before it).
    let (status, _) = dashboard.apply("users", "disable").await;
    assert_eq!(status, StatusCode::OK);
    let live = feed.next_named("transition", DEADLINE).await;
    assert_eq!(summary(&live), tuple("users", "closed", "disabled"));
    let mut ids: Vec<_> = got
        .iter()
        .chain([&live])
        .filter_map(|e| e.id.clone())
        .collect();
    ids.push(last);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "{ids:?}");

    // A feed of one breaker resumes the same way.
    let mut one = open(
        &dashboard,
        "/api/events?breaker=payments",
        Some(&got[0].id.clone().expect("id")),
    )
    .await;
    let next = one.next_named("transition", DEADLINE).await;
    assert_eq!(next, got[1]);
}

#[tokio::test]
async fn a_new_feed_first_records_where_it_starts_and_keeps_alive() {
    let redis = RedisServer::start().expect("redis");
    let dashboard = Dashboard::start(&redis.url(), &[("SSE_KEEP_ALIVE", "100ms")]).await;
    let mut feed = Feed::open(&dashboard.http, &dashboard.url("/api/events"), None).await;
    let first = feed.next(DEADLINE).await;
    assert_eq!(
        (first.event.as_str(), first.data.as_str()),
        ("", ""),
        "{first:?}"
    );
    let start: Vec<u64> = first
        .id
        .as_deref()
        .expect("a start position")
        .split('-')
        .map(|n| n.parse().expect("a number"))
        .collect();
    assert_eq!(start.len(), 2);
    feed.next_named("status", DEADLINE).await;
    feed.wait_comment(DEADLINE).await;
}

#[tokio::test]
async fn feeds_beyond_the_cap_are_refused() {
    let redis = RedisServer::start().expect("redis");
    let dashboard = Dashboard::start(&redis.url(), &[("SSE_MAX_CLIENTS", "2")]).await;
    let first = open(&dashboard, "/api/events", None).await;
    let _second = open(&dashboard, "/api/events", None).await;
    let (status, body) = dashboard.get("/api/events").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "too many live feeds");
    assert_eq!(body["max_clients"], 2);
    // A closed feed frees its place once the server notices.
    drop(first);
    wait_until(DEADLINE, "a place frees up", || async {
        let response = dashboard
            .http
            .get(dashboard.url("/api/events"))
            .send()
            .await;
        response.is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await
    .expect("a place");
}

#[tokio::test]
async fn with_redis_down_the_api_answers_503_and_recovers_when_it_returns() {
    let mut redis = RedisServer::start().expect("redis");
    let payments = breaker(&redis, "payments").await;
    call_ok(&payments).await;
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let mut feed = open(&dashboard, "/api/events", None).await;

    redis.kill();
    for path in [
        "/api/breakers",
        "/api/breakers/payments",
        "/api/breakers/payments/history",
    ] {
        let (status, body) = dashboard.get(path).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(body["error"], "redis unavailable", "{path}");
    }
    let (status, body) = dashboard.apply("payments", "open").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = dashboard.get("/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, health) = dashboard.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&health["redis"], &health["status"]),
        (&"down".into(), &"degraded".into())
    );
    let down = feed.next_named("status", DEADLINE).await;
    assert_eq!(down.json()["redis"], "down");

    // Back (empty): the API, /ready and the feed recover, and a new trip is heard.
    redis.restart().expect("redis restarts");
    dashboard.wait_ready().await;
    let up = feed.next_named("status", DEADLINE).await;
    assert_eq!(up.json()["redis"], "up");
    let (status, body) = dashboard.get("/api/breakers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = breaker(&redis, "payments").await;
    trip(&fresh).await;
    let event = feed.next_named("transition", DEADLINE).await;
    assert_eq!(summary(&event), tuple("payments", "open", "none"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_live_feeds_so_the_server_stops_without_waiting_for_them() {
    let redis = RedisServer::start().expect("redis");
    let dashboard = Dashboard::start(&redis.url(), &[]).await;
    let mut feed = open(&dashboard, "/api/events", None).await;
    dashboard.process.terminate().expect("SIGTERM");
    feed.wait_end(DEADLINE).await;
    let status = tokio::task::block_in_place(|| dashboard.process.wait_exit(DEADLINE))
        .expect("the dashboard exits");
    let output = dashboard.process.output();
    assert!(status.success(), "{status}: {output}");
    assert!(output.contains("stopped"), "{output}");
    assert!(
        !output.contains("still running"),
        "the drain waited: {output}"
    );
}
