//! Values that parse as numbers but make no sense are repaired like foreign values, so no
//! stored field can freeze generations or wedge the circuit open.

use std::time::Duration;

use breaker_redis::{Config, Outcome, Spec, State, TripPolicy, Verdict};
use test_support::RedisServer;

use crate::common::{T0, config, raw_redis_store, secs};
use crate::{cli, state_key};

/// Above this a number no longer prints exactly in Lua (`%.14g`).
const LIMIT: u64 = 100_000_000_000_000;

fn cfg() -> Config {
    config()
        .trip(TripPolicy::consecutive_failures(1))
        .open_timeout(secs(10))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_numbers_are_repaired() {
    let server = RedisServer::start().unwrap();
    let store = raw_redis_store(&server.url()).await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let window_start_far = (T0 + 3_600_000).to_string();
    let cases: [&[&str]; 7] = [
        &["generation", "1e300"],
        &["generation", "99999999999999999999"],
        &["state", "open", "open_until", "99999999999999999999"],
        &["requests", "1e20"],
        &["requests", "2", "failures", "3"],
        &["window_start", &window_start_far],
        &["consecutive_failures", "123456789012345678"],
    ];
    for (i, fields) in cases.into_iter().enumerate() {
        let spec = Spec::new(&format!("svc-{i}"), cfg(), "replica").unwrap();
        let first = store.acquire(&spec, Some(T0), "p0").await.unwrap();
        store
            .record(
                &spec,
                Some(T0),
                first.generation,
                "p0",
                T0,
                Outcome::Success,
            )
            .await
            .unwrap();
        let mut hset = vec!["HSET"];
        let key = state_key(spec.name());
        hset.push(&key);
        hset.extend_from_slice(fields);
        let _: i64 = cli(&mut con, &hset).await;

        let reply = store.acquire(&spec, Some(T0), "p1").await;
        let reply = reply.unwrap_or_else(|e| panic!("{fields:?}: {e}"));
        assert!(reply.repaired, "{fields:?} was repaired");
        assert_eq!(reply.verdict, Verdict::Admitted, "{fields:?}");
        assert!(
            reply.generation < LIMIT,
            "{fields:?}: generation {}",
            reply.generation
        );
        assert!(
            reply.generation >= T0,
            "{fields:?}: generation {}",
            reply.generation
        );
        let snap = store.snapshot(&spec, Some(T0)).await.unwrap();
        assert!(!snap.repaired, "{fields:?}: the repair was written back");
        assert!(snap.open_until_ms <= T0 + 10_000, "{fields:?}");
    }
}

/// An open deadline further ahead than the open timeout (a longer timeout configured on
/// another replica, a clock stepped back) is brought back to the timeout: the circuit stays
/// open, under the same generation, for no longer than this configuration allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_beyond_the_timeout_is_bounded_not_reset() {
    let server = RedisServer::start().unwrap();
    let store = raw_redis_store(&server.url()).await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let spec = Spec::new("svc", cfg(), "replica").unwrap();
    let first = store.acquire(&spec, Some(T0), "p0").await.unwrap();
    let opened = store
        .record(
            &spec,
            Some(T0),
            first.generation,
            "p0",
            T0,
            Outcome::Failure,
        )
        .await
        .unwrap();
    assert_eq!(opened.state, State::Open);
    let far = (T0 + 3_600_000).to_string();
    let _: i64 = cli(&mut con, &["HSET", &state_key("svc"), "open_until", &far]).await;

    let reply = store.acquire(&spec, Some(T0), "p1").await.unwrap();
    assert!(reply.repaired, "the deadline was repaired");
    assert_eq!(reply.verdict, Verdict::Rejected, "still open");
    assert_eq!(reply.state, State::Open);
    assert_eq!(reply.generation, opened.generation, "not reset");
    assert_eq!(
        reply.retry_after,
        Some(secs(10)),
        "at most the open timeout"
    );
    let snap = store.snapshot(&spec, Some(T0)).await.unwrap();
    assert!(!snap.repaired, "the bounded deadline was written back");
    assert_eq!(snap.open_until_ms, T0 + 10_000);
}

/// Corrupted window buckets are left out of the counts instead of tripping the circuit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_window_buckets_are_not_counted() {
    let server = RedisServer::start().unwrap();
    let store = raw_redis_store(&server.url()).await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let cfg = config()
        .trip(TripPolicy::failure_count(5))
        .rolling_window(Duration::from_secs(10), 10)
        .build()
        .unwrap();
    let spec = Spec::new("svc", cfg, "replica").unwrap();
    let first = store.acquire(&spec, Some(T0), "p0").await.unwrap();
    let bucket = (T0 / 1000).to_string();
    let slot = (T0 / 1000 % 10).to_string();
    let other = ((T0 / 1000 + 1) % 10).to_string();
    let huge = format!("{bucket}:99999999999999999999:99999999999999999999");
    let more_failures = format!("{}:1:7", T0 / 1000 - 1);
    let _: i64 = cli(
        &mut con,
        &[
            "HSET",
            "breaker:{svc}:window",
            &slot,
            &huge,
            &other,
            &more_failures,
        ],
    )
    .await;
    let reply = store
        .record(
            &spec,
            Some(T0),
            first.generation,
            "p0",
            T0,
            Outcome::Failure,
        )
        .await
        .unwrap();
    assert_eq!(reply.state, State::Closed);
    let snap = store.snapshot(&spec, Some(T0)).await.unwrap();
    assert_eq!((snap.requests, snap.failures), (1, 1));
}
