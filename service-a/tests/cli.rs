//! The real `service-a` binary's command line: help and version instead of a server, usage errors.

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;
use tokio::time::timeout;

/// Long enough for a start-up; a binary that serves instead of answering never meets it.
const DEADLINE: Duration = Duration::from_secs(10);

/// Runs the binary with `args`, a port it could serve on and no other variables, and waits for
/// it to exit.
async fn run(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_service-a"))
        .args(args)
        .env_clear()
        .envs([("PORT", "0"), ("BIND_ADDR", "127.0.0.1")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("service-a binary starts");
    timeout(DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("service-a {args:?} did not exit: it serves"))
        .expect("output")
}

#[tokio::test]
async fn help_prints_usage_and_configuration_sources_and_exits() {
    for flag in ["--help", "-h"] {
        let output = run(&[flag]).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{flag}: {output:?}");
        for expected in ["Usage: service-a", "CONFIG_FILE", "__", "PORT=8080"] {
            assert!(stdout.contains(expected), "{flag}: {expected} in {stdout}");
        }
    }
}

#[tokio::test]
async fn version_prints_the_version_and_exits() {
    let output = run(&["--version"]).await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("service-a {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn unknown_arguments_are_refused() {
    for arg in ["--bogus", "serve"] {
        let output = run(&[arg]).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{arg}: {output:?}");
        assert!(
            stderr.contains(&format!("unexpected argument '{arg}'")),
            "{arg}: {stderr}"
        );
    }
}
