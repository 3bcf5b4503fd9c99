//! `scripts/health-check lab` and `scripts/chaos lab` against a real `demo lab` on free ports:
//! a service that fails its check is restarted through the launcher, and a short chaos run
//! (2 rounds, 5 s apart) recovers every round with no undesigned 5xx.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::json;
use test_support::{cargo_bin, free_ports};

use crate::support::{READY, http, wait_exit};

/// The lab on free ports, without Prometheus, its breaker open for 2 s instead of 30 s.
struct Lab {
    demo: test_support::ChildProcess,
    ports: Vec<String>,
    user: u16,
}

impl Lab {
    async fn start() -> Self {
        let ports = free_ports(4);
        let options = [
            "--redis-port",
            "--user-port",
            "--order-port",
            "--dashboard-port",
        ];
        let mut args: Vec<String> = vec!["lab".to_owned(), "--no-prometheus".to_owned()];
        let mut port_args = Vec::new();
        for (option, port) in options.iter().zip(&ports) {
            port_args.push((*option).to_owned());
            port_args.push(port.to_string());
        }
        args.extend(port_args.iter().cloned());
        let bin_dir = cargo_bin("lab")
            .parent()
            .expect("a directory")
            .to_path_buf();
        let demo = spawn_demo_with_env(&bin_dir, &args);
        demo.wait_for_line_async("Press Ctrl-C to stop everything.", READY)
            .await
            .expect("the demo gets ready");
        Self {
            demo,
            ports: port_args,
            user: ports[1],
        }
    }

    fn script(&self, name: &str, args: &[&str]) -> Output {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts")
            .join(name);
        let output = Command::new(script)
            .arg("lab")
            .args(args)
            .args(&self.ports)
            .output()
            .expect("the script runs");
        println!("{}", String::from_utf8_lossy(&output.stdout));
        output
    }

    fn stop(self) {
        self.demo.terminate().expect("SIGTERM to the demo");
        assert!(wait_exit(&self.demo).success(), "{}", self.demo.output());
    }
}

/// `demo <args>` as `spawn_demo` runs it, with `BREAKER__TIMEOUT=2s`, which the services read
/// from the demo's environment: a short open period keeps the run short.
fn spawn_demo_with_env(bin_dir: &std::path::Path, args: &[String]) -> test_support::ChildProcess {
    let mut cmd = crate::support::demo_command();
    cmd.args(args)
        .arg("--bin-dir")
        .arg(bin_dir)
        .args(["--stop-timeout", "5s", "--startup-timeout", "30s"])
        .env("BREAKER__TIMEOUT", "2s");
    test_support::ChildProcess::spawn(cmd, "demo").expect("spawning demo")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_restarts_a_failing_service_through_the_launcher() {
    let lab = Lab::start().await;
    let healthy = lab.script("health-check", &[]);
    assert!(healthy.status.success(), "{}", text(&healthy));
    assert!(
        text(&healthy).contains("create_order answered 201"),
        "{}",
        text(&healthy)
    );

    let faults = format!("http://127.0.0.1:{}/faults", lab.user);
    let down = http().put(faults).json(&json!({"down": true})).send().await;
    assert!(down.is_ok_and(|r| r.status().is_success()));
    let checked = lab.script("health-check", &[]);
    let out = text(&checked);
    assert!(checked.status.success(), "{out}");
    assert!(
        out.contains("user service: restarting it through the launcher"),
        "{out}"
    );
    lab.demo
        .wait_for_line_async("[demo] restarted user ", READY)
        .await
        .expect("the launcher restarted user");
    lab.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_chaos_run_recovers_every_round() {
    let lab = Lab::start().await;
    let run = lab.script(
        "chaos",
        &["--rounds", "2", "--interval", "5s", "--timeout", "45s"],
    );
    let out = text(&run);
    assert!(run.status.success(), "{out}\n{}", lab.demo.output());
    for round in ["round 1/2: killed ", "round 2/2: killed "] {
        assert!(out.contains(round), "{out}");
    }
    assert_eq!(
        out.matches("5xx answers that were not a designed 502/503/504: 0")
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains("chaos: every round recovered"), "{out}");
    lab.stop();
}

#[test]
fn both_scripts_explain_themselves_and_refuse_bad_arguments() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    for name in ["health-check", "chaos"] {
        let help = Command::new(root.join(name))
            .arg("--help")
            .output()
            .expect("runs");
        assert!(help.status.success());
        assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: scripts/"));
        let bad = Command::new(root.join(name))
            .args(["lab", "--nope"])
            .output()
            .expect("runs");
        assert_eq!(bad.status.code(), Some(2), "{name}");
    }
}
