//! End to end with the real binaries: Redis, one service-b and two service-a replicas as
//! processes sharing one circuit.

mod common;

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use common::procs::{self, Service};
use serde_json::{Value, json};
use test_support::{RedisServer, wait_until};

const TOKEN: &str = "e2e-token-0123456789";
const DEADLINE: Duration = Duration::from_secs(10);
/// What a replica may answer for `/call-service-b`, whatever Redis and B do: never a 500.
const CALL_ANSWERS: [StatusCode; 3] = [
    StatusCode::OK,
    StatusCode::BAD_GATEWAY,
    StatusCode::SERVICE_UNAVAILABLE,
];

fn service_a() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_service-a"))
}

struct Demo {
    http: reqwest::Client,
    b: Service,
    a1: Service,
    a2: Service,
}

impl Demo {
    async fn start(redis: &RedisServer) -> Self {
        let b = procs::start(
            &test_support::cargo_bin("service-b"),
            "b",
            &[("INSTANCE_ID", "b")],
        )
        .await;
        let (redis_url, b_url) = (redis.url(), b.url(""));
        let env = |id| {
            [
                ("INSTANCE_ID", id),
                ("REDIS_URL", redis_url.as_str()),
                ("SERVICE_B_URL", b_url.as_str()),
                ("ADMIN_TOKEN", TOKEN),
                ("BREAKER__TIMEOUT", "2s"),
                ("BREAKER__RETRY_BACKOFF", "200ms"),
            ]
        };
        let a1 = procs::start(service_a(), "a-1", &env("a-1")).await;
        let a2 = procs::start(service_a(), "a-2", &env("a-2")).await;
        Self {
            http: reqwest::Client::new(),
            b,
            a1,
            a2,
        }
    }

    async fn call(&self, a: &Service) -> (StatusCode, Value) {
        let (status, _, body) = procs::get(&self.http, &a.url("/call-service-b")).await;
        assert!(
            CALL_ANSWERS.contains(&status),
            "{status}: {body}\n{}",
            a.process.output()
        );
        (status, body)
    }

    async fn faults(&self, update: Value) {
        let response = self
            .http
            .put(self.b.url("/faults"))
            .json(&update)
            .send()
            .await;
        assert_eq!(response.expect("PUT /faults").status(), StatusCode::OK);
    }

    async fn b_requests(&self) -> u64 {
        let (_, _, stats) = procs::get(&self.http, &self.b.url("/stats")).await;
        stats["requests"].as_u64().expect("a count")
    }

    async fn get(&self, a: &Service, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = procs::get(&self.http, &a.url(path)).await;
        (status, body)
    }

    async fn reset(&self, a: &Service) {
        let response = self
            .http
            .post(a.url("/breaker/reset"))
            .bearer_auth(TOKEN)
            .send()
            .await;
        assert_eq!(response.expect("reset").status(), StatusCode::OK);
    }

    /// Calls `a` until its calls use the shared state again (its `/health` says so).
    async fn until_shared(&self, a: &Service) {
        wait_until(DEADLINE, "the replica to use the shared state", || async {
            self.call(a).await.0 == StatusCode::OK
                && self.get(a, "/health").await.1["redis"] == "ok"
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", a.process.output()));
    }

    /// Trips the circuit through replica 1 (B down) and checks replica 2 rejects without
    /// calling B.
    async fn trip_and_check_sharing(&self) {
        self.reset(&self.a1).await;
        self.faults(json!({"down": true, "delay_ms": 0})).await;
        for _ in 0..3 {
            assert_eq!(self.call(&self.a1).await.0, StatusCode::BAD_GATEWAY);
        }
        let before = self.b_requests().await;
        let (status, headers, body) = procs::get(&self.http, &self.a2.url("/call-service-b")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["breaker"]["state"], "open");
        assert!(headers.contains_key("retry-after"), "{headers:?}");
        assert_eq!(self.b_requests().await, before, "a rejected call reached B");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_one_circuit() {
    let mut redis = RedisServer::start().expect("redis-server starts");
    let demo = Demo::start(&redis).await;

    // B fails every third request, as seen through either replica.
    let mut statuses = Vec::new();
    for a in [&demo.a1, &demo.a2, &demo.a1] {
        statuses.push(demo.call(a).await.0);
    }
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::OK, StatusCode::BAD_GATEWAY]
    );

    // B down: three failures through replica 1 open the circuit for replica 2 too.
    demo.trip_and_check_sharing().await;
    let mut con = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let state: String = redis::cmd("HGET")
        .arg("breaker:{service-b}")
        .arg("state")
        .query_async(&mut con)
        .await
        .expect("HGET");
    assert_eq!(state, "open");
    // Replica 2 learnt of replica 1's transition through pub/sub, and logged it.
    let line = demo
        .a2
        .process
        .wait_for_line_async("circuit transition by another replica", DEADLINE)
        .await;
    assert!(line.expect("logged").contains("origin=a-1"));

    burst_after_the_open_timeout(&demo).await;

    demo.faults(json!({"down": false, "delay_ms": 0, "fail_every": 3}))
        .await;
    redis.kill();
    degraded_without_redis(&demo).await;

    // Redis back on the same port (empty): the circuit is shared again.
    redis.restart().expect("redis restarts");
    demo.faults(json!({"fail_every": 0})).await;
    demo.until_shared(&demo.a1).await;
    demo.until_shared(&demo.a2).await;
    demo.trip_and_check_sharing().await;
}

/// Redis killed: both replicas keep answering, protected locally, and say so.
async fn degraded_without_redis(demo: &Demo) {
    for a in [&demo.a1, &demo.a2] {
        wait_until(DEADLINE, "the replica to report degraded", || async {
            demo.call(a).await;
            let (status, health) = demo.get(a, "/health").await;
            status == StatusCode::OK && health["redis"] == "degraded"
        })
        .await
        .expect("degraded");
        let (status, body) = demo.get(a, "/breaker").await;
        assert_eq!(
            (status, &body["degraded"]),
            (StatusCode::SERVICE_UNAVAILABLE, &json!(true))
        );
        for _ in 0..6 {
            demo.call(a).await;
        }
    }
}

/// After the open timeout, with B healthy but slow, a burst across both replicas lets at most
/// `max_requests` (3) trial calls reach B; their successes close the circuit.
async fn burst_after_the_open_timeout(demo: &Demo) {
    demo.faults(json!({"down": false, "fail_every": 0, "delay_ms": 800}))
        .await;
    wait_until(DEADLINE, "the open timeout to pass", || async {
        demo.get(&demo.a1, "/breaker").await.1["retry_after_ms"] == 0
    })
    .await
    .expect("open timeout");
    let before = demo.b_requests().await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..40 {
        let url = if i % 2 == 0 {
            demo.a1.url("/call-service-b")
        } else {
            demo.a2.url("/call-service-b")
        };
        let http = demo.http.clone();
        burst.spawn(async move { procs::get(&http, &url).await.0 });
    }
    let statuses = burst.join_all().await;
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count() as u64;
    let rejected = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count() as u64;
    let reached_b = demo.b_requests().await - before;
    assert_eq!(admitted + rejected, 40, "{statuses:?}");
    // At most max_requests; exactly that many here, as all 40 arrive while the trials run.
    assert_eq!(reached_b, 3, "calls that reached B: {statuses:?}");
    assert_eq!(admitted, reached_b, "{statuses:?}");
    wait_until(DEADLINE, "the circuit to close", || async {
        demo.get(&demo.a2, "/breaker").await.1["state"] == "closed"
    })
    .await
    .expect("closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_values_exit_non_zero_naming_the_variable() {
    let cases = [
        ("BREAKER__MAX_REQUESTS", "0"),
        ("BREAKER__FAILURE_RATIO", "2"),
        ("BREAKER__TYPO", "1"),
        ("SERVICE_B_TIMEOUT", "abc"),
        ("SERVICE_B_URL", "ftp://x"),
        ("BREAKER_BACKEND", "disk"),
        ("RETRY__MAX_ATTEMPTS", "0"),
        ("RETRY__FOO", "1"),
        ("RATE_LIMIT__BURST", "abc"),
        ("BULKHEAD__MAX_CONCURRENT", "x"),
        ("FALLBACK", "maybe"),
        ("FALLBACK_TTL", "0s"),
    ];
    for (var, value) in cases {
        let process = procs::spawn(service_a(), "a", &[(var, value)]);
        let status = process.wait_exit(DEADLINE).expect("exits");
        assert!(!status.success(), "{var}={value}");
        let line = process
            .wait_for_line(var, DEADLINE)
            .expect("a message naming the variable");
        assert!(line.starts_with("service-a: "), "{line}");
        let output = process.output();
        assert_eq!(
            output
                .lines()
                .filter(|l| l.starts_with("[a stderr]"))
                .count(),
            1,
            "{output}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn starts_and_answers_health_with_redis_down() {
    let refusing = test_support::refusing_port();
    let redis_url = format!("redis://127.0.0.1:{}", refusing.port());
    let a = procs::start(service_a(), "a", &[("REDIS_URL", &redis_url)]).await;
    let (status, _, body) = procs::get(&reqwest::Client::new(), &a.url("/health")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["service"], &body["redis"]),
        (&json!("service-a"), &json!("degraded")),
        "{body}"
    );
}
