//! The real binary's JSON logs: `message` at the top level, `service` and `instance` on every
//! line, and one `info` access line per request.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use test_support::ChildProcess;

const DEADLINE: Duration = Duration::from_secs(10);

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[tokio::test]
async fn json_lines_carry_the_service_and_an_access_line_per_request() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_service-b"));
    command.env_clear().envs([
        ("PORT", "0"),
        ("BIND_ADDR", "127.0.0.1"),
        ("LOG_FORMAT", "json"),
        ("INSTANCE_ID", "b-logs"),
    ]);
    let child = ChildProcess::spawn(command, "b").expect("service-b starts");
    let listening = child.wait_for_line_async("listening on ", DEADLINE).await;
    let listening = parse(&listening.expect("listening"));
    let addr = listening["addr"].as_str().expect("an addr field");

    let http = reqwest::Client::new();
    let response = http
        .get(format!("http://{addr}/hello"))
        .header("x-request-id", "logs-req-1")
        .send()
        .await
        .expect("GET /hello");
    assert_eq!(response.status(), StatusCode::OK);
    let missing = http.get(format!("http://{addr}/nowhere")).send().await;
    assert_eq!(
        missing.expect("GET /nowhere").status(),
        StatusCode::NOT_FOUND
    );

    let line = child.wait_for_line_async("\"logs-req-1\"", DEADLINE).await;
    let access = parse(&line.expect("an access line"));
    assert_eq!(access["message"], "request", "{access}");
    assert_eq!(access["level"], "INFO", "{access}");
    assert_eq!(access["method"], "GET", "{access}");
    assert_eq!(access["route"], "/hello", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert!(
        access["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{access}"
    );
    assert_eq!(access["request_id"], "logs-req-1", "{access}");
    assert_eq!(access["client"], "127.0.0.1", "{access}");
    let line = child.wait_for_line_async("\"unmatched\"", DEADLINE).await;
    let unmatched = parse(&line.expect("the 404's access line"));
    assert_eq!(unmatched["status"], 404, "{unmatched}");
    assert!(
        unmatched["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "a generated id: {unmatched}"
    );

    let output = child.output();
    let lines: Vec<&str> = output
        .lines()
        .filter_map(|l| l.strip_prefix("[b stdout] "))
        .collect();
    assert!(lines.len() >= 4, "{output}");
    for line in lines {
        let line = parse(line);
        assert_eq!(line["service"], "service-b", "{line}");
        assert_eq!(line["instance"], "b-logs", "{line}");
        assert!(line["message"].is_string(), "{line}");
        assert!(line.get("fields").is_none(), "{line}");
    }
}
