//! `service-b healthcheck [PATH]`, the container healthcheck, against the real binary serving.

use std::process::Stdio;
use std::time::Duration;

use test_support::{ChildProcess, free_port};
use tokio::process::Command;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(20);
const BINARY: &str = env!("CARGO_BIN_EXE_service-b");

/// `service-b healthcheck <args>` with `PORT=port`: exit code and output.
async fn healthcheck(port: u16, args: &[&str]) -> (Option<i32>, String) {
    let child = Command::new(BINARY)
        .arg("healthcheck")
        .args(args)
        .env_clear()
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let output = timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("the check ends on its own")
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[tokio::test]
async fn healthcheck_passes_on_a_serving_service_and_fails_otherwise() {
    let port = free_port();
    let (code, text) = healthcheck(port, &[]).await;
    assert_eq!(code, Some(1), "nothing listens yet: {text}");
    assert!(text.contains("healthcheck failed"), "{text}");

    let mut cmd = std::process::Command::new(BINARY);
    cmd.env_clear().env("PORT", port.to_string());
    let service = ChildProcess::spawn(cmd, "service-b").expect("starts");
    service
        .wait_for_line_async("listening on", DEADLINE)
        .await
        .expect("serves");
    let (code, text) = healthcheck(port, &[]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("/health answered 200"), "{text}");
    let (code, text) = healthcheck(port, &["/nope"]).await;
    assert_eq!(code, Some(1), "a 404 is not healthy: {text}");

    for bad in [&["nope"][..], &["/a", "/b"]] {
        let (code, text) = healthcheck(port, bad).await;
        assert_eq!(code, Some(2), "{bad:?}: {text}");
    }
}
