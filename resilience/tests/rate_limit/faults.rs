//! Redis down or stalled: each replica limits on its own with the same quota, never returns an
//! error, and shares budgets again once Redis answers.

use std::time::Duration;

use breaker_redis::RedisStore;
use resilience::rate_limit::{RateLimitConfig, RateLimiter};
use test_support::{RedisServer, wait_until};

use crate::common::{ms, redis_store, secs};
use crate::{admitted, key};

/// 3 an hour: the local limiter's real clock refills nothing during the test.
fn cfg(backoff: Duration) -> RateLimitConfig {
    RateLimitConfig::builder()
        .rate(3, Duration::from_secs(3600))
        .store_timeout(Duration::from_millis(300))
        .retry_backoff(backoff)
        .build()
        .unwrap()
}

async fn replica(store: RedisStore, backoff: Duration) -> RateLimiter {
    RateLimiter::builder("faults")
        .config(cfg(backoff))
        .store(store)
        .build()
        .unwrap()
}

/// Checks until one is decided by Redis again.
async fn until_shared(l: &RateLimiter) {
    wait_until(secs(10), "the limiter to use Redis again", || async {
        let probe = l.check(&key("probe")).await;
        !l.is_degraded() && probe.is_ok_and(|a| !a.degraded)
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_then_local_limits_per_replica_then_shared_again() {
    let mut server = RedisServer::start().unwrap();
    let fleet = [
        replica(redis_store(&server.url()).await, ms(100)).await,
        replica(redis_store(&server.url()).await, ms(100)).await,
    ];
    assert_eq!(admitted(&fleet[0], &key("k1"), 2).await, 2);
    assert_eq!(
        admitted(&fleet[1], &key("k1"), 2).await,
        1,
        "shared while Redis is up"
    );

    server.kill();
    for l in &fleet {
        let client = key("k2");
        for remaining in [2, 1, 0] {
            let a = tokio::time::timeout(secs(5), l.check(&client))
                .await
                .unwrap()
                .unwrap();
            assert!(a.degraded);
            assert_eq!(a.remaining, remaining);
        }
        let limited = l.check(&client).await.unwrap_err();
        assert!(
            limited.retry_after > Duration::from_secs(19 * 60),
            "{limited:?}"
        );
        assert!(l.is_degraded());
    }

    server.restart().unwrap();
    for l in &fleet {
        until_shared(l).await;
    }
    assert_eq!(admitted(&fleet[0], &key("k3"), 3).await, 3);
    assert_eq!(admitted(&fleet[1], &key("k3"), 3).await, 0, "shared again");
}

/// A stalled Redis (SIGSTOP) costs one store timeout, then the back-off skips it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_redis_costs_the_store_timeout_once() {
    let server = RedisServer::start().unwrap();
    // A back-off longer than the checks below take, however loaded the machine.
    let l = replica(redis_store(&server.url()).await, secs(2)).await;
    assert!(!l.check(&key("warm")).await.unwrap().degraded);

    server.pause();
    let client = key("stalled");
    let started = tokio::time::Instant::now();
    let first = l.check(&client).await.unwrap();
    assert!(first.degraded);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let skipped = tokio::time::Instant::now();
    assert_eq!(admitted(&l, &client, 5).await, 2, "3 in all, locally");
    assert!(
        skipped.elapsed() < Duration::from_millis(300),
        "the back-off skips Redis"
    );

    server.resume();
    until_shared(&l).await;
}
