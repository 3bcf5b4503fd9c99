//! `ChildProcess`, `cargo_bin` and the wait helpers.

use std::process::Command;
use std::time::{Duration, Instant};

use test_support::{
    ChildProcess, free_port, process_exists, try_cargo_bin, wait_until, wait_until_blocking,
};

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    cmd
}

#[test]
fn wait_for_line_then_kill_on_drop() {
    let child =
        ChildProcess::spawn(sh("echo ready; echo oops >&2; sleep 30"), "sleeper").expect("spawn");
    let line = child
        .wait_for_line("ready", Duration::from_secs(5))
        .expect("ready line");
    assert_eq!(line, "ready");
    child
        .wait_for_line("oops", Duration::from_secs(5))
        .expect("stderr is captured too");
    assert!(
        child.output().contains("[sleeper stderr] oops"),
        "{}",
        child.output()
    );
    assert!(child.is_running());
    let pid = child.pid();
    drop(child);
    assert!(!process_exists(pid), "child {pid} survived the drop");
}

#[test]
fn wait_for_line_fails_with_the_output() {
    let child = ChildProcess::spawn(sh("echo hello; sleep 30"), "quiet").expect("spawn");
    let started = Instant::now();
    let err = child
        .wait_for_line("never", Duration::from_millis(200))
        .expect_err("found a line never printed");
    assert!(started.elapsed() >= Duration::from_millis(200));
    let message = err.to_string();
    assert!(message.contains("[quiet stdout] hello"), "{message}");

    let exited = ChildProcess::spawn(sh("echo bye"), "short").expect("spawn");
    let err = exited
        .wait_for_line("never", Duration::from_secs(10))
        .expect_err("found a line never printed");
    assert!(err.to_string().contains("closed its output"), "{err}");
}

#[test]
fn terminate_and_wait_exit() {
    let child = ChildProcess::spawn(sh("echo up; exec sleep 30"), "sleeper").expect("spawn");
    child
        .wait_for_line("up", Duration::from_secs(5))
        .expect("up");
    child.terminate().expect("SIGTERM");
    let status = child.wait_exit(Duration::from_secs(5)).expect("exit");
    assert!(!status.success());
    assert!(!child.is_running());

    let done = ChildProcess::spawn(sh("exit 3"), "three").expect("spawn");
    let status = done.wait_exit(Duration::from_secs(5)).expect("exit");
    assert_eq!(status.code(), Some(3));
}

#[test]
fn kill_takes_grandchildren_along() {
    // Two commands so the shell forks `sleep` instead of exec'ing it.
    let child = ChildProcess::spawn(sh("sleep 30 & echo $!; wait"), "parent").expect("spawn");
    let line = child
        .wait_for_line("", Duration::from_secs(5))
        .expect("pid line");
    let grandchild: u32 = line.trim().parse().expect("a pid");
    assert!(process_exists(grandchild));
    child.kill();
    wait_until_blocking(Duration::from_secs(5), "the grandchild to die", || {
        !process_exists(grandchild)
    })
    .expect("grandchild killed");
}

#[tokio::test(flavor = "multi_thread")]
async fn async_wait_helpers() {
    let child = ChildProcess::spawn(sh("sleep 0.05; echo late; sleep 30"), "late").expect("spawn");
    child
        .wait_for_line_async("late", Duration::from_secs(5))
        .await
        .expect("late line");

    let mut calls = 0;
    let err = wait_until(Duration::from_millis(100), "something impossible", || {
        calls += 1;
        async { false }
    })
    .await
    .expect_err("impossible condition met");
    assert!(err.to_string().contains("something impossible"), "{err}");
    assert!(calls >= 3, "polled only {calls} times");

    let started = Instant::now();
    let err = wait_until(Duration::from_millis(100), "a hanging check", || {
        std::future::pending::<bool>()
    })
    .await
    .expect_err("pending check succeeded");
    assert!(started.elapsed() < Duration::from_secs(1), "{err}");
}

#[test]
fn free_ports_and_missing_binaries() {
    let port = free_port();
    assert_ne!(port, 0);
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    let err = try_cargo_bin("no-such-binary").expect_err("found a missing binary");
    assert!(
        err.to_string().contains("cargo build -p no-such-binary"),
        "{err}"
    );
    // Resolved next to the test's own deps/ directory: target/<profile>/no-such-binary.
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let expected = profile_dir.join("no-such-binary");
    assert!(
        err.to_string().contains(&expected.display().to_string()),
        "{err}"
    );
}

#[test]
fn the_last_lines_are_captured_once_wait_exit_returns() {
    // The reader threads may lag behind the exit; every run must still see both lines.
    for run in 0..20 {
        let child =
            ChildProcess::spawn(sh("echo out; echo err >&2; exit 3"), "quick").expect("spawns");
        let status = child.wait_exit(Duration::from_secs(5)).expect("exits");
        assert_eq!(status.code(), Some(3));
        let output = child.output();
        assert!(
            output.contains("out") && output.contains("err"),
            "run {run}: {output}"
        );
    }
}
