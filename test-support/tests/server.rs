//! `RedisServer` against real redis-server processes.

use std::time::{Duration, Instant};

use redis::Commands;
use test_support::{RedisServer, process_exists, wait_until, wait_until_blocking};

fn ping(server: &RedisServer) -> redis::RedisResult<String> {
    let mut con = server
        .client()
        .get_connection_with_timeout(Duration::from_secs(1))?;
    con.set_read_timeout(Some(Duration::from_secs(1)))?;
    redis::cmd("PING").query(&mut con)
}

#[test]
fn start_ping_and_drop_kills_the_process() {
    let started = Instant::now();
    let server = RedisServer::start().expect("start redis-server");
    eprintln!("started in {:?}", started.elapsed());
    assert_eq!(ping(&server).expect("PING"), "PONG");
    assert_eq!(
        server.url(),
        format!("redis://127.0.0.1:{}/", server.port())
    );
    assert!(server.is_running());
    let pid = server.pid();
    assert!(process_exists(pid));
    drop(server);
    assert!(
        !process_exists(pid),
        "redis-server {pid} still alive after drop"
    );
}

#[test]
fn two_servers_get_different_ports_and_separate_data() {
    let a = RedisServer::start().expect("start a");
    let b = RedisServer::start().expect("start b");
    assert_ne!(a.port(), b.port());
    let mut con_a = a.client().get_connection().expect("connect a");
    let mut con_b = b.client().get_connection().expect("connect b");
    let () = con_a.set("only-in-a", 1).expect("SET");
    let in_b: Option<i64> = con_b.get("only-in-a").expect("GET");
    assert_eq!(in_b, None);
}

#[test]
fn kill_then_restart_on_the_same_port_with_empty_data() {
    let mut server = RedisServer::start().expect("start");
    let (port, old_pid) = (server.port(), server.pid());
    let mut con = server.client().get_connection().expect("connect");
    let () = con.set("key", "value").expect("SET");

    server.kill();
    assert!(!server.is_running());
    assert!(!process_exists(old_pid));
    assert!(ping(&server).is_err(), "PING answered after kill");

    server.restart().expect("restart");
    assert_eq!(server.port(), port);
    assert_ne!(server.pid(), old_pid);
    let mut con = server.client().get_connection().expect("reconnect");
    let value: Option<String> = con.get("key").expect("GET");
    assert_eq!(value, None, "data survived the restart");
}

#[test]
fn restart_of_a_running_server_replaces_the_process() {
    let mut server = RedisServer::start().expect("start");
    let old_pid = server.pid();
    server.restart().expect("restart");
    assert!(!process_exists(old_pid));
    wait_until_blocking(Duration::from_secs(5), "PONG after restart", || {
        ping(&server).is_ok()
    })
    .expect("restarted server answers");
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_stalls_and_resume_answers() {
    let server = RedisServer::start().expect("start");
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_millis(200)));
    let mut con = server
        .client()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("connect");
    let pong: String = redis::cmd("PING")
        .query_async(&mut con)
        .await
        .expect("PING");
    assert_eq!(pong, "PONG");

    server.pause();
    let started = Instant::now();
    let stalled = redis::cmd("PING").query_async::<String>(&mut con).await;
    let err = stalled.expect_err("PING answered while paused");
    assert!(err.is_timeout(), "expected a timeout, got {err:?}");
    assert!(started.elapsed() >= Duration::from_millis(190));
    assert!(server.is_running(), "a paused server still runs");

    server.resume();
    wait_until(Duration::from_secs(5), "PING after resume", || {
        let mut con = con.clone();
        async move {
            redis::cmd("PING")
                .query_async::<String>(&mut con)
                .await
                .is_ok()
        }
    })
    .await
    .expect("the same connection answers after resume");
}

#[test]
fn drop_of_a_paused_server_kills_it() {
    let server = RedisServer::start().expect("start");
    let pid = server.pid();
    server.pause();
    drop(server);
    assert!(!process_exists(pid));
}

#[test]
fn extra_args_are_passed_to_the_server() {
    let server = RedisServer::start_with(&["--maxmemory", "12mb"]).expect("start");
    let mut con = server.client().get_connection().expect("connect");
    let config: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .expect("CONFIG GET");
    assert_eq!(config, ["maxmemory", &(12 * 1024 * 1024).to_string()]);
    assert!(server.log_tail().contains("Ready to accept connections"));
}

#[test]
fn a_bad_argument_fails_with_the_log_tail() {
    let err = RedisServer::builder()
        .args(["--no-such-option", "1"])
        .attempts(1)
        .start()
        .expect_err("started with a bad option");
    let message = format!("{err:#}");
    assert!(message.contains("no-such-option"), "{message}");
}
