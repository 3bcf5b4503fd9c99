//! Exactness: several replicas (each a `RateLimiter` with its own connection) and many
//! concurrent tasks share one client's budget, on one injected clock.
//!
//! GCRA with emission interval `T = period / count` and tolerance `tau = (burst - 1) * T`
//! admits at most `burst + floor(d * count / period)` calls in any closed span of `d` ms: each
//! admission moves the TAT on by `T`, and a call is admitted only while the TAT is at most
//! `tau` ahead of now. Starting from a full bucket with more demand than supply at every step,
//! it admits exactly that many.

use std::sync::Arc;

use breaker_redis::ManualClock;
use resilience::rate_limit::RateLimiter;
use test_support::RedisServer;

use crate::common::{T0, ms, redis_store};
use crate::{key, limiter, quota};

const COUNT: u64 = 3;
const PERIOD_MS: u64 = 1000; // T = 333.3 ms: not a whole number of ms, on purpose
const BURST: u64 = 4;
const REPLICAS: usize = 3;
const TASKS_PER_REPLICA: usize = 6;
const CHECKS_PER_TASK: usize = 2;

/// The most calls GCRA admits within a closed span of `span_ms`.
fn bound(span_ms: u64) -> u64 {
    BURST + span_ms * COUNT / PERIOD_MS
}

/// The clock's steps: a fixed pseudo-random walk of 0 to 700 ms, with zero steps and steps
/// landing exactly on emission times mixed in.
fn steps(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|i| match i % 7 {
            3 => 0,
            5 => 1000,
            _ => {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 701
            }
        })
        .collect()
}

/// One step: every task of every replica checks at the same injected time.
/// Returns the admitted calls' `remaining` and the rejected calls' `retry_after` (ms).
async fn step(fleet: &[RateLimiter], client: &str) -> (Vec<u32>, Vec<u64>) {
    let mut tasks = Vec::new();
    for limiter in fleet {
        for _ in 0..TASKS_PER_REPLICA {
            let (limiter, client) = (limiter.clone(), key(client));
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..CHECKS_PER_TASK {
                    out.push(limiter.check(&client).await);
                }
                out
            }));
        }
    }
    let (mut remaining, mut retry) = (Vec::new(), Vec::new());
    for task in tasks {
        for result in task.await.unwrap() {
            match result {
                Ok(a) => remaining.push(a.remaining),
                Err(e) => retry.push(e.retry_after.as_millis() as u64),
            }
        }
    }
    (remaining, retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_never_admit_more_than_gcra_allows_and_reach_the_bound() {
    let server = RedisServer::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = quota(COUNT as u32, PERIOD_MS, BURST as u32);
    let mut fleet = Vec::new();
    for _ in 0..REPLICAS {
        let store = redis_store(&server.url()).await; // a connection of its own
        fleet.push(limiter("exact", &cfg, &store, &clock));
    }
    let demand = (REPLICAS * TASKS_PER_REPLICA * CHECKS_PER_TASK) as u64;
    assert!(
        demand > bound(700),
        "every step must have more demand than supply"
    );

    let (mut times, mut admitted) = (Vec::new(), Vec::new());
    for advance in steps(40) {
        clock.advance(ms(advance));
        let now = clock.now_ms() - T0;
        let (mut remaining, retry) = step(&fleet, "10.0.0.7").await;
        let total_before: u64 = admitted.iter().sum();
        let n = remaining.len() as u64;
        // At one instant each admission leaves one fewer; the last leaves none.
        remaining.sort_unstable();
        assert_eq!(
            remaining,
            (0..n as u32).collect::<Vec<_>>(),
            "remaining at {now} ms"
        );
        // Every rejection names the next admission time exactly: when the bound first grows
        // past the calls admitted so far.
        let start = times.first().copied().unwrap_or(now);
        let next = start + ((total_before + n + 1 - BURST) * PERIOD_MS).div_ceil(COUNT);
        let expected_retry = next - now;
        assert!(
            retry.iter().all(|r| *r == expected_retry),
            "retry_after at {now} ms: {retry:?}, want {expected_retry}"
        );
        times.push(now);
        admitted.push(n);
    }

    for i in 0..times.len() {
        let mut sum = 0;
        for j in i..times.len() {
            sum += admitted[j];
            let limit = bound(times[j] - times[i]);
            assert!(
                sum <= limit,
                "{sum} admitted in [{}, {}] ms; GCRA allows {limit}",
                times[i],
                times[j]
            );
            if i == 0 {
                assert_eq!(
                    sum, limit,
                    "the bound is reached from a full bucket at {} ms",
                    times[j]
                );
            }
        }
    }
    let total: u64 = admitted.iter().sum();
    assert_eq!(total, bound(times[times.len() - 1] - times[0]));
}

/// Admitted again exactly when `retry_after` has passed, not a millisecond earlier.
#[tokio::test]
async fn retry_after_is_exact() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let clock = ManualClock::new(T0);
    let l = limiter("retry", &quota(3, 1000, 2), &store, &clock);
    let client = key("user-42");
    assert_eq!(crate::admitted(&l, &client, 3).await, 2, "the burst");
    let mut waits = Vec::new();
    for _ in 0..6 {
        let wait = l.check(&client).await.unwrap_err().retry_after;
        clock.advance(wait - ms(1));
        let early = l.check(&client).await.unwrap_err();
        assert_eq!(early.retry_after, ms(1));
        clock.advance(ms(1));
        let allowance = l
            .check(&client)
            .await
            .expect("admitted once retry_after has passed");
        assert_eq!(allowance.remaining, 0);
        waits.push(wait.as_millis());
    }
    // T = 333 1/3 ms, rounded up to whole ms without drift: every three add up to 1000.
    assert_eq!(waits, [334, 333, 333, 334, 333, 333]);
}

/// Different clients, and different limiters, have budgets of their own.
#[tokio::test]
async fn separate_keys_do_not_share_budget() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let clock = ManualClock::new(T0);
    let cfg = quota(5, 60_000, 5);
    let api = Arc::new(limiter("api", &cfg, &store, &clock));
    let login = limiter("login", &cfg, &store, &clock);
    assert_eq!(crate::admitted(&api, &key("10.0.0.1"), 9).await, 5);
    assert_eq!(crate::admitted(&api, &key("10.0.0.2"), 9).await, 5);
    assert_eq!(crate::admitted(&api, &key("::ffff:10.0.0.1"), 9).await, 5);
    assert_eq!(crate::admitted(&login, &key("10.0.0.1"), 9).await, 5);
}
