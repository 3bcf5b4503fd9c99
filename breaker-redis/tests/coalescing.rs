//! A strict breaker's queued admissions and outcomes travel together in one exchange script
//! per round trip (`lua/exchange.lua`). These tests hold that to what one-by-one calls
//! guarantee: half-open trial permits stay exact fleet-wide, every outcome counts once (none
//! lost, none twice, none from before a restart), and the scripts run as Redis Functions,
//! loaded again when Redis loses them, or with EVALSHA where functions are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use breaker_redis::{Breaker, Clock, Config, ManualClock, State, TripPolicy};
use redis::aio::MultiplexedConnection;
use test_support::{RedisServer, wait_until};
use tokio::sync::Barrier;

use common::{T0, cli, command_calls, config, redis_store, replicas, secs};

async fn connection(server: &RedisServer) -> MultiplexedConnection {
    server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Waits until the shared window has counted `n` calls, and checks it counted no more.
async fn wait_for_requests(b: &Breaker, n: u64) {
    wait_until(secs(20), &format!("{n} requests counted"), || async {
        b.snapshot().await.unwrap().requests >= n
    })
    .await
    .unwrap();
    assert_eq!(b.snapshot().await.unwrap().requests, n);
}

/// A window that neither trips nor resets during a test.
fn counting() -> Config {
    config()
        .trip(TripPolicy::failure_count(1_000_000))
        .interval(Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// Four replicas of sixteen tasks each keep asking for trial permits, and give them back as
/// soon as they got them: some waiting for the outcome to land, others in the background
/// (the outcomes that wait for an admission to travel with). However the exchanges group
/// them, no more than max_requests trial calls are ever in flight fleet-wide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trial_permits_stay_exact_when_exchanges_carry_many_replicas_tasks() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(3)
        .success_threshold(1_000)
        .build()
        .unwrap();
    let replicas = replicas(&server.url(), "svc", &cfg, &Clock::Manual(clock.clone()), 4).await;
    common::run(&replicas[0], "F").await;
    clock.advance(secs(10));

    let (in_flight, peak, trials) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let barrier = Arc::new(Barrier::new(4 * 16));
    let mut tasks = Vec::new();
    for (r, b) in replicas.iter().enumerate() {
        for t in 0..16 {
            let (b, barrier) = (b.clone(), barrier.clone());
            let (in_flight, peak, trials) = (in_flight.clone(), peak.clone(), trials.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                for _ in 0..25 {
                    let Ok(permit) = b.acquire().await else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    assert_eq!(permit.state(), State::HalfOpen);
                    trials.fetch_add(1, Ordering::SeqCst);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    if (r + t) % 2 == 0 {
                        permit.success().await;
                    } else {
                        permit.record_in_background(breaker_redis::Outcome::Success);
                    }
                }
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
    assert!(trials > 3, "freed permits were given out again: {trials}");
}

/// Three replicas of sixteen tasks make 40 calls each through `Breaker::call` (whose
/// successes go in the background): every outcome is counted exactly once, and the calls
/// took fewer scripts than calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_counts_once_and_calls_share_scripts() {
    let server = RedisServer::start().unwrap();
    let mut con = connection(&server).await;
    let replicas = replicas(&server.url(), "svc", &counting(), &Clock::Store, 3).await;
    let before = command_calls(&mut con, "fcall").await;
    let mut tasks = Vec::new();
    for b in &replicas {
        for _ in 0..16 {
            let b = b.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..40 {
                    b.call(|| async { Ok::<_, ()>(()) }).await.unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = 3 * 16 * 40;
    wait_for_requests(&replicas[0], total).await;
    let scripts = command_calls(&mut con, "fcall").await - before;
    assert!(
        scripts < total,
        "{scripts} scripts for {total} calls: exchanges should carry several calls"
    );
    assert!(replicas.iter().all(|b| !b.is_degraded()));
}

/// Outcomes around a Redis restart (without persistence, so the restarted Redis starts
/// empty): those recorded while Redis is down go to the local breaker and are never sent
/// later; permits admitted before the restart and recorded after it count nothing (another
/// generation); and the calls after it count exactly once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_around_a_restart_count_once_and_only_in_their_generation() {
    let mut server = RedisServer::start().unwrap();
    let cfg = Config::builder()
        .trip(TripPolicy::failure_count(1_000_000))
        .interval(Duration::from_secs(3600))
        .store_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(100))
        .build()
        .unwrap();
    let b = replicas(&server.url(), "svc", &cfg, &Clock::Store, 1)
        .await
        .remove(0);
    let spread = |b: &Breaker, n: usize| {
        let b = b.clone();
        async move {
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let b = b.clone();
                    tokio::spawn(async move {
                        for _ in 0..n {
                            b.call(|| async { Ok::<_, ()>(()) }).await.unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    spread(&b, 25).await;
    wait_for_requests(&b, 200).await;
    let held: Vec<_> = {
        let mut held = Vec::new();
        for _ in 0..10 {
            held.push(b.acquire().await.unwrap());
        }
        held
    };

    server.kill();
    spread(&b, 25).await; // Redis down: counted by the local breaker
    assert!(b.is_degraded());
    server.restart().unwrap();
    wait_until(secs(20), "the shared store to be used again", || async {
        b.snapshot().await.is_ok() && !b.is_degraded()
    })
    .await
    .unwrap();

    for permit in held {
        permit.success().await; // admitted under the old generation: stale
    }
    spread(&b, 25).await;
    wait_for_requests(&b, 200).await;
}

/// `FUNCTION FLUSH` (or a restart without the library) is survived: the next call loads the
/// library again and is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_function_library_is_loaded_again() {
    let server = RedisServer::start().unwrap();
    let mut con = connection(&server).await;
    let store = redis_store(&server.url()).await;
    assert!(store.uses_functions());
    let b = Breaker::builder("svc")
        .config(counting())
        .store(store.clone())
        .build()
        .unwrap();
    common::run(&b, "SS").await;
    let () = cli(&mut con, &["FUNCTION", "FLUSH"]).await;
    common::run(&b, "SSS").await;
    wait_for_requests(&b, 5).await;
    assert!(store.uses_functions() && !b.is_degraded());
    let libraries: redis::Value = cli(&mut con, &["FUNCTION", "LIST"]).await;
    assert!(
        format!("{libraries:?}").contains("breaker_"),
        "{libraries:?}"
    );
}

/// A Redis user that may not load or call functions still gets a working breaker: the
/// scripts run with EVALSHA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_functions_runs_the_scripts_with_evalsha() {
    let server = RedisServer::start().unwrap();
    let mut con = connection(&server).await;
    let () = cli(
        &mut con,
        &[
            "ACL",
            "SETUSER",
            "nofunc",
            "on",
            ">secret",
            "~*",
            "&*",
            "+@all",
            "-function",
            "-fcall",
            "-fcall_ro",
        ],
    )
    .await;
    let url = format!("redis://nofunc:secret@127.0.0.1:{}/", server.port());
    let store = redis_store(&url).await;
    assert!(!store.uses_functions());
    let b = Breaker::builder("svc")
        .config(counting())
        .store(store)
        .build()
        .unwrap();
    let before = command_calls(&mut con, "evalsha").await;
    common::run(&b, "SSSS").await;
    wait_for_requests(&b, 4).await;
    assert!(command_calls(&mut con, "evalsha").await > before);
    assert_eq!(command_calls(&mut con, "fcall").await, 0);
    assert!(!b.is_degraded());
}

/// Callers that give up while their exchange is in flight (an acquire polled once, so its
/// exchange is sent, and dropped while other tasks queue behind it) take nobody else's operations down with them: every outcome of the calls that went
/// through is counted once, and none was sent to the local breaker instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_caller_does_not_lose_the_operations_queued_behind_it() {
    let server = RedisServer::start().unwrap();
    let b = replicas(&server.url(), "svc", &counting(), &Clock::Store, 1)
        .await
        .remove(0);
    let completed = Arc::new(AtomicUsize::new(0));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let (b, completed, cancelled) = (b.clone(), completed.clone(), cancelled.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..40u64 {
                if (t + i) % 3 == 0 {
                    // Gives up right after its first poll, which sent its exchange.
                    let mut acquire = Box::pin(b.acquire());
                    let first = {
                        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                        acquire.as_mut().poll(&mut cx)
                    };
                    let gave_up = match first {
                        std::task::Poll::Ready(r) => Some(r),
                        std::task::Poll::Pending => {
                            // Other tasks queue their operations behind it meanwhile.
                            for _ in 0..3 {
                                tokio::task::yield_now().await;
                            }
                            drop(acquire);
                            None
                        }
                    };
                    match gave_up {
                        Some(Ok(permit)) => {
                            permit.success().await;
                            completed.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(Err(open)) => panic!("rejected: {open}"),
                        None => {
                            cancelled.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                } else {
                    b.acquire().await.unwrap().success().await;
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        cancelled.load(Ordering::SeqCst) > 0,
        "no acquire was cancelled"
    );
    wait_for_requests(&b, completed.load(Ordering::SeqCst) as u64).await;
    assert!(!b.is_degraded());
}
