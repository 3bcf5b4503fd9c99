//! Contract cases about time: which window an outcome counts in, where generations start, and
//! what a rejection tells the caller about retrying.

use breaker_redis::{Config, State, TripPolicy};

use crate::common::{Env, T0, config, ms, run, secs};

/// A new breaker's first generation is the store's clock in ms, so that a breaker whose keys
/// were lost (FLUSHALL, expiry) never starts again below a generation replicas have seen.
pub async fn generations_start_at_the_store_clock(env: Env) {
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    let permit = b.acquire().await.unwrap();
    assert_eq!(permit.generation(), T0);
    permit.failure().await;
    assert_eq!(b.snapshot().await.unwrap().generation, T0 + 1);
}

/// Failures of calls admitted in one fixed window and recorded after it ended must not land
/// first in the next window (where the first few outcomes decide a ratio): each outcome counts
/// in the window its call was admitted in, or not at all once that window is over.
pub async fn late_outcomes_count_in_the_window_they_were_admitted_in(env: Env) {
    let cfg: Config = config().build().unwrap(); // >= 60 % of >= 3 calls, 5 s window
    let b = env.breaker(&env.name("svc"), cfg);
    let mut slow = Vec::new();
    for _ in 0..3 {
        slow.push(b.acquire().await.unwrap());
    }
    env.advance(secs(5));
    for permit in slow {
        permit.failure().await;
    }
    run(&b, "SSFSSFSSF").await; // the real failure rate: 33 %
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.requests, snap.failures),
        (State::Closed, 9, 3)
    );
}

/// In a rolling window an outcome counts in the bucket of its admission while that bucket is
/// still in the window.
pub async fn rolling_window_counts_outcomes_at_admission(env: Env) {
    let cfg = config()
        .trip(TripPolicy::failure_count(2))
        .rolling_window(secs(10), 10)
        .build()
        .unwrap();
    let b = env.breaker(&env.name("svc"), cfg);
    let early = b.acquire().await.unwrap(); // bucket 0
    let late = b.acquire().await.unwrap();
    env.advance(ms(9500));
    early.failure().await; // bucket 0 is still in the window
    run(&b, "S").await;
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.requests, snap.failures), (2, 1));
    env.advance(secs(1)); // bucket 0, and the failure with it, leaves the window
    let snap = b.snapshot().await.unwrap();
    assert_eq!((snap.requests, snap.failures), (1, 0));
    late.failure().await; // admitted in bucket 0, which has gone: not counted
    let snap = b.snapshot().await.unwrap();
    assert_eq!(
        (snap.state, snap.requests, snap.failures),
        (State::Closed, 1, 0)
    );
}

/// A full half-open circuit hints a short retry (a tenth of the lease, at most the open
/// timeout and at most until the first lease expires), not the whole lease: trial calls
/// usually end long before their lease.
pub async fn half_open_rejection_hints_a_short_retry(env: Env) {
    let cases = [
        (secs(10), secs(10), ms(0), secs(1)),
        (secs(10), ms(300), ms(0), ms(300)),
        (secs(10), secs(10), ms(9800), ms(200)),
    ];
    for (lease, timeout, wait, hint) in cases {
        let cfg = config()
            .trip(TripPolicy::consecutive_failures(1))
            .max_requests(1)
            .lease(lease)
            .open_timeout(timeout)
            .build()
            .unwrap();
        let b = env.breaker(&env.name("svc"), cfg);
        run(&b, "F").await;
        env.advance(timeout);
        let trial = b.acquire().await.unwrap();
        env.advance(wait);
        let full = b.acquire().await.unwrap_err();
        assert_eq!(
            (full.state, full.retry_after),
            (State::HalfOpen, Some(hint)),
            "lease {lease:?}, timeout {timeout:?}, {wait:?} into the lease"
        );
        trial.success().await;
    }
}
