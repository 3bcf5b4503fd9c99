//! `ChaosProxy` in front of a real redis-server.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use test_support::{ChaosProxy, RedisServer, wait_until};

async fn connect(url: &str) -> redis::RedisResult<MultiplexedConnection> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_millis(200)));
    redis::Client::open(url)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

async fn ping(con: &mut MultiplexedConnection) -> redis::RedisResult<String> {
    redis::cmd("PING").query_async(con).await
}

#[tokio::test(flavor = "multi_thread")]
async fn break_all_fails_and_restore_lets_new_connections_through() {
    let server = RedisServer::start().expect("start");
    let proxy = ChaosProxy::for_server(&server).await.expect("proxy");
    let mut con = connect(&proxy.url()).await.expect("connect via proxy");
    assert_eq!(ping(&mut con).await.expect("PING via proxy"), "PONG");
    assert_eq!(proxy.live_connections(), 1);

    proxy.break_all();
    let err = ping(&mut con)
        .await
        .expect_err("PING passed a broken proxy");
    assert!(!err.is_timeout(), "a break should fail fast, got {err:?}");
    // Depending on timing the handshake or the first command hits the dropped socket.
    let fresh_works = match connect(&proxy.url()).await {
        Ok(mut fresh) => ping(&mut fresh).await.is_ok(),
        Err(_) => false,
    };
    assert!(
        !fresh_works,
        "a new connection worked through a broken proxy"
    );
    wait_until(
        Duration::from_secs(5),
        "broken connections to close",
        || async { proxy.live_connections() == 0 },
    )
    .await
    .expect("connections closed");

    proxy.restore();
    let mut fresh = connect(&proxy.url()).await.expect("connect after restore");
    assert_eq!(ping(&mut fresh).await.expect("PING after restore"), "PONG");
}

#[tokio::test(flavor = "multi_thread")]
async fn break_then_immediate_restore_still_closes_old_connections() {
    let server = RedisServer::start().expect("start");
    let proxy = ChaosProxy::for_server(&server).await.expect("proxy");
    let mut con = connect(&proxy.url()).await.expect("connect");
    ping(&mut con).await.expect("PING");
    proxy.break_all();
    proxy.restore();
    assert!(
        ping(&mut con).await.is_err(),
        "old connection survived break_all"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn blackhole_stalls_until_restore() {
    let server = RedisServer::start().expect("start");
    let proxy = ChaosProxy::for_server(&server).await.expect("proxy");
    let mut con = connect(&proxy.url()).await.expect("connect");
    ping(&mut con).await.expect("PING");

    proxy.blackhole();
    let err = ping(&mut con).await.expect_err("PING passed a blackhole");
    assert!(err.is_timeout(), "expected a timeout, got {err:?}");
    assert_eq!(
        proxy.live_connections(),
        1,
        "a blackhole keeps connections open"
    );

    proxy.restore();
    wait_until(Duration::from_secs(5), "PING after restore", || {
        let mut con = con.clone();
        async move { ping(&mut con).await.is_ok() }
    })
    .await
    .expect("the same connection works again");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_delay_slows_each_round_trip() {
    let server = RedisServer::start().expect("start");
    let proxy = ChaosProxy::for_server(&server).await.expect("proxy");
    let mut con = connect(&proxy.url()).await.expect("connect");
    proxy.set_delay(Duration::from_millis(50));
    let started = Instant::now();
    ping(&mut con).await.expect("delayed PING");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(100),
        "round trip took {elapsed:?}"
    );
    proxy.restore();
    let started = Instant::now();
    ping(&mut con).await.expect("PING");
    assert!(started.elapsed() < Duration::from_millis(50));
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_closes_connections() {
    let server = RedisServer::start().expect("start");
    let proxy = ChaosProxy::for_server(&server).await.expect("proxy");
    let url = proxy.url();
    let mut con = connect(&url).await.expect("connect");
    ping(&mut con).await.expect("PING");
    drop(proxy);
    wait_until(
        Duration::from_secs(5),
        "the proxied connection to fail",
        || {
            let mut con = con.clone();
            async move { ping(&mut con).await.is_err() }
        },
    )
    .await
    .expect("connection closed by drop");
    assert!(connect(&url).await.is_err(), "the proxy still accepts");
}
