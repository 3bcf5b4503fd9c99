//! `demo discovery`: the real `discovery` binary as eight processes on a private Redis, the
//! server first; every one answers, the instances are in the registry, the gateway reaches
//! them, both dashboards are served; a killed instance is started again and registers again;
//! SIGTERM stops them all.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;
use test_support::{cargo_bin, free_ports, wait_until};

use crate::support::{
    READY, assert_all_gone, get_status, http, kill, names, restarted, spawn_demo, started,
    wait_exit,
};

fn joined(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn registered_ports(http: &reqwest::Client, server: u16, name: &str) -> Vec<u16> {
    let url = format!("http://127.0.0.1:{server}/services/{name}");
    let Ok(response) = http.get(url).send().await else {
        return Vec::new();
    };
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let mut ports: Vec<u16> = body["services"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["port"].as_u64().and_then(|p| u16::try_from(p).ok()))
                .collect()
        })
        .unwrap_or_default();
    ports.sort_unstable();
    ports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_starts_the_server_first_serves_everything_and_restarts_an_instance() {
    let ports = free_ports(9);
    let (redis, server, users, orders, gateway) =
        (ports[0], ports[1], &ports[2..5], &ports[5..8], ports[8]);
    let bin_dir: PathBuf = cargo_bin("discovery")
        .parent()
        .expect("a binary has a directory")
        .to_path_buf();
    let args: Vec<String> = [
        "discovery",
        "--redis-port",
        &redis.to_string(),
        "--discovery-port",
        &server.to_string(),
        "--user-ports",
        &joined(users),
        "--order-ports",
        &joined(orders),
        "--gateway-port",
        &gateway.to_string(),
        "--heartbeat-interval",
        "1",
    ]
    .map(str::to_owned)
    .to_vec();
    let demo = spawn_demo(&bin_dir, &args);
    demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
        .await
        .expect("the demo gets ready");
    let output = demo.output();
    let processes = started(&output);
    assert_eq!(
        names(&processes),
        [
            "redis",
            "discovery",
            "user-1",
            "user-2",
            "user-3",
            "order-1",
            "order-2",
            "order-3",
            "gateway"
        ],
        "{output}"
    );
    let started_ports: Vec<u16> = processes.iter().map(|p| p.port).collect();
    assert_eq!(started_ports, ports);

    let http = http();
    assert_eq!(get_status(&http, server, "/services").await, StatusCode::OK);
    for port in users.iter().chain(orders) {
        assert_eq!(get_status(&http, *port, "/health").await, StatusCode::OK);
    }
    for (path, port) in [
        ("/users", gateway),
        ("/health", gateway),
        ("/", gateway),
        ("/", server),
    ] {
        assert_eq!(
            get_status(&http, port, path).await,
            StatusCode::OK,
            "{path}"
        );
    }
    for (name, expected) in [("user-service", users), ("order-service", orders)] {
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(
            registered_ports(&http, server, name).await,
            expected,
            "{name}"
        );
    }
    let body: Value = http
        .get(format!("http://127.0.0.1:{gateway}/users"))
        .send()
        .await
        .expect("GET /users")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["users"][0]["name"], "John Doe", "{body}");
    for expected in [
        format!("  registry: http://localhost:{server}/"),
        format!("  curl localhost:{gateway}/users-with-orders"),
        format!("  redis-cli -p {redis} HGETALL 'breaker:{{user-service}}'"),
    ] {
        assert!(
            output.contains(&expected),
            "{expected:?} missing:\n{output}"
        );
    }

    // A killed instance is started again and registers again.
    let user_2 = &processes[3];
    kill(user_2.pid);
    demo.wait_for_line_async("[demo] restarted user-2 ", READY)
        .await
        .expect("the demo restarts user-2");
    let again = restarted(&demo.output());
    assert_eq!(names(&again), ["user-2"]);
    wait_until(READY, "user-2 registered again", || async {
        registered_ports(&http, server, "user-service")
            .await
            .contains(&users[1])
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    let output = demo.output();
    for name in ["gateway", "order-3", "user-1", "discovery"] {
        assert!(
            output.contains(&format!("[demo] stopped {name} (exit status: 0)")),
            "{name} did not stop cleanly; output:\n{output}"
        );
    }
    assert_all_gone(&processes, &demo);
    assert_all_gone(&again, &demo);
}
