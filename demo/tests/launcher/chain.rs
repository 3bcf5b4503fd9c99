//! `demo chain`: the real `chain` binary as three processes on a private Redis, a call through
//! the whole chain, inventory down opening `inventory-service` in Redis, a dead service started
//! again, and SIGTERM stopping them all.

use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    ChainPorts, READY, assert_all_gone, chain_bin_dir, http, kill, names, restarted, spawn_demo,
    started, wait_exit, wait_healthy,
};

async fn get(http: &reqwest::Client, port: u16, path: &str) -> (StatusCode, Value) {
    let response = http
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET :{port}{path}: {e}"));
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn inventory_faults(http: &reqwest::Client, port: u16, faults: Value) {
    let response = http
        .put(format!("http://127.0.0.1:{port}/faults"))
        .json(&faults)
        .send()
        .await
        .expect("PUT /faults");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_starts_in_order_opens_a_shared_circuit_restarts_and_stops() {
    let ports = ChainPorts::free();
    let demo = spawn_demo(&chain_bin_dir(), &ports.args());
    demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
        .await
        .expect("the demo gets ready");
    let output = demo.output();
    let processes = started(&output);
    assert_eq!(
        names(&processes),
        ["redis", "inventory", "order", "user"],
        "{output}"
    );
    let ports_started: Vec<u16> = processes.iter().map(|p| p.port).collect();
    assert_eq!(
        ports_started,
        [ports.redis, ports.inventory, ports.order, ports.user]
    );
    for expected in [
        format!("curl localhost:{}/users/1", ports.user),
        format!("curl -X PUT localhost:{}/faults", ports.inventory),
        format!(
            "redis-cli -p {} HGETALL 'breaker:{{inventory-service}}'",
            ports.redis
        ),
    ] {
        assert!(
            output.contains(&expected),
            "{expected:?} missing:\n{output}"
        );
    }

    let http = http();
    inventory_faults(&http, ports.inventory, json!({"failure_rate": 0.0})).await;
    let (status, body) = get(&http, ports.user, "/users/1").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"message": "User data for ID 1"}))
    );
    inventory_faults(&http, ports.inventory, json!({"down": true})).await;
    for _ in 0..3 {
        let (status, _) = get(&http, ports.order, "/orders?user_id=1").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
    }
    let (status, body) = get(&http, ports.user, "/users/1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["hop"], "inventory-service", "{body}");
    let redis = redis::Client::open(format!("redis://127.0.0.1:{}", ports.redis)).expect("url");
    let mut conn = redis
        .get_multiplexed_async_connection()
        .await
        .expect("the demo's Redis");
    let state: String = conn
        .hget("breaker:{inventory-service}", "state")
        .await
        .expect("HGET");
    assert_eq!(state, "open");

    let order = &processes[2];
    kill(order.pid);
    demo.wait_for_line_async("[demo] restarted order ", READY)
        .await
        .expect("the demo restarts order");
    let again = restarted(&demo.output());
    assert_eq!(names(&again), ["order"]);
    wait_healthy(ports.order).await;
    // Read, not called: a call after the open period would be a trial.
    let (_, health) = get(&http, ports.order, "/health").await;
    assert_eq!(
        health["breaker"],
        json!({"name": "inventory-service", "state": "open"}),
        "the restarted order reads the circuit from Redis"
    );

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    let output = demo.output();
    for name in ["user", "order", "inventory"] {
        assert!(
            output.contains(&format!("[demo] stopped {name} (exit status: 0)")),
            "{name} did not stop cleanly; output:\n{output}"
        );
    }
    assert_all_gone(&processes, &demo);
    assert_all_gone(&again, &demo);
}
