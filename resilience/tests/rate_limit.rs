//! The shared rate limiter: GCRA in Redis, exact across replicas, degraded to a per-replica
//! `governor` limiter while Redis is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "rate_limit/config.rs"]
mod config;
#[path = "rate_limit/exactness.rs"]
mod exactness;
#[path = "rate_limit/faults.rs"]
mod faults;
#[path = "rate_limit/local.rs"]
mod local;
#[path = "rate_limit/redis.rs"]
mod redis_keys;

use std::time::Duration;

use breaker_redis::{Clock, ManualClock, RedisStore};
use resilience::rate_limit::{ClientKey, RateLimitConfig, RateLimiter};

/// `count` calls per `period_ms`, `burst` at once, with a generous store timeout.
pub fn quota(count: u32, period_ms: u64, burst: u32) -> RateLimitConfig {
    RateLimitConfig::builder()
        .rate(count, Duration::from_millis(period_ms))
        .burst(burst)
        .store_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A limiter on `store` ("a replica"), on the shared manual clock.
pub fn limiter(
    name: &str,
    cfg: &RateLimitConfig,
    store: &RedisStore,
    clock: &ManualClock,
) -> RateLimiter {
    RateLimiter::builder(name)
        .config(cfg.clone())
        .store(store.clone())
        .clock(Clock::Manual(clock.clone()))
        .build()
        .unwrap()
}

/// A valid client key.
pub fn key(s: &str) -> ClientKey {
    ClientKey::new(s).unwrap()
}

/// `n` checks in a row for `client`; how many were admitted.
pub async fn admitted(limiter: &RateLimiter, client: &ClientKey, n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        ok += usize::from(limiter.check(client).await.is_ok());
    }
    ok
}

/// How many times Redis ran `command`, from `INFO commandstats`.
pub async fn command_calls(client: &redis::Client, command: &str) -> u64 {
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}
