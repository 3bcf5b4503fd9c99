//! What the limiter leaves in Redis: one key per client with a TTL, one EVALSHA per check,
//! robust to foreign values and flushed scripts, and spread over a Redis Cluster.

use breaker_redis::{Clock, ManualClock, RedisStore};
use redis::AsyncCommands;
use resilience::rate_limit::RateLimiter;
use test_support::{RedisCluster, RedisServer, wait_until};

use crate::common::{T0, ms, options, redis_store, secs};
use crate::{admitted, command_calls, key, limiter, quota};

async fn conn(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_key_per_client_with_a_ttl_of_its_reset_time() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let l = limiter("pttl", &quota(3, 1000, 4), &store, &ManualClock::new(T0));
    let client = key("2001:db8::1");
    assert_eq!(l.redis_key(&client), "rate-limit:{pttl:2001:db8::1}");
    let mut c = conn(&server).await;

    let first = l.check(&client).await.unwrap();
    assert_eq!((first.remaining, first.reset_after), (3, ms(334)));
    let pttl: i64 = c.pttl(l.redis_key(&client)).await.unwrap();
    assert!(pttl > 0 && pttl <= 334, "PTTL {pttl}");
    // The TAT is T0 + 333 1/3 ms: whole ms and thirds.
    let raw: String = c.get(l.redis_key(&client)).await.unwrap();
    assert_eq!(raw, format!("{}:1", T0 + 333));

    assert_eq!(admitted(&l, &client, 5).await, 3);
    let full: i64 = c.pttl(l.redis_key(&client)).await.unwrap();
    assert_eq!(l.quota().burst_window(), ms(1334));
    assert!(full > 334 && full <= 1334, "PTTL {full}");
    let keys: Vec<String> = c.keys("rate-limit:*").await.unwrap();
    assert_eq!(keys, vec![l.redis_key(&client)]);
}

/// On Redis's own clock the key expires after the burst window, and the budget is whole again.
#[tokio::test]
async fn keys_expire_on_server_time_and_the_budget_refills() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let l = RateLimiter::builder("expiry")
        .config(quota(4, 1000, 4))
        .store(store)
        .build()
        .unwrap();
    let client = key("alice");
    assert_eq!(admitted(&l, &client, 4).await, 4);
    assert!(l.check(&client).await.is_err());
    let mut c = conn(&server).await;
    let redis_key = l.redis_key(&client);
    wait_until(secs(5), "the key to expire", || {
        let (mut c, k) = (c.clone(), redis_key.clone());
        async move { !c.exists::<_, bool>(k).await.unwrap() }
    })
    .await
    .unwrap();
    assert_eq!(admitted(&l, &client, 4).await, 4);
    let _: () = c.del(&redis_key).await.unwrap();
}

#[tokio::test]
async fn each_check_is_one_evalsha_round_trip() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let l = limiter(
        "trips",
        &quota(100, 1000, 100),
        &store,
        &ManualClock::new(T0),
    );
    l.load_script().await.unwrap();
    let client = server.client();
    let before = command_calls(&client, "evalsha").await;
    let loads = command_calls(&client, "script|load").await;
    assert_eq!(admitted(&l, &key("bob"), 150).await, 100);
    assert_eq!(command_calls(&client, "evalsha").await - before, 150);
    assert_eq!(command_calls(&client, "script|load").await, loads);
}

/// A foreign value (another type, garbage, a TAT far ahead with no TTL) reads as a full bucket
/// or at most one burst window; `SCRIPT FLUSH` is survived by reloading.
#[tokio::test]
async fn foreign_values_and_flushed_scripts_are_survived() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let l = limiter("robust", &quota(2, 1000, 2), &store, &ManualClock::new(T0));
    let mut c = conn(&server).await;
    let (a, b, far) = (key("a"), key("b"), key("far"));
    let _: () = c.hset(l.redis_key(&a), "x", 1).await.unwrap();
    let _: () = c.set(l.redis_key(&b), "not a tat").await.unwrap();
    let _: () = c
        .set(l.redis_key(&far), format!("{}:0", T0 + 86_400_000))
        .await
        .unwrap();
    assert_eq!(admitted(&l, &a, 3).await, 2);
    assert_eq!(admitted(&l, &b, 3).await, 2);
    let capped = l.check(&far).await.unwrap_err();
    assert_eq!(
        capped.retry_after,
        ms(500),
        "a TAT far ahead is capped at one burst window"
    );

    redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async::<()>(&mut c)
        .await
        .unwrap();
    let fresh = key("after-flush");
    assert!(l.check(&fresh).await.is_ok());
    assert!(!l.is_degraded());
}

/// The same script on a 3-node cluster: each client's key on its own slot, the keys of
/// different clients on different nodes, budgets shared by two connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_redis_cluster() {
    let cluster = RedisCluster::start().unwrap();
    let clock = ManualClock::new(T0);
    let cfg = quota(3, 1000, 3);
    let mut fleet = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::connect_cluster(&cluster.urls(), options())
            .await
            .unwrap();
        fleet.push(limiter("edge", &cfg, &store, &clock));
    }
    for i in 0..12 {
        let client = key(&format!("10.1.0.{i}"));
        assert_eq!(admitted(&fleet[0], &client, 2).await, 2);
        assert_eq!(
            admitted(&fleet[1], &client, 3).await,
            1,
            "client {i} shares one budget"
        );
    }
    let mut holding = 0;
    for node in cluster.nodes() {
        let mut c = node
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let n: u64 = redis::cmd("DBSIZE").query_async(&mut c).await.unwrap();
        holding += usize::from(n > 0);
    }
    assert!(holding >= 2, "12 clients' keys all landed on one node");
    let unclocked = RateLimiter::builder("edge-time")
        .config(cfg)
        .store(
            RedisStore::connect_cluster(&cluster.urls(), options())
                .await
                .unwrap(),
        )
        .clock(Clock::Store)
        .build()
        .unwrap();
    assert_eq!(admitted(&unclocked, &key("x"), 4).await, 3);
}
