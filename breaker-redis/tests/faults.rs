//! Redis failing for real: killed, stalled with SIGSTOP, cut off by a proxy, flushed, its
//! scripts flushed, its keys corrupted. Protected calls never see a store error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use breaker_redis::{Breaker, Clock, Config, DegradedMode, ManualClock, State, TripPolicy};
use test_support::{ChaosProxy, RedisServer, wait_until};

use common::{T0, ms, redis_store, run, secs};

fn cfg() -> breaker_redis::ConfigBuilder {
    Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .open_timeout(secs(60))
        .store_timeout(ms(100))
        .retry_backoff(ms(200))
}

async fn breaker(url: &str, cfg: Config, clock: Clock) -> Breaker {
    Breaker::builder("svc")
        .config(cfg)
        .store(redis_store(url).await)
        .clock(clock)
        .build()
        .unwrap()
}

/// Makes calls until the breaker is back on the shared state (a call after the back-off
/// probes Redis).
async fn until_shared_again(b: &Breaker) {
    wait_until(
        secs(15),
        "the breaker to use the shared state again",
        || async {
            if let Ok(p) = b.acquire().await {
                p.success().await;
            }
            !b.is_degraded()
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_local_breaker_protects_then_shared_state_resumes() {
    let mut server = RedisServer::start().unwrap();
    let a = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    let b = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&a, "S").await;
    server.kill();
    run(&a, "FF").await; // admitted by the local breaker, which counts the failures
    assert!(a.is_degraded());
    let rejected = a.acquire().await.expect_err("the local breaker has opened");
    assert_eq!(rejected.state, State::Open);
    run(&b, "S").await; // b's local breaker is its own

    server.restart().unwrap();
    until_shared_again(&a).await;
    until_shared_again(&b).await;
    let restarted = a.snapshot().await.unwrap().generation;
    run(&b, "FF").await;
    assert_eq!(
        a.acquire().await.unwrap_err().state,
        State::Open,
        "the circuit is shared again"
    );
    assert_eq!(a.snapshot().await.unwrap().generation, restarted + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_redis_costs_at_most_the_store_timeout() {
    let server = RedisServer::start().unwrap();
    let a = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&a, "S").await;
    server.pause();
    let mut worst = Duration::ZERO;
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < secs(1) && calls < 10_000 {
        let t = Instant::now();
        run(&a, "S").await;
        worst = worst.max(t.elapsed());
        calls += 1;
    }
    assert!(a.is_degraded());
    // A stalled Redis never answers; without the timeout the first call would hang for good.
    assert!(worst < secs(1), "slowest call took {worst:?}");
    assert!(calls > 5, "calls went on during the stall: {calls}");
    server.resume();
    until_shared_again(&a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_and_blackholed_network_degrades_and_recovers() {
    let server = RedisServer::start().unwrap();
    let proxy = ChaosProxy::for_server(&server).await.unwrap();
    let a = breaker(&proxy.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&a, "S").await;
    proxy.break_all();
    run(&a, "SS").await;
    assert!(a.is_degraded());
    proxy.restore();
    until_shared_again(&a).await;
    proxy.blackhole();
    let t = Instant::now();
    run(&a, "SS").await;
    assert!(t.elapsed() < secs(2) && a.is_degraded());
    proxy.restore();
    until_shared_again(&a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_and_fail_closed_modes() {
    let mut server = RedisServer::start().unwrap();
    let open = breaker(
        &server.url(),
        cfg().degraded_mode(DegradedMode::FailOpen).build().unwrap(),
        Clock::Store,
    )
    .await;
    let closed = breaker(
        &server.url(),
        cfg()
            .degraded_mode(DegradedMode::FailClosed)
            .build()
            .unwrap(),
        Clock::Store,
    )
    .await;
    server.kill();
    run(&open, "FFFF").await; // everything admitted, nothing counted
    assert!(open.acquire().await.is_ok());
    let _ = closed.acquire().await; // the first call finds Redis gone
    let rejected = closed
        .acquire()
        .await
        .expect_err("fail-closed rejects while Redis is down");
    assert_eq!(rejected.retry_after, Some(ms(200)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_during_half_open_leaves_a_fresh_circuit() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let a = breaker(
        &server.url(),
        cfg().build().unwrap(),
        Clock::Manual(clock.clone()),
    )
    .await;
    run(&a, "FF").await;
    clock.advance(secs(60));
    let trial = a.acquire().await.unwrap();
    assert_eq!(trial.state(), State::HalfOpen);
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("FLUSHALL").query_async(&mut con).await.unwrap();
    trial.failure().await; // from generation T0 + 2 of a circuit that no longer exists
    let snap = a.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.generation, snap.requests),
        (State::Closed, clock.now_ms(), 0),
        "a new circuit starts at the clock, above the flushed one's generations"
    );
    run(&a, "S").await;
    assert!(!a.is_degraded());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_flush_is_survived() {
    let server = RedisServer::start().unwrap();
    let a = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    run(&a, "S").await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut con)
        .await
        .unwrap();
    run(&a, "F").await;
    assert_eq!(a.snapshot().await.unwrap().failures, 1);
    assert!(
        !a.is_degraded(),
        "NOSCRIPT reloads the script instead of degrading"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_and_corrupted_keys_are_repaired() {
    let server = RedisServer::start().unwrap();
    let a = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let key = "breaker:{svc}";
    let corruptions: [&[&str]; 4] = [
        &["SET", key, "not a hash"],
        &["HSET", key, "state", "banana", "generation", "7"],
        &["HSET", key, "generation", "-3"],
        &["HSET", key, "forced", "open"],
    ];
    for cmd in corruptions {
        run(&a, "S").await; // a valid state first
        let mut c = redis::cmd(cmd[0]);
        for arg in &cmd[1..] {
            c.arg(*arg);
        }
        let _: redis::Value = c.query_async(&mut con).await.unwrap();
        let snap = a.snapshot().await.unwrap();
        assert!(snap.repaired, "{cmd:?} was reported");
        assert_eq!(snap.state, State::Closed, "{cmd:?}");
        run(&a, "S").await;
        let state: String = redis::cmd("HGET")
            .arg(key)
            .arg("state")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(state, "closed", "{cmd:?} left a readable hash");
        assert!(!a.is_degraded(), "{cmd:?} never became a store error");
    }
    let generation: u64 = redis::cmd("HGET")
        .arg(key)
        .arg("generation")
        .query_async(&mut con)
        .await
        .unwrap();
    assert!(generation >= 1, "a repair starts a new generation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_keep_the_degraded_flag_current_without_traffic() {
    let mut server = RedisServer::start().unwrap();
    let a = breaker(&server.url(), cfg().build().unwrap(), Clock::Store).await;
    assert!(a.snapshot().await.is_ok());
    server.kill();
    assert!(
        a.snapshot().await.is_err(),
        "an administrative read reports the store error"
    );
    assert!(
        a.is_degraded(),
        "and marks the replica degraded, with no protected call made"
    );
    server.restart().unwrap();
    wait_until(secs(15), "a snapshot to succeed again", || async {
        a.snapshot().await.is_ok()
    })
    .await
    .unwrap();
    assert!(!a.is_degraded());
}

/// The lease set only matters in half-open, so a foreign value there is found and replaced
/// when a trial permit is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_lease_set_is_replaced_when_half_open_needs_it() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let a = breaker(
        &server.url(),
        cfg().build().unwrap(),
        Clock::Manual(clock.clone()),
    )
    .await;
    run(&a, "FF").await;
    clock.advance(secs(60));
    let first = a.acquire().await.unwrap();
    assert_eq!(first.state(), State::HalfOpen);
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("SET")
        .arg("breaker:{svc}:leases")
        .arg("not a sorted set")
        .query_async(&mut con)
        .await
        .unwrap();
    let second = a
        .acquire()
        .await
        .expect("the foreign value is replaced, not an error");
    assert_eq!(second.state(), State::HalfOpen);
    assert!(!a.is_degraded());
    let kind: String = redis::cmd("TYPE")
        .arg("breaker:{svc}:leases")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(kind, "zset");
    drop(first);
    second.success().await;
}
