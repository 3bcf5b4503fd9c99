//! The added latency of a protected call (acquire + record) next to one Redis PING round trip,
//! measured side by side in one run against a private redis-server on loopback.
//!
//! `cargo bench -p breaker-redis --bench overhead`

use std::hint::black_box;
use std::time::Duration;

use breaker_redis::{Breaker, Config, MemoryStore, RedisStore};
use criterion::{Criterion, criterion_group, criterion_main};
use test_support::RedisServer;

fn config() -> Config {
    // A store timeout long enough that a busy machine never pushes the bench into degraded mode.
    Config::builder()
        .store_timeout(Duration::from_secs(2))
        .build()
        .expect("valid config")
}

fn overhead(c: &mut Criterion) {
    let server = RedisServer::start().expect("redis-server (apt-get install redis-server)");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (mut ping_conn, redis_breaker) = rt.block_on(async {
        let conn = server
            .client()
            .get_multiplexed_async_connection()
            .await
            .expect("connection");
        let store = RedisStore::connect(&server.url()).await.expect("store");
        let breaker = Breaker::builder("bench")
            .config(config())
            .store(store)
            .build()
            .expect("breaker");
        (conn, breaker)
    });
    let memory_breaker = rt.block_on(async {
        Breaker::builder("bench")
            .config(config())
            .store(MemoryStore::new())
            .build()
            .expect("breaker")
    });

    let mut group = c.benchmark_group("protected-call");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("redis PING round trip", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = ping_conn.clone();
            async move {
                let pong: String = redis::cmd("PING")
                    .query_async(&mut conn)
                    .await
                    .expect("PING");
                black_box(pong)
            }
        })
    });
    group.bench_function("acquire + record, redis store (closed)", |b| {
        b.to_async(&rt).iter(|| async {
            let permit = redis_breaker
                .acquire()
                .await
                .expect("closed circuit admits");
            permit.success().await;
        })
    });
    group.bench_function("acquire + record, memory store (closed)", |b| {
        b.to_async(&rt).iter(|| async {
            let permit = memory_breaker
                .acquire()
                .await
                .expect("closed circuit admits");
            permit.success().await;
        })
    });
    group.finish();
    assert!(
        !redis_breaker.is_degraded(),
        "the bench must measure the shared path, not degraded mode"
    );
    let _ = &mut ping_conn;
}

criterion_group!(benches, overhead);
criterion_main!(benches);
