//! Several `Breaker`s, each with its own Redis connection, standing in for replicas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use breaker_redis::{Clock, ManualClock, Scope, State, TripPolicy};
use test_support::{RedisServer, wait_until};
use tokio::sync::Barrier;

use common::{T0, config, ms, replicas, secs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_on_eight_replicas_make_one_transition_and_one_event_each() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::failure_ratio(0.5, 10))
        .build()
        .unwrap();
    let fleet = replicas(&server.url(), "svc", &cfg, &Clock::Store, 8).await;
    let mut streams: Vec<_> = fleet.iter().map(|b| b.events()).collect();
    for b in &fleet {
        b.listening().await;
    }
    let barrier = Arc::new(Barrier::new(64));
    let mut tasks = Vec::new();
    for b in &fleet {
        for _ in 0..8 {
            let (b, barrier) = (b.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                let permit = b.acquire().await.unwrap();
                let admitted_under = permit.generation();
                barrier.wait().await;
                permit.failure().await;
                admitted_under
            }));
        }
    }
    let mut generations = HashSet::new();
    for t in tasks {
        generations.insert(t.await.unwrap());
    }
    let admitted_under: Vec<u64> = generations.into_iter().collect();
    assert_eq!(
        admitted_under.len(),
        1,
        "every call admitted under one generation"
    );
    let tripped = admitted_under[0] + 1;
    let snap = fleet[0].snapshot().await.unwrap();
    assert_eq!((snap.state, snap.generation), (State::Open, tripped));
    let mut made_here = 0;
    for s in &mut streams {
        let e = tokio::time::timeout(secs(5), s.recv())
            .await
            .expect("an event on every replica")
            .unwrap();
        assert_eq!((e.to, e.generation), (State::Open, tripped));
        made_here += usize::from(e.scope == Scope::Shared);
        assert!(s.try_recv().is_err(), "one event per replica");
    }
    assert_eq!(made_here, 1);
}

/// 8 replicas x 32 tasks rush in at the end of the open period: never more than
/// `max_requests` trial calls in flight fleet-wide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stampede_at_the_end_of_the_open_period_admits_at_most_max_requests() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(3)
        .build()
        .unwrap();
    let fleet = replicas(&server.url(), "svc", &cfg, &Clock::Manual(clock.clone()), 8).await;
    common::run(&fleet[0], "F").await;
    clock.advance(secs(10));

    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let trials = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8 * 32));
    let mut tasks = Vec::new();
    for b in &fleet {
        for _ in 0..32 {
            let (b, barrier) = (b.clone(), barrier.clone());
            let (in_flight, peak, trials) = (in_flight.clone(), peak.clone(), trials.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let Ok(permit) = b.acquire().await else {
                    return;
                };
                if permit.state() != State::HalfOpen {
                    return permit.success().await;
                }
                trials.fetch_add(1, Ordering::SeqCst);
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                permit.success().await;
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=3).contains(&peak),
        "peak trial calls in flight: {peak}"
    );
    let trials = trials.load(Ordering::SeqCst);
    assert!(
        (3..=5).contains(&trials),
        "three successes close the circuit; a freed slot may admit two more: {trials}"
    );
    assert_eq!(fleet[3].snapshot().await.unwrap().state, State::Closed);
}

/// Trial permits held (never recorded) while everyone asks: exactly `max_requests` are admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_trial_permits_block_every_other_replica() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(3)
        .build()
        .unwrap();
    let fleet = replicas(&server.url(), "svc", &cfg, &Clock::Manual(clock.clone()), 8).await;
    common::run(&fleet[0], "F").await;
    clock.advance(secs(10));
    let mut tasks = Vec::new();
    for b in &fleet {
        for _ in 0..32 {
            let b = b.clone();
            tasks.push(tokio::spawn(async move { b.acquire().await.ok() }));
        }
    }
    let mut held = Vec::new();
    for t in tasks {
        held.extend(t.await.unwrap());
    }
    assert_eq!(held.len(), 3);
    assert_eq!(fleet[5].snapshot().await.unwrap().in_flight, 3);
}

/// A call cancelled mid-flight (its future dropped by a timeout) frees its trial permit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_trial_call_does_not_wedge_half_open() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(1)
        .lease(secs(3600))
        .build()
        .unwrap();
    let fleet = replicas(&server.url(), "svc", &cfg, &Clock::Manual(clock.clone()), 2).await;
    common::run(&fleet[0], "F").await;
    clock.advance(secs(10));
    let hung = fleet[0].call(std::future::pending::<Result<(), ()>>);
    assert!(
        tokio::time::timeout(ms(100), hung).await.is_err(),
        "the call never finishes"
    );
    wait_until(
        secs(5),
        "the cancelled call's permit to be freed",
        || async { fleet[1].acquire().await.is_ok() },
    )
    .await
    .unwrap();
}
