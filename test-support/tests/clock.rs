//! A `redis-server` whose wall clock is off this machine's, through libfaketime.

use std::time::{SystemTime, UNIX_EPOCH};

use test_support::RedisServer;

fn server_time(server: &RedisServer) -> i64 {
    let mut con = server.client().get_connection().expect("connect");
    let (secs, _micros): (i64, i64) = redis::cmd("TIME").query(&mut con).expect("TIME");
    secs
}

#[test]
fn a_clock_offset_moves_redis_time_and_survives_a_restart() {
    let mut server = RedisServer::builder()
        .clock_offset(3 * 3600)
        .start()
        .expect("a redis-server with a skewed clock");
    let ours = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs() as i64
    };
    let skew = server_time(&server) - ours();
    assert!((skew - 3 * 3600).abs() < 60, "skew {skew} s");
    server.restart().expect("restart");
    let skew = server_time(&server) - ours();
    assert!(
        (skew - 3 * 3600).abs() < 60,
        "after a restart: skew {skew} s"
    );
}
