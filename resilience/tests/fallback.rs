//! Fallbacks: any closure, and `LastGood`, the last good response kept in Redis for every
//! replica, with a local copy for when Redis is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use breaker_redis::{Breaker, BreakerLayer, CallError, Config, RedisStore, TripPolicy};
use redis::AsyncCommands;
use resilience::fallback::{FallbackLayer, LastGood, with_fallback};
use serde::{Deserialize, Serialize};
use test_support::{RedisServer, wait_until};
use tower::{Service, ServiceBuilder, ServiceExt};

use common::{redis_store, secs};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Prices {
    currency: String,
    cents: Vec<u64>,
}

fn prices(n: u64) -> Prices {
    Prices {
        currency: "EUR".into(),
        cents: vec![n, n * 2],
    }
}

fn last_good(store: &RedisStore, name: &str, ttl: Duration) -> LastGood {
    LastGood::builder(name)
        .store(store)
        .ttl(ttl)
        .store_timeout(secs(2))
        .build()
        .unwrap()
}

async fn conn(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Waits until `lg` recalls `want` (the write to Redis happens in the background).
async fn until_recalled(lg: &LastGood, want: &Prices) {
    wait_until(secs(5), "the response to be recalled", || async {
        lg.recall::<Prices>().await.as_ref() == Some(want)
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn remembered_by_one_replica_recalled_by_another() {
    let server = RedisServer::start().unwrap();
    let one = last_good(&redis_store(&server.url()).await, "prices", secs(60));
    let two = last_good(&redis_store(&server.url()).await, "prices", secs(60));
    assert_eq!(one.redis_key(), "breaker:{prices}:last-good");
    assert_eq!(two.recall::<Prices>().await, None);

    one.remember(&prices(1));
    assert_eq!(
        one.recall().await,
        Some(prices(1)),
        "at once on the replica that remembered"
    );
    until_recalled(&two, &prices(1)).await;
    let pttl: i64 = conn(&server).await.pttl(one.redis_key()).await.unwrap();
    assert!(pttl > 0 && pttl <= 60_000, "PTTL {pttl}");

    for n in 2..50 {
        one.remember(&prices(n)); // faster than Redis answers: only the latest matters
    }
    until_recalled(&two, &prices(49)).await;
}

#[tokio::test]
async fn a_response_expires_after_its_ttl_everywhere() {
    let server = RedisServer::start().unwrap();
    let one = last_good(&redis_store(&server.url()).await, "short", secs(1));
    let two = last_good(&redis_store(&server.url()).await, "short", secs(1));
    one.remember(&prices(7));
    until_recalled(&two, &prices(7)).await;
    let mut c = conn(&server).await;
    let pttl: i64 = c.pttl(one.redis_key()).await.unwrap();
    assert!(pttl > 0 && pttl <= 1000, "PTTL {pttl}");
    wait_until(secs(5), "the response to expire", || async {
        two.recall::<Prices>().await.is_none() && one.recall::<Prices>().await.is_none()
    })
    .await
    .unwrap();
    assert!(!c.exists::<_, bool>(one.redis_key()).await.unwrap());
}

#[tokio::test]
async fn corrupt_or_foreign_values_read_as_none() {
    let server = RedisServer::start().unwrap();
    let lg = last_good(&redis_store(&server.url()).await, "corrupt", secs(60));
    let mut c = conn(&server).await;
    let _: () = c.set(lg.redis_key(), "{not json").await.unwrap();
    assert_eq!(lg.recall::<Prices>().await, None);
    let _: () = c.set(lg.redis_key(), r#"{"other":1}"#).await.unwrap();
    assert_eq!(lg.recall::<Prices>().await, None);
    let _: () = c
        .set(lg.redis_key(), &[0xff_u8, 0xfe, 0x00][..])
        .await
        .unwrap();
    assert_eq!(lg.recall::<Prices>().await, None);
    let _: () = c.del(lg.redis_key()).await.unwrap();
    let _: () = c.hset(lg.redis_key(), "field", "value").await.unwrap();
    assert_eq!(lg.recall::<Prices>().await, None);

    // Foreign data is not a failing Redis: a remembered response replaces it.
    let reader = last_good(&redis_store(&server.url()).await, "corrupt", secs(60));
    lg.remember(&prices(3));
    until_recalled(&reader, &prices(3)).await;
}

#[tokio::test]
async fn redis_down_serves_the_local_copy() {
    let mut server = RedisServer::start().unwrap();
    let one = last_good(&redis_store(&server.url()).await, "down", secs(60));
    let two = last_good(&redis_store(&server.url()).await, "down", secs(60));
    one.remember(&prices(5));
    until_recalled(&two, &prices(5)).await;

    server.kill();
    let recalled = tokio::time::timeout(secs(5), one.recall::<Prices>())
        .await
        .unwrap();
    assert_eq!(recalled, Some(prices(5)));
    assert_eq!(
        two.recall::<Prices>().await,
        None,
        "nothing remembered locally"
    );
    one.remember(&prices(6));
    assert_eq!(one.recall().await, Some(prices(6)));
}

fn breaker(store: RedisStore, name: &str) -> Breaker {
    let cfg = Config::builder()
        .trip(TripPolicy::consecutive_failures(100))
        .store_timeout(secs(2))
        .build()
        .unwrap();
    Breaker::builder(name)
        .config(cfg)
        .store(store)
        .build()
        .unwrap()
}

async fn fetch(fail: bool, n: u64) -> Result<Prices, io::Error> {
    if fail {
        Err(io::Error::other("upstream down"))
    } else {
        Ok(prices(n))
    }
}

#[tokio::test]
async fn the_fallback_answers_an_open_circuit_and_a_failed_call() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let b = breaker(store.clone(), "guarded");
    let lg = last_good(&store, "guarded", secs(60));

    let none_yet = with_fallback(|| b.call(|| fetch(true, 0)), lg.clone()).await;
    assert!(
        matches!(none_yet, Err(CallError::Inner(_))),
        "no answer: the error stays"
    );
    let fresh = with_fallback(|| b.call(|| fetch(false, 1)), lg.clone()).await;
    assert_eq!(fresh.unwrap(), prices(1));
    let failed = with_fallback(|| b.call(|| fetch(true, 2)), lg.clone()).await;
    assert_eq!(failed.unwrap(), prices(1), "inner failure answered");

    b.force_open().await.unwrap();
    let open = with_fallback(|| b.call(|| fetch(false, 3)), lg.clone()).await;
    assert_eq!(open.unwrap(), prices(1), "CallError::Open answered");

    let default = with_fallback(
        || b.call(|| fetch(false, 4)),
        |e: CallError<io::Error>| async move {
            assert!(matches!(e, CallError::Open(_)));
            Ok::<_, CallError<io::Error>>(prices(0))
        },
    )
    .await;
    assert_eq!(default.unwrap(), prices(0));
}

#[tokio::test]
async fn the_tower_layer_answers_with_the_last_good_response() {
    let server = RedisServer::start().unwrap();
    let store = redis_store(&server.url()).await;
    let b = breaker(store.clone(), "tower");
    let failing = Arc::new(AtomicBool::new(false));
    let inner = {
        let failing = failing.clone();
        tower::service_fn(move |n: u64| fetch(failing.load(Ordering::SeqCst), n))
    };
    let mut svc = ServiceBuilder::new()
        .layer(FallbackLayer::new(last_good(&store, "tower", secs(60))))
        .layer(BreakerLayer::new(b.clone()))
        .service(inner);
    assert_eq!(svc.ready().await.unwrap().call(1).await.unwrap(), prices(1));
    failing.store(true, Ordering::SeqCst);
    assert_eq!(svc.ready().await.unwrap().call(2).await.unwrap(), prices(1));
    failing.store(false, Ordering::SeqCst);
    b.force_open().await.unwrap();
    assert_eq!(svc.ready().await.unwrap().call(3).await.unwrap(), prices(1));

    let mut plain = ServiceBuilder::new()
        .layer(FallbackLayer::new(|_e: io::Error| async { Ok(prices(9)) }))
        .service(tower::service_fn(|n: u64| fetch(n > 0, n)));
    assert_eq!(
        plain.ready().await.unwrap().call(0).await.unwrap(),
        prices(0)
    );
    assert_eq!(
        plain.ready().await.unwrap().call(1).await.unwrap(),
        prices(9)
    );
}
