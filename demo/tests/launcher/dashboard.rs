//! The demo starts the fleet dashboard beside the system, on the system's Redis, with `ab`'s
//! admin token.

use reqwest::StatusCode;
use test_support::{cargo_bin, free_ports_besides, wait_until};

use crate::support::{
    Ports, READY, assert_all_gone, get_status, http, names, service_bin_dir, spawn_demo, started,
    wait_exit,
};

/// ab's admin token, long enough for every service.
const TOKEN: &str = "demo-dashboard-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_starts_the_fleet_dashboard_on_the_system_s_redis() {
    let ports = Ports::free();
    let dashboard = free_ports_besides(1, &[ports.redis, ports.b, ports.a[0], ports.a[1]])[0];
    let bin_dir = service_bin_dir();
    assert_eq!(
        cargo_bin("dashboard").parent(),
        Some(bin_dir.as_path()),
        "the dashboard is built beside the services"
    );
    let mut args = ports.args();
    args.extend(
        [
            "--fleet-dashboard-port",
            &dashboard.to_string(),
            "--admin-token",
            TOKEN,
        ]
        .map(str::to_owned),
    );
    let demo = spawn_demo(&bin_dir, &args);
    demo.wait_for_line_async("[demo] ready:", READY)
        .await
        .expect("the demo gets ready");
    let output = demo.output();
    let processes = started(&output);
    assert_eq!(
        names(&processes),
        [
            "redis",
            "service-b",
            "service-a-1",
            "service-a-2",
            "fleet-dashboard"
        ],
        "{output}"
    );
    let line = demo
        .wait_for_line_async("Fleet dashboard", READY)
        .await
        .expect("the demo names the dashboard");
    assert!(
        line.contains(&format!("http://localhost:{dashboard}/")),
        "{line}"
    );

    // A call makes the shared circuit; the dashboard finds it in the demo's Redis.
    let http = http();
    get_status(&http, ports.a[0], "/call-service-b").await;
    let list = format!("http://127.0.0.1:{dashboard}/api/breakers");
    wait_until(READY, "the dashboard lists service-b", || async {
        let Ok(response) = http.get(&list).send().await else {
            return false;
        };
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        body["breakers"][0]["name"] == "service-b"
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}\n{}", demo.output()));

    // It took ab's token: its override reaches the replicas.
    let open = format!("http://127.0.0.1:{dashboard}/api/breakers/service-b/open");
    let response = http
        .post(&open)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        get_status(&http, ports.a[1], "/call-service-b").await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    assert_all_gone(&processes, &demo);
}
