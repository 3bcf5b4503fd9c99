//! The time limiter: a slow call is cancelled, counted as one failure (or as configured), and
//! never leaks a half-open lease. The lease tests run on a real Redis with two replicas.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use breaker_redis::{
    Breaker, BreakerLayer, CallError, Clock, Config, ManualClock, Outcome, State, TripPolicy,
};
use resilience::time_limit::{Elapsed, OnElapsed, TimeLimit, TimeLimitError};
use resilience::{call_with_timeout, time_limit};
use test_support::{RedisServer, wait_until};
use tower::{Layer, Service, ServiceExt, service_fn};

use common::{T0, config, ms, redis_store, secs};

const LIMIT: Duration = Duration::from_millis(30);

/// Sets its flag when dropped: shows that a timed-out call's future was cancelled.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A dependency that never answers in time.
async fn hang(flag: Arc<AtomicBool>) -> Result<(), std::io::Error> {
    let _guard = DropFlag(flag);
    tokio::time::sleep(secs(60)).await;
    Ok(())
}

async fn replica(server: &RedisServer, name: &str, cfg: &Config, clock: &ManualClock) -> Breaker {
    Breaker::builder(name)
        .config(cfg.clone())
        .store(redis_store(&server.url()).await)
        .clock(Clock::Manual(clock.clone()))
        .build()
        .unwrap()
}

/// Two replicas of a breaker that trips on one failure, half-open with one trial slot; the
/// circuit is made half-open-ready (tripped, open timeout passed).
async fn half_open_pair(server: &RedisServer, name: &str) -> (Breaker, Breaker) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .max_requests(1)
        .open_timeout(secs(10))
        .lease(secs(60))
        .build()
        .unwrap();
    let clock = ManualClock::new(T0);
    let a = replica(server, name, &cfg, &clock).await;
    let b = replica(server, name, &cfg, &clock).await;
    a.acquire().await.unwrap().failure().await;
    assert_eq!(a.snapshot().await.unwrap().state, State::Open);
    clock.advance(secs(11));
    (a, b)
}

#[tokio::test]
async fn timeouts_are_cancelled_failures_that_trip_the_breaker() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = replica(&server, "slow-dep", &cfg, &ManualClock::new(T0)).await;
    for _ in 0..2 {
        let cancelled = Arc::new(AtomicBool::new(false));
        let err = call_with_timeout(&breaker, LIMIT, || hang(cancelled.clone()))
            .await
            .unwrap_err();
        assert!(matches!(err, TimeLimitError::Elapsed(_)), "{err}");
        assert!(
            cancelled.load(Ordering::SeqCst),
            "the slow call was cancelled"
        );
    }
    let snap = breaker.snapshot().await.unwrap();
    assert_eq!(
        snap.state,
        State::Open,
        "two timeouts, two failures: {snap:?}"
    );
    let err = call_with_timeout(&breaker, LIMIT, || async { Ok::<_, std::io::Error>(()) })
        .await
        .unwrap_err();
    assert!(matches!(err, TimeLimitError::Open(_)), "{err}");
}

#[tokio::test]
async fn calls_in_time_count_as_their_result_says() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(5))
        .build()
        .unwrap();
    let breaker = replica(&server, "quick-dep", &cfg, &ManualClock::new(T0)).await;
    let ok = call_with_timeout(&breaker, secs(5), || async { Ok::<_, &str>(7) }).await;
    assert_eq!(ok.unwrap(), 7);
    let err = call_with_timeout(&breaker, secs(5), || async { Err::<(), _>("boom") })
        .await
        .unwrap_err();
    assert_eq!(err.into_inner(), Some("boom"));
    // The failure was recorded before the error came back; the success in the background.
    let snap = breaker.snapshot().await.unwrap();
    assert_eq!(snap.failures, 1);
    wait_until(secs(5), "both calls to be counted", || async {
        breaker
            .snapshot()
            .await
            .is_ok_and(|s| (s.requests, s.failures) == (2, 1))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_timed_out_trial_is_a_failure_and_holds_no_lease() {
    let server = RedisServer::start().unwrap();
    let (a, b) = half_open_pair(&server, "trial-failure").await;
    let flag = Arc::new(AtomicBool::new(false));
    let err = call_with_timeout(&a, LIMIT, || hang(flag))
        .await
        .unwrap_err();
    assert!(matches!(err, TimeLimitError::Elapsed(_)));
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.state, snap.in_flight), (State::Open, 0), "{snap:?}");
}

#[tokio::test]
async fn an_ignored_timeout_frees_the_trial_slot_at_once() {
    let server = RedisServer::start().unwrap();
    let (a, b) = half_open_pair(&server, "trial-ignored").await;
    let limit = TimeLimit::new(LIMIT).on_elapsed(OnElapsed::Ignored);
    let flag = Arc::new(AtomicBool::new(false));
    let err = limit.call(&a, || hang(flag)).await.unwrap_err();
    assert!(matches!(err, TimeLimitError::Elapsed(_)));
    let permit = b.acquire().await.expect("the trial slot is free again");
    assert_eq!(permit.state(), State::HalfOpen);
    permit.success().await;
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

#[tokio::test]
async fn a_trial_cancelled_from_outside_frees_its_lease_for_another_replica() {
    let server = RedisServer::start().unwrap();
    let (a, b) = half_open_pair(&server, "trial-cancelled").await;
    let flag = Arc::new(AtomicBool::new(false));
    // The limit is outside the breaker: the whole call, permit included, is dropped.
    let cut = time_limit(LIMIT, a.call(|| hang(flag.clone()))).await;
    assert!(cut.is_err() && flag.load(Ordering::SeqCst));
    // The dropped permit frees its lease in the background; the lease itself lasts 60 s on
    // a clock that does not move, so only the release can make the slot free.
    wait_until(secs(5), "replica b to get the trial permit", || async {
        match b.acquire().await {
            Ok(permit) => {
                permit.success().await;
                true
            }
            Err(_) => false,
        }
    })
    .await
    .unwrap();
    assert_eq!(b.snapshot().await.unwrap().state, State::Closed);
}

#[tokio::test]
async fn the_layer_counts_elapsed_as_a_failure_through_the_classifier() {
    let cfg = Config::builder()
        .trip(TripPolicy::consecutive_failures(2))
        .build()
        .unwrap();
    let breaker = Breaker::builder("layered").config(cfg).build().unwrap();
    let limit = TimeLimit::new(LIMIT);
    let inner = service_fn(|delay: Duration| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, std::io::Error>(delay)
    });
    let mut svc = BreakerLayer::new(breaker.clone())
        .with_classifier(limit.classifier(&breaker))
        .layer(limit.layer(inner));
    assert_eq!(svc.ready().await.unwrap().call(ms(1)).await.unwrap(), ms(1));
    for _ in 0..2 {
        let err = svc.ready().await.unwrap().call(secs(60)).await.unwrap_err();
        assert!(
            matches!(&err, CallError::Inner(e) if e.is::<Elapsed>()),
            "{err}"
        );
    }
    // The breaker layer records in the background.
    wait_until(secs(5), "the circuit to open", || async {
        breaker
            .snapshot()
            .await
            .is_ok_and(|s| s.state == State::Open)
    })
    .await
    .unwrap();
}

#[test]
fn a_slow_call_timeout_counts_only_when_the_breaker_counts_slow_calls() {
    let with_threshold = |threshold| {
        let cfg = Config::builder()
            .slow_call_threshold(threshold)
            .build()
            .unwrap();
        Breaker::builder("slow-calls").config(cfg).build().unwrap()
    };
    let slow = OnElapsed::SlowCall;
    assert_eq!(
        slow.outcome(&with_threshold(Some(ms(20))), ms(30)),
        Outcome::Failure
    );
    assert_eq!(
        slow.outcome(&with_threshold(Some(ms(50))), ms(30)),
        Outcome::Ignored
    );
    assert_eq!(
        slow.outcome(&with_threshold(None), ms(30)),
        Outcome::Ignored
    );
    let any = with_threshold(None);
    assert_eq!(OnElapsed::default().outcome(&any, ms(30)), Outcome::Failure);
    assert_eq!(OnElapsed::Ignored.outcome(&any, ms(30)), Outcome::Ignored);
}

#[tokio::test(start_paused = true)]
async fn time_limit_alone_returns_the_output_or_elapsed() {
    assert_eq!(time_limit(secs(1), async { 5 }).await.unwrap(), 5);
    let slow = time_limit(secs(1), tokio::time::sleep(secs(2))).await;
    assert_eq!(slow.unwrap_err().to_string(), "request timed out");
}
