//! `breaker_redis::admin` against a real redis-server and real breakers: listing, details,
//! history, live transitions, overrides that running replicas follow, and the typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use breaker_redis::admin::{Admin, AdminError};
use breaker_redis::{Breaker, Forced, State, TripKind, TripPolicy};
use futures_util::StreamExt;
use test_support::{RedisServer, wait_until};

use common::{command, config, redis_store, run};

const WAIT: Duration = Duration::from_secs(10);

/// A breaker with the real clock (settings carry server time), tripping after 2 failures.
async fn breaker(server: &RedisServer, name: &str, replica: &str) -> Breaker {
    Breaker::builder(name)
        .config(
            config()
                .trip(TripPolicy::consecutive_failures(2))
                .open_timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        )
        .store(redis_store(&server.url()).await)
        .replica_id(replica)
        .build()
        .unwrap()
}

async fn admin(server: &RedisServer) -> Admin {
    Admin::connect(&server.url()).await.unwrap()
}

/// Waits until the admin sees the breaker's settings.
async fn settings_published(admin: &Admin, name: &str) {
    wait_until(WAIT, "the breaker's settings in redis", || async {
        admin
            .show(name)
            .await
            .is_ok_and(|d| d.summary.settings.is_some())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_show_read_every_breaker_with_its_settings() {
    let server = RedisServer::start().unwrap();
    let admin = admin(&server).await;
    let a = breaker(&server, "alpha", "replica-1").await;
    let _b = breaker(&server, "beta", "replica-2").await;
    run(&a, "SF").await;
    settings_published(&admin, "alpha").await;
    settings_published(&admin, "beta").await;

    let list = admin.list().await.unwrap();
    let names: Vec<&str> = list.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "beta"],
        "sorted, leases/history/settings keys not listed twice"
    );
    let alpha = &list[0];
    assert!(alpha.stored);
    assert_eq!((alpha.state, alpha.forced), (State::Closed, Forced::None));
    assert_eq!(alpha.consecutive_failures, 1);
    assert!(
        alpha.ttl_ms.is_some_and(|t| t > 0),
        "an unforced breaker expires when idle"
    );
    let settings = alpha.settings.as_ref().unwrap();
    assert_eq!(settings.replica, "replica-1");
    assert_eq!(settings.settings.trip, TripKind::ConsecutiveFailures);
    assert_eq!(settings.settings.failures, 2);
    assert_eq!(settings.settings.timeout, Duration::from_secs(60));
    assert!(!list[1].stored, "beta made no call: settings only");

    let detail = admin.show("alpha").await.unwrap();
    assert_eq!(detail.summary.requests, 2);
    assert_eq!(detail.summary.failures, 1);
    assert_eq!(detail.in_flight, 0);
    assert!(detail.now_ms >= settings.written_at_ms);
    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["state"], "closed");
    assert_eq!(json["settings"]["settings"]["trip"], "consecutive_failures");
    assert_eq!(json["settings"]["settings"]["timeout"], "1m");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_transitions_newest_first_and_resumes_after_an_id() {
    let server = RedisServer::start().unwrap();
    let admin = admin(&server).await;
    let b = breaker(&server, "hist", "replica-1").await;
    assert!(admin.history("hist", 10).await.unwrap().is_empty());
    run(&b, "FF").await;
    b.reset().await.unwrap();
    b.force_open().await.unwrap();

    let history = admin.history("hist", 10).await.unwrap();
    let steps: Vec<(State, State, &str)> = history
        .iter()
        .map(|t| (t.from, t.to, t.reason.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (State::Closed, State::Open, "forced open"),
            (State::Open, State::Closed, "reset"),
            (State::Closed, State::Open, "failure threshold reached"),
        ]
    );
    assert!(
        history
            .iter()
            .all(|t| t.origin == "replica-1" && t.breaker == "hist")
    );
    assert!(history[0].generation > history[1].generation);
    assert_eq!(admin.history("hist", 1).await.unwrap(), history[..1]);

    let after = admin.history_after("hist", &history[2].id).await.unwrap();
    let ids: Vec<&str> = after.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [history[1].id.as_str(), history[0].id.as_str()],
        "oldest first, exclusive"
    );
    assert!(
        admin
            .history_after("hist", &history[0].id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_reaches_a_running_breaker_the_history_and_watchers() {
    let server = RedisServer::start().unwrap();
    let admin = admin(&server).await.with_origin("ops");
    let b = breaker(&server, "svc", "replica-1").await;
    let _other = breaker(&server, "other", "replica-1").await;
    b.listening().await;
    let mut events = b.events();
    run(&b, "S").await;
    settings_published(&admin, "svc").await;
    let mut one = admin.watch(Some("svc")).await.unwrap();
    let mut all = admin.watch(None).await.unwrap();

    let result = admin.open("svc").await.unwrap();
    assert_eq!(
        (result.from, result.to, result.forced),
        (State::Closed, State::Open, Forced::Open)
    );

    let err = b.acquire().await.unwrap_err();
    assert_eq!(err.forced, Forced::Open, "the replica rejects at once");
    let event = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.to, event.forced, event.origin.as_str()),
        (State::Open, Forced::Open, "ops")
    );

    let seen = tokio::time::timeout(WAIT, one.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (seen.to, seen.reason.as_str(), seen.generation),
        (State::Open, "forced open", result.generation)
    );
    let history = admin.history("svc", 1).await.unwrap();
    assert_eq!(
        history[0], seen,
        "the live record is the history entry, with its stream id"
    );
    let seen_all = tokio::time::timeout(WAIT, all.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen_all, seen);

    // A transition made by the breaker itself reaches the watchers too.
    admin.reset("svc").await.unwrap();
    run(&b, "FF").await;
    let trip = tokio::time::timeout(WAIT, async {
        loop {
            let t = all.next().await.unwrap();
            if t.reason == "failure threshold reached" {
                return t;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (trip.breaker.as_str(), trip.origin.as_str()),
        ("svc", "replica-1")
    );

    for (op, forced) in [("close", Forced::Closed), ("disable", Forced::Disabled)] {
        let r = match op {
            "close" => admin.close("svc").await.unwrap(),
            _ => admin.disable("svc").await.unwrap(),
        };
        assert_eq!((r.to, r.forced), (State::Closed, forced));
        assert!(b.acquire().await.is_ok());
    }
    let detail = admin.show("svc").await.unwrap();
    assert_eq!(detail.summary.forced, Forced::Disabled);
    assert_eq!(
        detail.summary.ttl_ms, None,
        "a forced breaker never expires"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_breakers_missing_settings_bad_urls_and_unreachable_redis_are_typed_errors() {
    let server = RedisServer::start().unwrap();
    let admin = admin(&server).await;
    assert!(
        matches!(admin.show("nobody").await, Err(AdminError::UnknownBreaker(n)) if n == "nobody")
    );
    assert!(matches!(
        admin.open("nobody").await,
        Err(AdminError::UnknownBreaker(_))
    ));
    assert!(matches!(
        admin.show("bad name!").await,
        Err(AdminError::InvalidName(_))
    ));

    // State without settings: written by hand, as a breaker built before settings existed.
    let () = command(
        &server,
        &[
            "HSET",
            "breaker:{legacy}",
            "state",
            "closed",
            "forced",
            "none",
            "generation",
            "1",
        ],
    )
    .await;
    assert!(
        matches!(admin.reset("legacy").await, Err(AdminError::MissingSettings(n)) if n == "legacy")
    );
    let state: String = command(&server, &["HGET", "breaker:{legacy}", "generation"]).await;
    assert_eq!(state, "1", "nothing changed");
    assert!(
        admin
            .show("legacy")
            .await
            .unwrap()
            .summary
            .settings
            .is_none()
    );

    // Settings that do not read as settings: listed without them, reported by show and open.
    let () = command(
        &server,
        &[
            "HSET",
            "breaker:{odd}:settings",
            "trip",
            "sometimes",
            "replica",
            "x",
        ],
    )
    .await;
    let list = admin.list().await.unwrap();
    let odd = list.iter().find(|b| b.name == "odd").unwrap();
    assert!(odd.settings.is_none() && !odd.stored);
    assert!(matches!(
        admin.show("odd").await,
        Err(AdminError::InvalidSettings { name, .. }) if name == "odd"
    ));
    assert!(matches!(
        admin.open("odd").await,
        Err(AdminError::InvalidSettings { .. })
    ));

    assert!(matches!(
        Admin::connect("http://localhost").await,
        Err(AdminError::BadUrl { .. })
    ));
    assert!(matches!(
        Admin::connect("not a url").await,
        Err(AdminError::BadUrl { .. })
    ));
    let refusing = test_support::refusing_port();
    let down = Admin::connect(&format!("redis://127.0.0.1:{}", refusing.port()))
        .await
        .unwrap();
    assert!(matches!(
        down.list().await,
        Err(AdminError::Unreachable { .. })
    ));
    assert!(matches!(
        down.show("svc").await,
        Err(AdminError::Unreachable { .. })
    ));
    assert!(matches!(
        down.watch(None).await,
        Err(AdminError::Unreachable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_ends_when_its_connection_is_lost_and_history_after_resumes() {
    let mut server = RedisServer::start().unwrap();
    let admin = admin(&server).await;
    let b = breaker(&server, "svc", "replica-1").await;
    settings_published(&admin, "svc").await;
    let mut watch = admin.watch(None).await.unwrap();
    b.force_open().await.unwrap();
    let last = tokio::time::timeout(WAIT, watch.next())
        .await
        .unwrap()
        .unwrap();

    server.kill();
    let end = tokio::time::timeout(WAIT, watch.next()).await.unwrap();
    assert!(end.is_none(), "the stream ends with its connection");

    // What a resuming client does: a new watch, then what it missed since its last id.
    server.restart().unwrap();
    let b = breaker(&server, "svc", "replica-1").await;
    settings_published(&admin, "svc").await;
    b.force_closed().await.unwrap();
    let missed = admin.history_after("svc", &last.id).await.unwrap();
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(missed[0].forced, Forced::Closed);
}
