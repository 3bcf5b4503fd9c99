//! `docker-compose.yml`, `Dockerfile` and `.dockerignore` at the workspace root: Compose 1.29
//! (Debian's `docker-compose`, which validates without a Docker engine) accepts the file, and it
//! describes the demo: four services, the published ports, healthchecks and start order.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_yaml::Value;

const INSTALL: &str = "install it with `apt-get install -y --no-install-recommends docker-compose`";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("demo/ is inside the workspace")
        .to_path_buf()
}

/// `docker-compose -f <workspace>/docker-compose.yml <args>`, with the variables the file
/// interpolates removed so that their defaults are checked.
fn compose(args: &[&str]) -> Output {
    let file = workspace().join("docker-compose.yml");
    let mut cmd = Command::new("docker-compose");
    cmd.arg("-f").arg(&file).args(args);
    for var in [
        "ADMIN_TOKEN",
        "RUST_LOG",
        "LOG_FORMAT",
        "FAIL_EVERY",
        "COMPOSE_FILE",
    ] {
        cmd.env_remove(var);
    }
    match cmd.output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("`docker-compose` was not found on PATH; {INSTALL}")
        }
        Err(e) => panic!("running docker-compose: {e}"),
    }
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn docker_compose_accepts_the_file() {
    assert_success(&compose(&["config", "-q"]), "docker-compose config -q");
}

/// The file as Compose resolves it (anchors merged, variables replaced, ports in long form).
fn resolved() -> BTreeMap<String, Value> {
    let output = compose(&["config"]);
    assert_success(&output, "docker-compose config");
    let config: Value = serde_yaml::from_slice(&output.stdout).expect("YAML from compose");
    serde_yaml::from_value(config["services"].clone()).expect("a services map")
}

/// `published:target` for each port mapping, from the long form or the short one.
fn port_mappings(service: &Value) -> Vec<String> {
    let Some(ports) = service["ports"].as_sequence() else {
        return Vec::new();
    };
    ports
        .iter()
        .map(|port| match port {
            Value::String(short) => short.clone(),
            long => format!("{}:{}", scalar(&long["published"]), scalar(&long["target"])),
        })
        .collect()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("not a list: {value:?}"))
        .iter()
        .map(scalar)
        .collect()
}

#[test]
fn the_services_ports_healthchecks_and_start_order() {
    let services = resolved();
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(names, ["redis", "service-a-1", "service-a-2", "service-b"]);

    let redis = &services["redis"];
    assert_eq!(redis["image"].as_str(), Some("redis:7-alpine"));
    assert_eq!(
        strings(&redis["healthcheck"]["test"]),
        ["CMD", "redis-cli", "ping"]
    );
    assert!(port_mappings(redis).is_empty());

    let expected = [
        ("service-b", "8081:8081", "service-b"),
        ("service-a-1", "8080:8080", "service-a"),
        ("service-a-2", "8082:8080", "service-a"),
    ];
    for (name, mapping, binary) in expected {
        let service = &services[name];
        assert_eq!(port_mappings(service), [mapping], "{name}");
        assert_eq!(strings(&service["command"]), [binary], "{name}");
        assert!(
            service["build"].is_mapping(),
            "{name} is built from the Dockerfile"
        );
        let container_port = mapping.rsplit(':').next().expect("a target port");
        assert_eq!(scalar(&service["environment"]["PORT"]), container_port);
        let test = strings(&service["healthcheck"]["test"]);
        assert_eq!(test[..2], ["CMD", "curl"], "{name}: {test:?}");
        assert_eq!(
            test.last().map(String::as_str),
            Some(format!("http://127.0.0.1:{container_port}/health").as_str()),
            "{name}"
        );
    }

    for (name, instance) in [
        ("service-a-1", "service-a-1"),
        ("service-a-2", "service-a-2"),
    ] {
        let service = &services[name];
        let env = &service["environment"];
        assert_eq!(env["REDIS_URL"].as_str(), Some("redis://redis:6379"));
        assert_eq!(env["SERVICE_B_URL"].as_str(), Some("http://service-b:8081"));
        assert_eq!(env["INSTANCE_ID"].as_str(), Some(instance));
        for dependency in ["redis", "service-b"] {
            assert_eq!(
                service["depends_on"][dependency]["condition"].as_str(),
                Some("service_healthy"),
                "{name} waits for {dependency}"
            );
        }
    }
}

#[test]
fn the_image_builds_both_binaries_and_runs_unprivileged() {
    let root = workspace();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|line| line.starts_with("FROM "))
        .collect();
    assert_eq!(
        stages,
        [
            "FROM rust:1-bookworm AS chef",
            "FROM rust:1-bookworm AS planner",
            "FROM rust:1-bookworm AS builder",
            "FROM debian:bookworm-slim"
        ]
    );
    for expected in [
        "cargo install cargo-chef --locked",
        "cargo chef prepare --recipe-path recipe.json",
        "cargo chef cook --release --locked --recipe-path recipe.json -p service-a -p service-b",
        "cargo build --release --locked -p service-a -p service-b",
        "--no-install-recommends ca-certificates curl",
        "COPY --from=builder /usr/local/bin/service-a /usr/local/bin/service-b /usr/local/bin/",
        "USER app",
    ] {
        assert!(
            dockerfile.contains(expected),
            "Dockerfile lacks {expected:?}"
        );
    }
    // The workspace goes in whole and cargo-chef finds its members: a new crate needs no edit.
    for line in dockerfile.lines().filter(|line| line.starts_with("COPY ")) {
        assert!(
            line == "COPY . ." || line.starts_with("COPY --from="),
            "a hand-picked COPY: {line}"
        );
    }
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    let patterns: Vec<&str> = ignore.lines().map(str::trim).collect();
    for expected in ["target", ".git"] {
        assert!(
            patterns.contains(&expected),
            ".dockerignore lacks {expected}"
        );
    }
}
