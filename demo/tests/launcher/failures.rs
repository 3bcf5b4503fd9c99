//! Everything that makes the demo fail: it says why, exits non-zero, and leaves nothing running;
//! and a process that dies once everything is up, which the demo restarts instead.

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use test_support::ChildProcess;

use crate::support::{
    EXIT, Ports, READY, assert_all_gone, demo_command, kill, names, restarted, service_bin_dir,
    spawn_demo, started, wait_exit, wait_healthy,
};

/// Runs `demo` to its end; returns its output after checking it failed without a panic.
fn run_failing(cmd: Command) -> String {
    let demo = ChildProcess::spawn(cmd, "demo").expect("spawning demo");
    let status = demo.wait_exit(EXIT).expect("the demo exits by itself");
    let output = demo.output();
    assert_eq!(status.code(), Some(1), "{status}; output:\n{output}");
    assert!(!output.contains("panicked"), "{output}");
    output
}

#[test]
fn a_busy_redis_port_is_named_with_the_way_out_and_nothing_starts() {
    let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a port");
    let port = busy.local_addr().expect("its address").port();
    let ports = Ports {
        redis: port,
        ..Ports::free()
    };
    let empty = tempfile::tempdir().expect("temp dir");
    let mut cmd = demo_command();
    cmd.args(ports.args()).arg("--bin-dir").arg(empty.path());
    let output = run_failing(cmd);
    assert!(
        output.contains(&format!(
            "demo: error: port {port} for redis is already in use on 127.0.0.1; choose another \
             with --redis-port <PORT>"
        )),
        "{output}"
    );
    assert!(started(&output).is_empty(), "{output}");
    for port in [ports.b, ports.a[0], ports.a[1]] {
        TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_or_else(|e| panic!("port {port} was taken ({e}); output:\n{output}"));
    }
}

#[test]
fn a_missing_redis_server_is_explained_with_the_install_command() {
    let empty = tempfile::tempdir().expect("temp dir");
    let mut cmd = demo_command();
    cmd.args(Ports::free().args())
        .arg("--bin-dir")
        .arg(empty.path())
        .env("PATH", empty.path());
    let output = run_failing(cmd);
    assert!(
        output.contains(
            "`redis-server` was not found on PATH; install it with `apt-get install -y \
             --no-install-recommends redis-server redis-tools`, or use a running Redis with \
             --redis-url"
        ),
        "{output}"
    );
}

#[test]
fn configuration_errors_are_one_clear_line() {
    let mut cmd = demo_command();
    cmd.args(["--service-b-port", "9000", "--service-a-ports", "9001,9000"]);
    let output = run_failing(cmd);
    assert!(
        output.contains(
            "demo: error: port 9000 is given to both service-b and service-a-2; every port must \
             differ"
        ),
        "{output}"
    );

    let empty = tempfile::tempdir().expect("temp dir");
    let mut cmd = demo_command();
    cmd.args(Ports::free().args())
        .arg("--bin-dir")
        .arg(empty.path());
    let output = run_failing(cmd);
    assert!(
        output.contains("service-a and service-b not found in"),
        "{output}"
    );
    assert!(started(&output).is_empty(), "{output}");
}

/// A bin dir whose `service-b` is a script that fails at once, and a real `service-a`.
fn bin_dir_with_failing_service_b(dir: &Path) {
    let script = dir.join("service-b");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'fake service-b: cannot start'\necho 'missing FOO' >&2\nexit 3\n",
    )
    .expect("writing the script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::os::unix::fs::symlink(service_bin_dir().join("service-a"), dir.join("service-a"))
        .expect("symlink");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_exits_during_start_up_is_reported_and_the_rest_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    bin_dir_with_failing_service_b(dir.path());
    let demo = spawn_demo(dir.path(), &Ports::free().args());
    let status = wait_exit(&demo);
    let output = demo.output();
    assert_eq!(status.code(), Some(1), "{output}");
    assert!(
        output.contains(
            "demo: error: service-b exited unexpectedly (exit status: 3); its last output lines:"
        ),
        "{output}"
    );
    assert!(
        output.contains("    fake service-b: cannot start"),
        "{output}"
    );
    assert!(output.contains("    missing FOO"), "{output}");
    let processes = started(&output);
    assert_eq!(names(&processes), ["redis", "service-b"], "{output}");
    assert!(
        output.contains("[demo] stopped redis (exit status: 0)"),
        "{output}"
    );
    assert_all_gone(&processes, &demo);
}

/// Once everything is up, a process that dies is started again (after the first back-off of
/// 1 s), says so, and answers again; the rest keep running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_dies_later_is_restarted_and_answers_again() {
    let ports = Ports::free();
    let demo = spawn_demo(&service_bin_dir(), &ports.args());
    demo.wait_for_line_async("[demo] ready:", READY)
        .await
        .expect("the demo gets ready");
    let processes = started(&demo.output());
    let b = processes
        .iter()
        .find(|p| p.name == "service-b")
        .expect("service-b started");
    kill(b.pid);

    demo.wait_for_line_async("[demo] restarted service-b ", READY)
        .await
        .expect("the demo restarts service-b");
    let output = demo.output();
    assert!(
        output.contains(
            "[demo] service-b exited unexpectedly (signal: 9 (SIGKILL)); restarting it in 1s \
             (restart 1)"
        ),
        "{output}"
    );
    let again = restarted(&output);
    assert_eq!(names(&again), ["service-b"], "{output}");
    assert_ne!(again[0].pid, b.pid);
    assert_eq!(again[0].port, ports.b);
    wait_healthy(ports.b).await;
    assert!(demo.is_running(), "{output}");

    demo.terminate().expect("SIGTERM to the demo");
    assert!(wait_exit(&demo).success(), "{}", demo.output());
    let output = demo.output();
    for name in ["service-a-2", "service-a-1", "service-b", "redis"] {
        assert!(
            output.contains(&format!("[demo] stopped {name} (exit status: 0)")),
            "{output}"
        );
    }
    assert_all_gone(&processes, &demo);
    assert_all_gone(&again, &demo);
}
