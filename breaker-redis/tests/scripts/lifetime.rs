//! Key lifetimes and generations: a forced state lasts until reset, an active breaker's keys
//! never expire under traffic, and generations never go back.

use breaker_redis::{Forced, Outcome, State, TripPolicy};
use test_support::RedisServer;

use crate::common::{T0, config, run, secs};
use crate::{cli, setup, state_key};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_state_has_no_ttl_and_lasts_until_reset() {
    let server = RedisServer::start().unwrap();
    let (b, _, mut con) = setup(&server, "svc", config().build().unwrap()).await;
    let key = state_key("svc");
    b.force_open().await.unwrap();
    let ttl: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert_eq!(ttl, -1, "a forced state never expires");
    // A forced key that still carries a TTL (written by hand, or by an older script) loses it
    // at the next call, rather than vanishing while calls keep being rejected.
    let _: i64 = cli(&mut con, &["PEXPIRE", &key, "60000"]).await;
    let rejected = b.acquire().await.unwrap_err();
    assert_eq!(rejected.forced, Forced::Open);
    let ttl: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert_eq!(ttl, -1, "the call removed the TTL");
    b.reset().await.unwrap();
    let ttl: i64 = cli(&mut con, &["PTTL", &key]).await;
    assert!(
        ttl > DAY_MS / 2,
        "a reset breaker expires again when idle: {ttl}"
    );
}

/// Calls that write nothing (a closed admission, an ignored outcome, an open rejection) still
/// renew the key once half its TTL has passed since the last write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_an_active_breakers_keys_alive() {
    let server = RedisServer::start().unwrap();
    let ttl = secs(60);
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .key_ttl(ttl)
        .open_timeout(secs(50))
        .build()
        .unwrap();
    let (b, clock, mut con) = setup(&server, "svc", cfg).await;
    let key = state_key("svc");
    run(&b, "S").await;
    let steps: [(&str, &str); 3] = [
        ("closed", "acquire"),
        ("closed", "ignored"),
        ("open", "acquire"),
    ];
    for (state, call) in steps {
        if state == "open" {
            run(&b, "F").await;
        }
        // As if most of key_ttl had passed since the last write: on the breaker's clock, and
        // on the key's TTL in Redis.
        clock.advance(secs(40));
        let _: i64 = cli(&mut con, &["PEXPIRE", &key, "1000"]).await;
        match (state, call) {
            ("closed", "acquire") => std::mem::forget(b.acquire().await.unwrap()),
            ("closed", _) => b.acquire().await.unwrap().record(Outcome::Ignored).await,
            _ => assert_eq!(b.acquire().await.unwrap_err().state, State::Open),
        }
        let left: i64 = cli(&mut con, &["PTTL", &key]).await;
        assert!(left > 30_000, "{state} {call} renewed the TTL: {left}");
        // A call soon after a renewal writes nothing.
        clock.advance(secs(1));
        let _: i64 = cli(&mut con, &["PEXPIRE", &key, "50000"]).await;
        match state {
            "closed" => std::mem::forget(b.acquire().await.unwrap()),
            _ => assert_eq!(b.acquire().await.unwrap_err().state, State::Open),
        }
        let left: i64 = cli(&mut con, &["PTTL", &key]).await;
        assert!(
            left <= 50_000,
            "{state} {call}: renewed again at once: {left}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generations_only_grow_across_flushall_and_repair() {
    let server = RedisServer::start().unwrap();
    let cfg = config()
        .trip(TripPolicy::consecutive_failures(1))
        .build()
        .unwrap();
    let (b, clock, mut con) = setup(&server, "svc", cfg).await;
    run(&b, "F").await;
    let tripped = b.snapshot().await.unwrap().generation;
    let () = cli(&mut con, &["FLUSHALL"]).await;
    clock.advance(secs(1));
    let permit = b.acquire().await.unwrap();
    assert!(
        permit.generation() > tripped,
        "a new key starts after {tripped}, not at {}",
        permit.generation()
    );
    assert_eq!(
        permit.generation(),
        T0 + 1000,
        "a new key starts at the store's clock"
    );
    permit.success().await;

    // A repair starts after the stored generation when that one is ahead of the clock.
    let ahead = (T0 + 5_000_000).to_string();
    let _: i64 = cli(
        &mut con,
        &[
            "HSET",
            &state_key("svc"),
            "state",
            "banana",
            "generation",
            &ahead,
        ],
    )
    .await;
    let snap = b.snapshot().await.unwrap();
    assert!(snap.repaired);
    assert_eq!(snap.generation, T0 + 5_000_001);
}
