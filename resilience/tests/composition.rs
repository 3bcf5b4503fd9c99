//! The composition order (bulkhead → retry → breaker → time limit → call, see the `retry`
//! module docs) and its effects, on a real Redis-backed breaker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use breaker_redis::{BreakerLayer, CallError, State, TripPolicy};
use resilience::bulkhead::{Bulkhead, BulkheadLayer};
use resilience::retry::{BudgetPolicy, Retry, RetryLayer, RetryPolicy};
use resilience::time_limit::{Elapsed, TimeLimit, TimeLimitError};
use test_support::{RedisServer, wait_until};
use tower::{ServiceBuilder, ServiceExt};

use common::{Env, config, ms, secs};

const LIMIT: Duration = Duration::from_millis(30);

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(max_attempts)
        .base_delay(ms(5))
        .max_delay(ms(20))
        .no_budget()
        .build()
        .unwrap()
}

async fn failing(calls: &AtomicU32) -> Result<(), std::io::Error> {
    calls.fetch_add(1, Ordering::SeqCst);
    Err(std::io::Error::other("down"))
}

/// A dependency that never answers in time, counting the attempts that reach it.
async fn hanging(calls: Arc<AtomicU32>) -> Result<(), std::io::Error> {
    calls.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(secs(60)).await;
    Ok(())
}

#[tokio::test]
async fn a_retry_never_hammers_an_open_circuit() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("flaky"), cfg);
    let calls = AtomicU32::new(0);
    let err = Retry::new(policy(5))
        .call(&breaker, || failing(&calls))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Open(_)), "{err}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "two failures tripped it; no more calls"
    );
    assert_eq!(breaker.snapshot().await.unwrap().state, State::Open);
}

#[tokio::test]
async fn a_timed_out_attempt_is_one_failure_each() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(10))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("hangs"), cfg);
    let calls = Arc::new(AtomicU32::new(0));
    let limit = TimeLimit::new(LIMIT);
    let err = Retry::new(policy(3))
        .run(|| limit.call(&breaker, || hanging(calls.clone())))
        .await
        .unwrap_err();
    assert!(matches!(err, TimeLimitError::Elapsed(_)), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let snap = breaker.snapshot().await.unwrap();
    let counted = (snap.requests, snap.failures, snap.consecutive_failures);
    assert_eq!(counted, (3, 3, 3), "one failure per attempt: {snap:?}");
}

#[tokio::test]
async fn timeouts_trip_the_circuit_at_the_configured_count_and_end_the_retries() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("hangs-then-open"), cfg);
    let calls = Arc::new(AtomicU32::new(0));
    let limit = TimeLimit::new(LIMIT);
    let err = Retry::new(policy(5))
        .run(|| limit.call(&breaker, || hanging(calls.clone())))
        .await
        .unwrap_err();
    assert!(matches!(err, TimeLimitError::Open(_)), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retries_during_an_outage_stay_within_the_budget() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1000))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("outage"), cfg);
    let budget = BudgetPolicy {
        ratio: 0.2,
        min_per_sec: 0,
        window: secs(10),
    };
    let policy = RetryPolicy::builder()
        .max_attempts(3)
        .base_delay(ms(1))
        .budget(budget)
        .build()
        .unwrap();
    let retry = Retry::new(policy);
    let calls = AtomicU32::new(0);
    for _ in 0..20 {
        let err = retry.call(&breaker, || failing(&calls)).await.unwrap_err();
        assert!(matches!(err, CallError::Inner(_)));
    }
    let retries = calls.load(Ordering::SeqCst) - 20;
    assert!(
        (1..=4).contains(&retries),
        "at most 20 % of 20 calls, got {retries}"
    );
    let snap = breaker.snapshot().await.unwrap();
    assert_eq!(
        snap.failures,
        u64::from(20 + retries),
        "every attempt counted once"
    );
}

#[tokio::test]
async fn a_logical_call_holds_one_bulkhead_slot_through_its_retries() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let breaker = env.breaker(&env.name("slots"), config().build().unwrap());
    let bulkhead = Bulkhead::builder("slots")
        .max_concurrent(1)
        .build()
        .unwrap();
    let calls = AtomicU32::new(0);
    let retry = Retry::new(policy(3));
    let result = bulkhead
        .run(|| {
            retry.call(&breaker, || async {
                assert_eq!(
                    bulkhead.available(),
                    0,
                    "the slot is held, not taken per attempt"
                );
                assert!(bulkhead.acquire().await.is_err());
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(std::io::Error::other("transient")),
                    _ => Ok("done"),
                }
            })
        })
        .await;
    assert_eq!(result.unwrap().unwrap(), "done");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(bulkhead.available(), 1);
}

#[tokio::test]
async fn the_tower_stack_counts_each_timed_out_attempt_once() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(10))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("stack"), cfg);
    let calls = Arc::new(AtomicU32::new(0));
    let limit = TimeLimit::new(LIMIT);
    let counted = calls.clone();
    let svc = ServiceBuilder::new()
        .layer(BulkheadLayer::new(
            Bulkhead::builder("stack").build().unwrap(),
        ))
        .layer(RetryLayer::new(policy(3)))
        .layer(BreakerLayer::new(breaker.clone()).with_classifier(limit.classifier(&breaker)))
        .layer(limit)
        .service_fn(move |()| hanging(counted.clone()));
    let err = svc.oneshot(()).await.unwrap_err();
    assert!(
        matches!(err.downcast_ref::<CallError<tower::BoxError>>(), Some(CallError::Inner(e)) if e.is::<Elapsed>()),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // The breaker layer records in the background.
    wait_until(secs(5), "three failures, counted once each", || async {
        breaker
            .snapshot()
            .await
            .is_ok_and(|s| (s.requests, s.failures) == (3, 3))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn through_tower_an_open_circuit_is_asked_once_and_never_retried() {
    let server = RedisServer::start().unwrap();
    let env = Env::redis(&server).await;
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = env.breaker(&env.name("stack-open"), cfg);
    let (calls, attempts) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let (counted, tried) = (calls.clone(), attempts.clone());
    let svc = ServiceBuilder::new()
        .layer(RetryLayer::new(policy(5)))
        .map_request(move |req: ()| {
            tried.fetch_add(1, Ordering::SeqCst);
            req
        })
        .layer(BreakerLayer::new(breaker.clone()))
        .service_fn(move |()| {
            let counted = counted.clone();
            async move { failing(&counted).await }
        });
    let err = svc.clone().oneshot(()).await.unwrap_err();
    assert!(matches!(err, CallError::Open(_)), "{err}");
    // The layer counts a failure before it returns: the second failure trips the circuit
    // before the third attempt asks.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let (calls_before, attempts_before) = (
        calls.load(Ordering::SeqCst),
        attempts.load(Ordering::SeqCst),
    );
    let err = svc.oneshot(()).await.unwrap_err();
    assert!(matches!(err, CallError::Open(_)), "{err}");
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        attempts_before + 1,
        "asked once, not retried"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        calls_before,
        "the dependency was spared"
    );
}
