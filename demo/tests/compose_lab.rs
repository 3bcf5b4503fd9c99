//! The lab's compose profiles: `lab` runs user, order and the dashboard from the one image,
//! logging JSON, with a real Prometheus whose configuration (`prometheus/prometheus.yml`)
//! scrapes exactly those three; `docker-compose.logs.yml` adds Vector, whose configuration
//! (`vector/vector.toml`, checked here by parsing: no Vector validator installs from a package
//! registry here) gathers the lab's lines into files. No two services publish the same host
//! port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("demo/ is inside the workspace")
        .to_path_buf()
}

/// The services `docker-compose -f ... --profile ... config` resolves from `files` that `up`
/// would start with `profiles` (those without a profile, and those in one of `profiles`).
fn services(files: &[&str], profiles: &[&str]) -> BTreeMap<String, Value> {
    let mut cmd = Command::new("docker-compose");
    for file in files {
        cmd.arg("-f").arg(workspace().join(file));
    }
    for profile in profiles {
        cmd.args(["--profile", profile]);
    }
    for var in [
        "RUST_LOG",
        "LOG_FORMAT",
        "COMPOSE_FILE",
        "COMPOSE_PROFILES",
        "LAB_DASHBOARD_PORT",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd
        .arg("config")
        .output()
        .expect("docker-compose runs (apt-get install -y --no-install-recommends docker-compose)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let config: Value = serde_yaml::from_slice(&output.stdout).expect("YAML");
    let all: BTreeMap<String, Value> =
        serde_yaml::from_value(config["services"].clone()).expect("a services map");
    all.into_iter()
        .filter(|(_, service)| match service.get("profiles") {
            None => true,
            Some(theirs) => theirs
                .as_sequence()
                .is_some_and(|list| list.iter().any(|p| profiles.iter().any(|q| p == *q))),
        })
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `published:target` of each port mapping.
fn ports(service: &Value) -> Vec<String> {
    service["ports"]
        .as_sequence()
        .map(|list| {
            list.iter()
                .map(|port| match port {
                    Value::String(short) => short.clone(),
                    long => format!("{}:{}", text(&long["published"]), text(&long["target"])),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_lab_profile_runs_the_lab_from_the_one_image_with_prometheus() {
    let services = services(&["docker-compose.yml"], &["lab"]);
    for (name, subcommand, port) in [
        ("lab-user", "user", "5001:5001"),
        ("lab-order", "order", "5002:5002"),
        ("lab-dashboard", "dashboard", "8090:8080"),
    ] {
        let service = &services[name];
        assert_eq!(
            text(&service["image"]),
            "circuit-breaker-demo:latest",
            "{name}"
        );
        let command: Vec<String> = service["command"]
            .as_sequence()
            .expect("a command")
            .iter()
            .map(text)
            .collect();
        assert_eq!(command, ["lab", subcommand], "{name}");
        assert_eq!(
            text(&service["environment"]["LOG_FORMAT"]),
            "json",
            "{name}"
        );
        assert_eq!(text(&service["labels"]["lab.logs"]), "true", "{name}");
        assert_eq!(ports(service), [port], "{name}");
        assert!(service.get("healthcheck").is_some(), "{name}");
    }
    let order = &services["lab-order"];
    assert_eq!(
        text(&order["environment"]["USER_SERVICE_URL"]),
        "http://lab-user:5001"
    );
    assert_eq!(
        text(&order["environment"]["REDIS_URL"]),
        "redis://services:services-demo-password@redis:6379"
    );
    let prometheus = &services["prometheus"];
    assert!(text(&prometheus["image"]).starts_with("prom/prometheus"));
    assert_eq!(ports(prometheus), ["9090:9090"]);
    assert!(
        !services.contains_key("vector"),
        "the log store is in lab-logs only"
    );

    let mut published: Vec<String> = services
        .values()
        .flat_map(ports)
        .map(|p| p.split(':').next().unwrap_or_default().to_owned())
        .collect();
    let count = published.len();
    published.sort();
    published.dedup();
    assert_eq!(
        published.len(),
        count,
        "a host port is published twice: {published:?}"
    );
}

#[test]
fn prometheus_scrapes_every_lab_service_by_its_compose_name() {
    let file = workspace().join("prometheus/prometheus.yml");
    let config: Value =
        serde_yaml::from_str(&std::fs::read_to_string(file).expect("prometheus.yml"))
            .expect("YAML");
    let mut targets: Vec<String> = config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
        .iter()
        .flat_map(|job| job["static_configs"][0]["targets"].as_sequence().cloned())
        .flatten()
        .map(|t| text(&t))
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        ["lab-dashboard:8080", "lab-order:5002", "lab-user:5001"]
    );
}

#[test]
fn the_log_store_collects_the_lab_s_json_lines_into_files() {
    let services = services(&["docker-compose.yml", "docker-compose.logs.yml"], &["lab"]);
    assert!(services.contains_key("lab-order"));
    let vector = &services["vector"];
    let volumes: Vec<String> = vector["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .map(|v| match v {
            Value::String(short) => short.clone(),
            long => format!("{}:{}", text(&long["source"]), text(&long["target"])),
        })
        .collect();
    assert!(
        volumes
            .iter()
            .any(|v| v.contains("vector.toml:/etc/vector/vector.toml")),
        "{volumes:?}"
    );
    assert!(
        volumes.iter().any(|v| v.contains("/var/run/docker.sock")),
        "{volumes:?}"
    );

    let file = workspace().join("vector/vector.toml");
    let config: toml::Table = std::fs::read_to_string(file)
        .expect("vector.toml")
        .parse()
        .expect("TOML");
    let source = &config["sources"]["lab"];
    assert_eq!(source["type"].as_str(), Some("docker_logs"));
    let labels = source["include_labels"].as_array().expect("include_labels");
    assert_eq!(labels[0].as_str(), Some("lab.logs=true"));
    let transform = &config["transforms"]["parsed"];
    assert_eq!(transform["type"].as_str(), Some("remap"));
    assert_eq!(transform["inputs"].as_array().map(Vec::len), Some(1));
    assert!(
        transform["source"]
            .as_str()
            .is_some_and(|s| s.contains("parse_json(.message)"))
    );
    let sink = &config["sinks"]["files"];
    assert_eq!(sink["type"].as_str(), Some("file"));
    assert_eq!(sink["inputs"][0].as_str(), Some("parsed"));
    assert!(
        sink["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/var/log/lab/"))
    );
    assert_eq!(sink["encoding"]["codec"].as_str(), Some("json"));
}

#[test]
fn the_image_holds_the_lab_binary() {
    let dockerfile =
        std::fs::read_to_string(workspace().join("Dockerfile")).expect("the Dockerfile");
    let flat = dockerfile.replace("\\\n", " ");
    let flat: Vec<&str> = flat.lines().collect();
    let has = |prefix: &str, needle: &str| {
        flat.iter()
            .any(|l| l.starts_with(prefix) && format!("{l} ").contains(needle))
    };
    assert!(has("RUN cargo build", "-p lab "), "the build lacks -p lab");
    assert!(
        has("RUN cargo build", "target/release/lab "),
        "lab is not installed"
    );
    assert!(
        has("COPY --from=builder", "/usr/local/bin/lab "),
        "lab is not copied"
    );
    assert!(
        has("EXPOSE", " 5001 ") && has("EXPOSE", " 5002 "),
        "5001, 5002 not exposed"
    );
}
