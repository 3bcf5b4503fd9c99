//! The real `service-b` binary with start-up fault settings (`FAULTS__*`).

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(10);

fn start(env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_service-b"))
        .env_clear()
        .envs([("PORT", "0"), ("BIND_ADDR", "127.0.0.1")])
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("service-b binary starts")
}

/// The address from the `listening on <addr>` line.
async fn address(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let wait = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, rest)) = line.rsplit_once("listening on ") {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                return addr.to_owned();
            }
        }
        panic!("stdout closed before the listening line");
    };
    timeout(DEADLINE, wait).await.expect("listening in time")
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    (response.status(), response.json().await.expect("JSON"))
}

#[tokio::test]
async fn faults_variables_set_the_defaults_delete_goes_back_to() {
    let env = [
        ("FAIL_EVERY", "0"),
        ("FAULTS__DOWN", "true"),
        ("FAULTS__DELAY_MS", "1"),
    ];
    let mut child = start(&env);
    let base = format!("http://{}", address(&mut child).await);
    let client = reqwest::Client::new();
    let defaults = json!({"fail_every": 0, "failure_rate": 0.0, "delay_ms": 1, "down": true});
    let (_, faults) = answer(client.get(format!("{base}/faults"))).await;
    assert_eq!(faults, defaults);
    let (status, _) = answer(client.get(format!("{base}/hello"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let up = client
        .put(format!("{base}/faults"))
        .json(&json!({"down": false}));
    assert_eq!(answer(up).await.0, StatusCode::OK);
    let (status, _) = answer(client.get(format!("{base}/hello"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, faults) = answer(client.delete(format!("{base}/faults"))).await;
    assert_eq!(faults, defaults);
}

#[tokio::test]
async fn a_bad_faults_variable_exits_naming_it() {
    let child = start(&[("FAULTS__FAILURE_RATE", "1.5")]);
    let output = timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("exits in time")
        .expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.starts_with(
            "service-b: configuration error: invalid value for FAULTS__FAILURE_RATE: must be"
        ),
        "{stderr}"
    );
}
