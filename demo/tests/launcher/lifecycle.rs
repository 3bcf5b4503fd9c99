//! The demo starts everything, everything answers, and SIGTERM stops everything with exit 0.

use std::time::Duration;

use reqwest::StatusCode;
use test_support::{RedisServer, wait_until};

use crate::support::{
    Ports, READY, assert_all_gone, get_status, http, names, service_bin_dir, spawn_demo, started,
    wait_exit,
};

const CIRCUIT_KEY: &str = "breaker:{service-b}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_everything_and_sigterm_stops_everything() {
    let ports = Ports::free();
    let demo = spawn_demo(&service_bin_dir(), &ports.args());
    demo.wait_for_line_async("[demo] ready:", READY)
        .await
        .expect("the demo gets ready");
    let processes = started(&demo.output());
    assert_eq!(
        names(&processes),
        ["redis", "service-b", "service-a-1", "service-a-2"],
        "{}",
        demo.output()
    );
    let ports_started: Vec<u16> = processes.iter().map(|p| p.port).collect();
    assert_eq!(
        ports_started,
        [ports.redis, ports.b, ports.a[0], ports.a[1]]
    );

    let http = http();
    for port in [ports.b, ports.a[0], ports.a[1]] {
        assert_eq!(get_status(&http, port, "/health").await, StatusCode::OK);
    }
    let redis =
        redis::Client::open(format!("redis://127.0.0.1:{}", ports.redis)).expect("a valid URL");
    let mut con = redis
        .get_multiplexed_async_connection()
        .await
        .expect("the demo's Redis answers");

    // service-b fails every third request: service-a answers 502 for those.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        for port in ports.a {
            let status = get_status(&http, port, "/call-service-b").await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_GATEWAY,
                "GET :{port}/call-service-b answered {status}"
            );
            statuses.push(status);
        }
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    wait_until(Duration::from_secs(5), "the circuit hash in Redis", || {
        let mut con = con.clone();
        async move {
            let fields: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
                .arg(CIRCUIT_KEY)
                .query_async(&mut con)
                .await
                .unwrap_or_default();
            fields.contains_key("state")
        }
    })
    .await
    .expect("the replicas share the circuit in Redis");
    let exists: bool = redis::cmd("EXISTS")
        .arg(CIRCUIT_KEY)
        .query_async(&mut con)
        .await
        .expect("EXISTS");
    assert!(exists);
    drop(con);

    demo.terminate().expect("SIGTERM to the demo");
    let status = wait_exit(&demo);
    assert!(status.success(), "{status}; output:\n{}", demo.output());
    assert_all_gone(&processes, &demo);
    let output = demo.output();
    for name in ["service-a-2", "service-a-1", "service-b", "redis"] {
        assert!(
            output.contains(&format!("[demo] stopped {name} (exit status: 0)")),
            "{name} did not stop cleanly; output:\n{output}"
        );
    }
}

/// With `--redis-url` the demo starts no Redis, and `--admin-token` reaches both replicas, which
/// share the circuit through that Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_redis_and_the_admin_token_are_used() {
    let server = RedisServer::start().expect("redis-server");
    let ports = Ports::free();
    let mut args = ports.service_args();
    args.extend([
        "--redis-url".to_owned(),
        server.url(),
        "--admin-token".to_owned(),
        "t0ken-of-the-demo-test".to_owned(),
    ]);
    let demo = spawn_demo(&service_bin_dir(), &args);
    // The last line of the instructions, which follow the `ready:` line.
    demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
        .await
        .expect("the demo gets ready");
    let processes = started(&demo.output());
    assert_eq!(
        names(&processes),
        ["service-b", "service-a-1", "service-a-2"]
    );
    let output = demo.output();
    assert!(
        output.contains("Authorization: Bearer $ADMIN_TOKEN"),
        "{output}"
    );
    assert!(
        !output.contains("t0ken-of-the-demo-test"),
        "the token is printed:\n{output}"
    );

    let http = http();
    let open = |token: &'static str| {
        http.post(format!("http://127.0.0.1:{}/breaker/open", ports.a[0]))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        open("wrong").await.expect("POST").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        open("t0ken-of-the-demo-test").await.expect("POST").status(),
        StatusCode::OK
    );
    let other: serde_json::Value = http
        .get(format!("http://127.0.0.1:{}/breaker", ports.a[1]))
        .send()
        .await
        .expect("GET /breaker")
        .json()
        .await
        .expect("JSON");
    assert_eq!(other["state"], "open", "{other}");

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    assert_all_gone(&processes, &demo);
    assert!(
        server.is_running(),
        "the demo stopped a Redis it did not start"
    );
}

/// A signal while the processes are still starting stops what was started, with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_start_up_stops_what_was_started() {
    let demo = spawn_demo(&service_bin_dir(), &Ports::free().args());
    demo.wait_for_line_async("[demo] started redis ", READY)
        .await
        .expect("the demo starts Redis");
    demo.terminate().expect("SIGTERM to the demo");
    let status = wait_exit(&demo);
    let output = demo.output();
    assert!(status.success(), "{status}; output:\n{output}");
    assert!(output.contains("[demo] SIGTERM received"), "{output}");
    let processes = started(&output);
    assert!(!processes.is_empty(), "{output}");
    assert_all_gone(&processes, &demo);
}
