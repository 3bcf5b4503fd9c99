//! The real binaries against a locked-down Redis: TLS only (mutual TLS, certificates from the
//! `REDIS_TLS_*` files), and the ACL user of `deploy/redis-acl.conf`; bad TLS settings stop
//! service-a at start, naming the variable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use common::procs::{self, Service};
use test_support::{RedisServer, TestCerts, wait_until};

const DEADLINE: Duration = Duration::from_secs(15);

fn service_a() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_service-a"))
}

/// The harness's own user, added to the deployed ACL file in tests only.
const ADMIN: (&str, &str) = ("harness", "harness-password");

/// `deploy/redis-acl.conf` plus a user for the harness.
pub fn acl_file(dir: &Path) -> std::path::PathBuf {
    let deployed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/redis-acl.conf"
    ))
    .expect("deploy/redis-acl.conf");
    let path = dir.join("users.acl");
    let admin = format!("user {} on >{} ~* &* +@all\n", ADMIN.0, ADMIN.1);
    std::fs::write(&path, deployed + &admin).expect("writing the ACL file");
    path
}

/// A Redis with the deployed users (and an admin for the test), and the directory holding its
/// ACL file (keep it while the server runs).
fn redis_with_the_deployed_acl() -> (RedisServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let acl = acl_file(dir.path());
    let redis = RedisServer::builder()
        .args(["--aclfile".to_owned(), acl.display().to_string()])
        .admin(ADMIN.0, ADMIN.1)
        .start()
        .unwrap();
    (redis, dir)
}

/// The services' user and password, as the deployed file defines them.
pub fn services_user() -> (String, String) {
    let deployed = include_str!("../../deploy/redis-acl.conf");
    let line = deployed
        .lines()
        .find(|l| l.starts_with("user services "))
        .expect("a services user");
    let password = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix('>'))
        .expect("a password");
    ("services".to_owned(), password.to_owned())
}

async fn start_b() -> Service {
    procs::start(
        &test_support::cargo_bin("service-b"),
        "b",
        &[("INSTANCE_ID", "b"), ("FAIL_EVERY", "0")],
    )
    .await
}

/// Calls A until the shared breaker's state hash shows in Redis and A reports no degraded
/// store: the breaker works through that Redis.
async fn serves_through_redis(a: &Service, redis: &RedisServer) {
    let http = reqwest::Client::new();
    let (status, _, body) = procs::get(&http, &a.url("/call-service-b")).await;
    assert_eq!(status, StatusCode::OK, "{body}\n{}", a.process.output());
    let client = redis.client();
    wait_until(DEADLINE, "the breaker's state in Redis", || async {
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        let state: Option<String> = redis::cmd("HGET")
            .arg("breaker:{service-b}")
            .arg("state")
            .query_async(&mut conn)
            .await
            .unwrap_or(None);
        state.as_deref() == Some("closed")
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", a.process.output()));
    let (_, _, health) = procs::get(&http, &a.url("/health")).await;
    assert_eq!(health["redis"], "ok", "{health}");
    assert!(
        !a.process.output().contains("WARN"),
        "no warning: {}",
        a.process.output()
    );
}

#[tokio::test]
async fn service_a_serves_through_redis_over_mutual_tls() {
    let certs = TestCerts::generate().unwrap();
    let redis = RedisServer::builder().tls(&certs, true).start().unwrap();
    let b = start_b().await;
    let url = redis.tls_url().unwrap();
    let (ca, cert, key) = (
        certs.ca().display().to_string(),
        certs.client_cert().display().to_string(),
        certs.client_key().display().to_string(),
    );
    let env = [
        ("REDIS_URL", url.as_str()),
        ("REDIS_TLS_CA", ca.as_str()),
        ("REDIS_TLS_CERT", cert.as_str()),
        ("REDIS_TLS_KEY", key.as_str()),
        ("SERVICE_B_URL", &b.url("")),
    ];
    let a = procs::start(service_a(), "a", &env).await;
    serves_through_redis(&a, &redis).await;
}

#[tokio::test]
async fn service_a_serves_through_redis_as_the_deployed_acl_user() {
    let (redis, _dir) = redis_with_the_deployed_acl();
    let b = start_b().await;
    let (user, password) = services_user();
    let url = redis.url_as(&user, &password);
    let env = [
        ("REDIS_URL", url.as_str()),
        ("SERVICE_B_URL", &b.url("")),
        ("BREAKER__TIMEOUT", "1s"),
        ("BREAKER__MAX_REQUESTS", "1"),
        // The rate limit and the last good answer are on by default: their keys too.
    ];
    let a = procs::start(service_a(), "a", &env).await;
    serves_through_redis(&a, &redis).await;
    trips_and_recovers(&a, &b, &redis).await;
}

async fn state(redis: &RedisServer) -> Option<String> {
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .ok()?;
    redis::cmd("HGET")
        .arg("breaker:{service-b}")
        .arg("state")
        .query_async(&mut conn)
        .await
        .ok()?
}

/// B down trips the circuit (a transition: history, publish), B up closes it again through a
/// half-open trial (leases), all under the ACL user, with no warning logged.
async fn trips_and_recovers(a: &Service, b: &Service, redis: &RedisServer) {
    let http = reqwest::Client::new();
    let faults = |down: bool| {
        http.put(b.url("/faults"))
            .json(&serde_json::json!({ "down": down }))
            .send()
    };
    assert_eq!(faults(true).await.unwrap().status(), StatusCode::OK);
    wait_until(DEADLINE, "the circuit open in Redis", || async {
        let _ = procs::get(&http, &a.url("/call-service-b")).await;
        state(redis).await.as_deref() == Some("open")
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", a.process.output()));
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let entries: u64 = redis::cmd("XLEN")
        .arg("breaker:{service-b}:history")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(entries >= 1, "the transition is in the history");
    assert_eq!(faults(false).await.unwrap().status(), StatusCode::OK);
    wait_until(DEADLINE, "the circuit closed again in Redis", || async {
        let _ = procs::get(&http, &a.url("/call-service-b")).await;
        state(redis).await.as_deref() == Some("closed")
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", a.process.output()));
    let output = a.process.output();
    assert!(!output.contains("WARN"), "no refusal: {output}");
    let history: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
        .arg("breaker:{service-b}:history")
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let to: Vec<&str> = history
        .iter()
        .filter_map(|(_, fields)| {
            fields
                .chunks(2)
                .find(|kv| kv[0] == "to")
                .map(|kv| kv[1].as_str())
        })
        .collect();
    // A trial may have found B still down (open again) if the machine is slow.
    assert!(
        to.first() == Some(&"open") && to.ends_with(&["half-open", "closed"]),
        "the history: {history:?}"
    );
}

/// Starts A with `env` and expects it to exit non-zero at once, naming `variable`.
fn refused_at_start(env: &[(&str, &str)], variable: &str, also: &str) {
    let a = procs::spawn(service_a(), "a", env);
    let status = a.wait_exit(DEADLINE).expect("service-a exits");
    assert!(!status.success(), "{}", a.output());
    let output = a.output();
    assert!(
        output.contains(variable) && output.contains(also),
        "names {variable}: {output}"
    );
    assert!(!output.contains("panicked"), "{output}");
}

#[test]
fn bad_tls_settings_stop_service_a_naming_the_variable() {
    let certs = TestCerts::generate().unwrap();
    let (ca, cert) = (
        certs.ca().display().to_string(),
        certs.client_cert().display().to_string(),
    );
    let tls_url = "rediss://127.0.0.1:6380/";
    refused_at_start(
        &[
            ("REDIS_URL", tls_url),
            ("REDIS_TLS_CA", "/nonexistent/ca.pem"),
        ],
        "REDIS_TLS_CA",
        "cannot read",
    );
    refused_at_start(
        &[
            ("REDIS_URL", tls_url),
            ("REDIS_TLS_CA", &cert),
            ("REDIS_TLS_CERT", &cert),
        ],
        "REDIS_TLS_KEY",
        "private key",
    );
    refused_at_start(
        &[
            ("REDIS_URL", tls_url),
            ("REDIS_TLS_CA", &certs.client_key().display().to_string()),
        ],
        "REDIS_TLS_CA",
        "PEM",
    );
    refused_at_start(
        &[("REDIS_URL", "rediss://127.0.0.1:6380/#insecure")],
        "REDIS_URL",
        "REDIS_TLS_INSECURE=true",
    );
    refused_at_start(
        &[
            ("REDIS_URL", "redis://127.0.0.1:6380/"),
            ("REDIS_TLS_CA", &ca),
        ],
        "REDIS_URL",
        "not rediss://",
    );
}

#[tokio::test]
async fn a_wrong_redis_password_is_logged_with_its_fix_on_a_back_off_not_per_call() {
    let (redis, _dir) = redis_with_the_deployed_acl();
    let b = start_b().await;
    let url = redis.url_as("services", "not-the-password");
    let env = [("REDIS_URL", url.as_str()), ("SERVICE_B_URL", &b.url(""))];
    let a = procs::start(service_a(), "a", &env).await;
    let http = reqwest::Client::new();
    // A bounded run: 3 s of calls, every one served (protected locally).
    let end = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut calls = 0;
    while tokio::time::Instant::now() < end {
        let (status, _, body) = procs::get(&http, &a.url("/call-service-b")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        calls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = a.process.output();
    let refusals = output
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("refused"))
        .count();
    // Each part using Redis (preload, breaker, subscriber, rate limit, last good answer) says
    // it at once, then after back-offs that double from 1-2 s: a handful of lines (5 when
    // measured: at 0, 0, 0, 1 and 3 s), never one per call.
    assert!(
        (2..=12).contains(&refusals) && calls > 40,
        "{refusals} warnings for {calls} calls:\n{output}"
    );
    assert!(output.contains("redis://USER:PASSWORD@"), "{output}");
}
