//! The work one script does, counted by Redis itself (`INFO commandstats`), so a change that
//! makes a script cost more per outcome shows up without timing anything.

use std::time::Duration;

use breaker_redis::{Outcome, Spec, TripPolicy, Verdict};
use test_support::RedisServer;

use crate::cli;
use crate::common::{T0, command_calls, config, raw_redis_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reads_the_rolling_window_once_and_writes_each_bucket_once() {
    let server = RedisServer::start().unwrap();
    let store = raw_redis_store(&server.url()).await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let cfg = config()
        .trip(TripPolicy::failure_count(1_000_000))
        .rolling_window(Duration::from_secs(1000), 1000)
        .build()
        .unwrap();
    let spec = Spec::new("svc", cfg, "replica").unwrap();
    let generation = store
        .acquire(&spec, Some(T0), "p")
        .await
        .unwrap()
        .generation;
    // Fill every bucket, one batch per second.
    for s in 0..1000 {
        let now = T0 + s * 1000;
        let reply = store
            .record_batch(&spec, Some(now), generation, &[Outcome::Success])
            .await
            .unwrap();
        assert_eq!(reply.verdict, Verdict::Counted);
    }
    let now = T0 + 999_000;
    let outcomes: Vec<Outcome> = (0..2000)
        .map(|i| {
            if i % 3 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            }
        })
        .collect();
    let () = cli(&mut con, &["CONFIG", "RESETSTAT"]).await;
    let reply = store
        .record_batch(&spec, Some(now), generation, &outcomes)
        .await
        .unwrap();
    assert_eq!(reply.verdict, Verdict::Counted);
    assert_eq!(
        command_calls(&mut con, "hgetall").await,
        1,
        "the window is read once"
    );
    assert!(
        command_calls(&mut con, "hset").await <= 2,
        "the state and the touched bucket are written once each"
    );
    let snap = store.snapshot(&spec, Some(now)).await.unwrap();
    assert_eq!((snap.requests, snap.failures), (3000, 667));
}

/// Publishing the settings costs the hot path nothing: once they are in Redis, a closed call's
/// scripts read the state once each and write one outcome, and neither the settings hash nor
/// any TTL is touched: both TTLs are renewed once per half key_ttl, not once per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_calls_do_not_touch_the_settings_hash() {
    let server = RedisServer::start().unwrap();
    let (b, _, mut con) = crate::setup(&server, "svc", config().build().unwrap()).await;
    crate::common::run(&b, "S").await;
    test_support::wait_until(Duration::from_secs(10), "settings published", || {
        let mut con = con.clone();
        async move {
            let n: u64 = cli(&mut con, &["EXISTS", "breaker:{svc}:settings"]).await;
            n == 1
        }
    })
    .await
    .unwrap();
    crate::common::run(&b, "S").await;
    let () = cli(&mut con, &["CONFIG", "RESETSTAT"]).await;
    crate::common::run(&b, &"S".repeat(20)).await;
    assert_eq!(
        command_calls(&mut con, "hmget").await,
        40,
        "one read per script"
    );
    assert_eq!(
        command_calls(&mut con, "hset").await,
        20,
        "one write per outcome"
    );
    assert_eq!(
        command_calls(&mut con, "pexpire").await,
        0,
        "no TTL renewed per call"
    );
    assert_eq!(command_calls(&mut con, "exists").await, 0);
}
