//! The real `service-b` binary: start-up, the `listening on` line, SIGTERM, start-up errors.

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(10);

/// Starts the binary with only `env` (no inherited variables), output piped.
fn start(env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_service-b"))
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("service-b binary starts")
}

/// Forwards the child's stdout lines, so the test can wait for one.
fn lines(child: &mut Child) -> mpsc::UnboundedReceiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a stdout line containing `needle`; returns it.
async fn line_with(lines: &mut mpsc::UnboundedReceiver<String>, needle: &str) -> String {
    let wait = async {
        while let Some(line) = lines.recv().await {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("stdout closed before a line with {needle:?}");
    };
    timeout(DEADLINE, wait).await.expect("line in time")
}

/// Starts the binary on a free loopback port with `env` added, and returns it with its address.
async fn start_listening(env: &[(&str, &str)]) -> (Child, String) {
    let mut all = vec![("PORT", "0"), ("BIND_ADDR", "127.0.0.1")];
    all.extend_from_slice(env);
    let mut child = start(&all);
    let mut stdout = lines(&mut child);
    let line = line_with(&mut stdout, "listening on ").await;
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an address in the line")
        .to_owned();
    (child, addr)
}

async fn exit_of(child: &mut Child) -> ExitStatus {
    timeout(DEADLINE, child.wait())
        .await
        .expect("exits in time")
        .expect("wait")
}

#[tokio::test]
async fn starts_serves_and_stops_on_sigterm() {
    let env = [
        ("PORT", "0"),
        ("BIND_ADDR", "127.0.0.1"),
        ("INSTANCE_ID", "b-bin"),
        ("RUST_LOG", "info,service_b=debug"),
    ];
    let mut child = start(&env);
    let mut stdout = lines(&mut child);
    let line = line_with(&mut stdout, "listening on ").await;
    let addr = line
        .rsplit("listening on ")
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    let addr: SocketAddr = addr
        .and_then(|a| a.parse().ok())
        .expect("an address in the line");

    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let hello = client
        .get(format!("http://{addr}/hello"))
        .header("x-request-id", "it-42")
        .send()
        .await
        .expect("hello");
    assert_eq!(hello.status(), StatusCode::OK);
    let body: serde_json::Value = hello.json().await.expect("JSON");
    assert_eq!(
        (&body["request"], &body["instance"]),
        (&1.into(), &"b-bin".into())
    );
    // The request id is in the span of the request's log lines.
    line_with(&mut stdout, "it-42").await;

    let pid = child.id().expect("running").to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().await;
    assert!(kill.expect("kill runs").success());
    assert!(exit_of(&mut child).await.success());
    line_with(&mut stdout, "SIGTERM").await;
}

#[tokio::test]
async fn bad_configuration_exits_non_zero_naming_the_variable() {
    let mut child = start(&[("PORT", "0"), ("FAIL_EVERY", "abc")]);
    let status = exit_of(&mut child).await;
    let output = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("service-b: configuration error: invalid value for FAIL_EVERY"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_port_in_use_exits_non_zero() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut child = start(&[("PORT", &port), ("BIND_ADDR", "127.0.0.1")]);
    let status = exit_of(&mut child).await;
    let output = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(
        stderr.starts_with("service-b: cannot listen on 127.0.0.1:"),
        "{stderr}"
    );
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value) {
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
    let (_child, addr) = start_listening(&env).await;
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let defaults =
        serde_json::json!({"fail_every": 0, "failure_rate": 0.0, "delay_ms": 1, "down": true});
    let (_, faults) = answer(client.get(format!("{base}/faults"))).await;
    assert_eq!(faults, defaults);
    let (status, _) = answer(client.get(format!("{base}/hello"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let up = client
        .put(format!("{base}/faults"))
        .json(&serde_json::json!({"down": false}));
    assert_eq!(answer(up).await.0, StatusCode::OK);
    let (status, _) = answer(client.get(format!("{base}/hello"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, faults) = answer(client.delete(format!("{base}/faults"))).await;
    assert_eq!(faults, defaults);
}

#[tokio::test]
async fn a_bad_faults_variable_exits_naming_it() {
    let child = start(&[("PORT", "0"), ("FAULTS__FAILURE_RATE", "1.5")]);
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
