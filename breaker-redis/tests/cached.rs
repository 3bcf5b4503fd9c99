//! Cached admission on a real Redis: closed-state calls cost no round trip, outcomes arrive in
//! batches and still trip the circuit exactly once, other replicas learn of it through pub/sub,
//! and half-open admission stays exact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use breaker_redis::{Admission, Breaker, Clock, Config, ManualClock, State, TripPolicy};
use test_support::{RedisServer, wait_until};
use tokio::sync::Barrier;

use common::{T0, command_calls, config, redis_store, run, secs};

fn cached(trip: TripPolicy) -> Config {
    config()
        .trip(trip)
        .admission(Admission::cached())
        .build()
        .unwrap()
}

async fn replica(server: &RedisServer, cfg: &Config, clock: &Clock, id: &str) -> Breaker {
    let store = redis_store(&server.url()).await;
    let b = Breaker::builder("svc")
        .config(cfg.clone())
        .store(store)
        .clock(clock.clone())
        .replica_id(id)
        .build()
        .unwrap();
    b.listening().await; // the view is only trusted while transitions can reach it
    b
}

/// The scripts Redis has run, in either form.
async fn scripts_run(server: &RedisServer) -> u64 {
    let mut con = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut n = 0;
    for command in ["fcall", "evalsha", "eval"] {
        n += command_calls(&mut con, command).await;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_calls_cost_no_round_trip_and_every_outcome_is_counted() {
    let server = RedisServer::start().unwrap();
    let b = replica(
        &server,
        &cached(TripPolicy::failure_count(1000)),
        &Clock::Store,
        "a",
    )
    .await;
    run(&b, "S").await; // learns the shared state
    let before = scripts_run(&server).await;
    for _ in 0..2000 {
        b.acquire().await.unwrap().success().await;
    }
    let admitted_with = scripts_run(&server).await - before;
    assert!(
        admitted_with <= 100,
        "2000 calls ran {admitted_with} scripts"
    );
    wait_until(secs(5), "every outcome to be counted in Redis", || async {
        b.snapshot()
            .await
            .map(|s| s.requests == 2001)
            .unwrap_or(false)
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_failures_trip_once_and_every_replica_learns_it() {
    let server = RedisServer::start().unwrap();
    let cfg = cached(TripPolicy::consecutive_failures(3));
    let a = replica(&server, &cfg, &Clock::Store, "a").await;
    let b = replica(&server, &cfg, &Clock::Store, "b").await;
    run(&a, "S").await;
    run(&b, "S").await;
    let before = a.snapshot().await.unwrap().generation;
    let mut events = b.events();
    run(&a, "FFFFF").await; // admitted from the view; the batch trips the circuit in Redis
    wait_until(secs(5), "the circuit to open", || async {
        a.snapshot()
            .await
            .map(|s| s.state == State::Open)
            .unwrap_or(false)
    })
    .await
    .unwrap();
    let event = tokio::time::timeout(secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.to, event.generation, event.origin.as_str()),
        (State::Open, before + 1, "a")
    );
    assert_eq!(b.acquire().await.unwrap_err().state, State::Open);
    assert_eq!(a.acquire().await.unwrap_err().state, State::Open);
    assert_eq!(
        a.snapshot().await.unwrap().generation,
        before + 1,
        "one transition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_admission_stays_exact_fleet_wide() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(2)
        .admission(Admission::cached())
        .build()
        .unwrap();
    let mut fleet = Vec::new();
    for i in 0..4 {
        fleet.push(
            replica(
                &server,
                &cfg,
                &Clock::Manual(clock.clone()),
                &format!("r{i}"),
            )
            .await,
        );
    }
    run(&fleet[0], "F").await;
    wait_until(secs(5), "the trip to reach Redis", || async {
        fleet[1]
            .snapshot()
            .await
            .map(|s| s.state == State::Open)
            .unwrap_or(false)
    })
    .await
    .unwrap();
    clock.advance(secs(10));
    let barrier = Arc::new(Barrier::new(4 * 16));
    let mut tasks = Vec::new();
    for b in &fleet {
        for _ in 0..16 {
            let (b, barrier) = (b.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                b.acquire().await.ok()
            }));
        }
    }
    let mut held = Vec::new();
    for t in tasks {
        held.extend(t.await.unwrap());
    }
    assert_eq!(held.len(), 2, "exactly max_requests trial permits");
    assert!(held.iter().all(|p| p.state() == State::HalfOpen));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_degrades_and_comes_back() {
    let mut server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .admission(Admission::cached())
        .store_timeout(std::time::Duration::from_millis(100))
        .retry_backoff(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let a = replica(&server, &cfg, &Clock::Store, "a").await;
    run(&a, "S").await;
    server.kill();
    wait_until(
        secs(10),
        "the failed batch to degrade the replica",
        || async {
            if let Ok(p) = a.acquire().await {
                p.success().await;
            }
            a.is_degraded()
        },
    )
    .await
    .unwrap();
    run(&a, "FF").await; // the local breaker counts these
    assert_eq!(a.acquire().await.unwrap_err().state, State::Open);
    server.restart().unwrap();
    wait_until(secs(15), "the shared state to answer again", || async {
        a.snapshot().await.is_ok() && !a.is_degraded()
    })
    .await
    .unwrap();
    run(&a, "S").await;
}
