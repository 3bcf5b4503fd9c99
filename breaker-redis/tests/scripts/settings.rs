//! The settings hash: a breaker publishes its settings when it starts, again after its keys
//! were flushed or Redis restarted, and they live as long as its state (no command per call).

use std::time::Duration;

use breaker_redis::{Breaker, Config, TripPolicy};
use redis::aio::MultiplexedConnection;
use test_support::{RedisServer, wait_until};

use crate::common::{config, redis_store, run, secs};
use crate::{cli, setup};

const WAIT: Duration = Duration::from_secs(10);

fn settings_key(name: &str) -> String {
    format!("breaker:{{{name}}}:settings")
}

async fn field(con: &mut MultiplexedConnection, name: &str, field: &str) -> Option<String> {
    cli(con, &["HGET", &settings_key(name), field]).await
}

async fn published(con: &MultiplexedConnection, name: &str) {
    wait_until(WAIT, "the settings hash", || {
        let mut con = con.clone();
        async move { field(&mut con, name, "replica").await.is_some() }
    })
    .await
    .unwrap();
}

/// A breaker on the real clock, as services run it.
async fn live_breaker(server: &RedisServer, name: &str, cfg: Config) -> Breaker {
    Breaker::builder(name)
        .config(cfg)
        .store(redis_store(&server.url()).await)
        .replica_id("replica-7")
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_publishes_its_settings_when_built_in_plain_values() {
    let server = RedisServer::start().unwrap();
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _b = live_breaker(&server, "svc", config().build().unwrap()).await;
    published(&con, "svc").await;
    let expected = [
        ("trip", "failure_ratio"),
        ("failure_ratio", "0.6"),
        ("min_requests", "3"),
        ("interval", "5s"),
        ("max_requests", "3"),
        ("success_threshold", "3"),
        ("timeout", "10s"),
        ("lease", "10s"),
        ("key_ttl", "1day"),
        ("degraded_mode", "local"),
        ("admission", "strict"),
        ("replica", "replica-7"),
        (
            "script_args",
            "2 600000 3 1 5000 1 3 3 10000 10000 86400000",
        ),
    ];
    for (name, value) in expected {
        assert_eq!(
            field(&mut con, "svc", name).await.as_deref(),
            Some(value),
            "{name}"
        );
    }
    assert_eq!(
        field(&mut con, "svc", "rolling_window").await,
        None,
        "unset options are left out"
    );
    let written: u64 = field(&mut con, "svc", "written_at_ms")
        .await
        .unwrap()
        .parse()
        .unwrap();
    let (secs, _): (u64, u64) = cli(&mut con, &["TIME"]).await;
    assert!(
        written / 1000 <= secs && written / 1000 + 60 > secs,
        "server time: {written}"
    );
    let ttl: i64 = cli(&mut con, &["PTTL", &settings_key("svc")]).await;
    assert!(ttl > 0, "expires with the breaker: {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_come_back_after_flushall_and_a_restart() {
    let mut server = RedisServer::start().unwrap();
    let con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(5))
        .build()
        .unwrap();
    let b = live_breaker(&server, "svc", cfg).await;
    published(&con, "svc").await;

    let () = cli(&mut con.clone(), &["FLUSHALL"]).await;
    run(&b, "S").await;
    published(&con, "svc").await;
    assert_eq!(
        field(&mut con.clone(), "svc", "trip").await.as_deref(),
        Some("consecutive_failures")
    );

    server.restart().unwrap();
    let con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // The first calls may find the store reconnecting and stay local; a later one writes.
    wait_until(WAIT, "the settings after a restart", || {
        let (b, mut con) = (b.clone(), con.clone());
        async move {
            if let Ok(permit) = b.acquire().await {
                permit.success().await;
            }
            field(&mut con, "svc", "failures").await.as_deref() == Some("5")
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_live_as_long_as_the_state_without_a_command_per_call() {
    let server = RedisServer::start().unwrap();
    let ttl = secs(100);
    let cfg = config().key_ttl(ttl).build().unwrap();
    let (b, clock, mut con) = setup(&server, "svc", cfg).await;
    run(&b, "S").await;
    published(&con, "svc").await;
    run(&b, "S").await;
    let key = settings_key("svc");
    // As if most of key_ttl had passed in Redis, but not yet half of it on the breaker's clock:
    // calls under traffic leave the settings' TTL alone.
    let _: i64 = cli(&mut con, &["PEXPIRE", &key, "30000"]).await;
    run(&b, "SSFS").await;
    let left: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert!(left <= 30_000, "not renewed on every call: {left}");
    clock.advance(secs(51));
    run(&b, "S").await;
    let left: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert!(left > 90_000, "renewed once half of key_ttl passed: {left}");

    // A forced breaker's settings never expire (an override outlives idle periods, and
    // resetting it needs them); a reset gives them the TTL back.
    b.force_open().await.unwrap();
    let left: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert_eq!(left, -1);
    b.reset().await.unwrap();
    let left: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert!(left > 90_000, "{left}");
}
