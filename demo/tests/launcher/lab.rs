//! `demo lab`: the real `lab` binary as three processes on a private Redis, and a real
//! Prometheus scraping them until every target is up and the breaker's series are there; a
//! service that dies is restarted until the restart limit, then left stopped while the rest
//! keep running; SIGTERM stops them all.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::{cargo_bin, free_ports, wait_until};

use crate::support::{
    READY, assert_all_gone, get_status, http, kill, names, restarted, spawn_demo, started,
    wait_exit, wait_healthy,
};

/// Fails naming the package when Prometheus is not installed.
fn require_prometheus() {
    let found = Command::new("prometheus").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "`prometheus` is not installed: apt-get install prometheus (scripts/test does)"
    );
}

/// Prometheus' answer to `path` (a JSON API call).
async fn prometheus(http: &reqwest::Client, port: u16, path: &str) -> Value {
    let url = format!("http://127.0.0.1:{port}{path}");
    match http.get(url).send().await {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Whether every active target is `up` and there are three.
fn all_up(targets: &Value) -> bool {
    let active = targets["data"]["activeTargets"].as_array();
    active.is_some_and(|list| list.len() == 3 && list.iter().all(|t| t["health"] == "up"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_runs_with_prometheus_and_stops_restarting_a_service_past_the_limit() {
    require_prometheus();
    let p = free_ports(5);
    let (redis, user, order, dashboard, prom) = (p[0], p[1], p[2], p[3], p[4]);
    let args: Vec<String> = [
        "lab",
        "--redis-port",
        &redis.to_string(),
        "--user-port",
        &user.to_string(),
        "--order-port",
        &order.to_string(),
        "--dashboard-port",
        &dashboard.to_string(),
        "--prometheus-port",
        &prom.to_string(),
        "--max-restarts-per-minute",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();
    let bin_dir = cargo_bin("lab")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let demo = spawn_demo(&bin_dir, &args);
    demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
        .await
        .expect("the demo gets ready");
    let output = demo.output();
    let processes = started(&output);
    assert_eq!(
        names(&processes),
        ["redis", "user", "order", "dashboard", "prometheus"],
        "{output}"
    );
    let http = http();
    let create = format!("http://127.0.0.1:{order}/create_order");
    let body = json!({"user_id": 1, "product": "Book"});
    let response = http.post(&create).json(&body).send().await.expect("order");
    assert_eq!(response.status(), StatusCode::CREATED);

    wait_until(Duration::from_secs(60), "every target is up", || {
        let http = http.clone();
        async move { all_up(&prometheus(&http, prom, "/api/v1/targets").await) }
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}: {}", demo.output()));
    let query = "/api/v1/query?query=breaker_calls_total%7Bbreaker%3D%22user-service%22%7D";
    wait_until(Duration::from_secs(60), "the breaker's series", || {
        let http = http.clone();
        async move {
            let answer = prometheus(&http, prom, query).await;
            answer["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));

    let user_process = &processes[1];
    kill(user_process.pid);
    demo.wait_for_line_async("[demo] restarted user ", READY)
        .await
        .expect("the demo restarts user");
    wait_healthy(user).await;
    let again = restarted(&demo.output());
    kill(again[0].pid);
    demo.wait_for_line_async("not restarting it again", READY)
        .await
        .expect("the demo gives up on user");
    let output = demo.output();
    assert!(
        output.contains("it was restarted 1 times within the last minute"),
        "{output}"
    );
    assert_eq!(
        get_status(&http, dashboard, "/health").await,
        StatusCode::OK
    );
    let health: Value = http
        .get(format!("http://127.0.0.1:{dashboard}/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["user_service"], "unhealthy", "{health}");
    assert_eq!(health["order_service"], "healthy", "{health}");

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    assert_all_gone(&processes, &demo);
}

#[test]
fn both_prometheus_configurations_pass_promtool() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../prometheus");
    for file in ["prometheus.yml", "prometheus.native.yml"] {
        let checked = Command::new("promtool")
            .args(["check", "config", &format!("{root}/{file}")])
            .output()
            .expect("`promtool` runs (apt-get install prometheus; scripts/test does)");
        assert!(
            checked.status.success(),
            "{file}: {}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }
}
