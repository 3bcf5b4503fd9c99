//! `docker-compose.yml`, `Dockerfile` and `.dockerignore` at the workspace root: Compose 1.29
//! (Debian's `docker-compose`, which validates without a Docker engine) accepts the file with
//! and without each profile, and it describes the demo: the A/B system's four services without
//! a profile, the shop's five in the `shop` profile, the discovery system's eight in the
//! `discovery` profile, the chain's three in the `chain` profile, the published ports,
//! healthchecks and start order.

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
        "COMPOSE_PROFILES",
        "SHOP_NET",
        "DISCOVERY_PUBLISHED_PORT",
        "CHAIN_USER_PORT",
        "CHAIN_ORDER_PORT",
        "CHAIN_INVENTORY_PORT",
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

/// The profiles of the file; each is checked on its own.
const PROFILES: [&str; 2] = ["shop", "chain"];

#[test]
fn docker_compose_accepts_the_file_with_every_profile() {
    assert_success(&compose(&["config", "-q"]), "docker-compose config -q");
    for profile in PROFILES {
        assert_success(
            &compose(&["--profile", profile, "config", "-q"]),
            &format!("docker-compose --profile {profile} config -q"),
        );
    }
}

/// The file as Compose resolves it for `profiles` (anchors merged, variables replaced, ports in
/// long form).
fn resolved_config(profiles: &[&str]) -> Value {
    let mut args: Vec<&str> = profiles.iter().flat_map(|p| ["--profile", *p]).collect();
    args.push("config");
    let output = compose(&args);
    assert_success(&output, &format!("docker-compose {}", args.join(" ")));
    serde_yaml::from_slice(&output.stdout).expect("YAML from compose")
}

/// The services as Compose resolves them without a profile.
fn resolved() -> BTreeMap<String, Value> {
    services(&resolved_config(&[]), &[])
}

/// The services that `up` starts with `profiles`: those without a profile and those in one of
/// `profiles` (Compose 1.29's `config` lists every service, whatever the profiles).
fn services(config: &Value, profiles: &[&str]) -> BTreeMap<String, Value> {
    let all: BTreeMap<String, Value> =
        serde_yaml::from_value(config["services"].clone()).expect("a services map");
    all.into_iter()
        .filter(|(_, service)| match service.get("profiles") {
            None => true,
            Some(theirs) => strings(theirs)
                .iter()
                .any(|p| profiles.contains(&p.as_str())),
        })
        .collect()
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
    assert_eq!(
        names,
        [
            "dashboard",
            "redis",
            "service-a-1",
            "service-a-2",
            "service-b"
        ]
    );

    let redis = &services["redis"];
    assert_eq!(redis["image"].as_str(), Some("redis:7.4.2-alpine"));
    assert_eq!(
        strings(&redis["healthcheck"]["test"]),
        ["CMD", "redis-cli", "ping"]
    );
    assert!(port_mappings(redis).is_empty());

    let expected = [
        ("dashboard", "8088:8088", "dashboard"),
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
        assert_checks_itself(service, &[], name);
    }

    for (name, instance) in [
        ("service-a-1", "service-a-1"),
        ("service-a-2", "service-a-2"),
    ] {
        let service = &services[name];
        let env = &service["environment"];
        assert_eq!(
            env["REDIS_URL"].as_str(),
            Some("redis://services:services-demo-password@redis:6379")
        );
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
fn the_image_builds_every_binary_and_runs_unprivileged() {
    let root = workspace();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|line| line.starts_with("FROM "))
        .collect();
    assert_eq!(
        stages,
        [
            "FROM rust:1.95.0-bookworm AS chef",
            "FROM rust:1.95.0-bookworm AS planner",
            "FROM rust:1.95.0-bookworm AS builder",
            "FROM debian:12.12-slim"
        ]
    );
    for expected in [
        "cargo install cargo-chef --locked",
        "cargo chef prepare --recipe-path recipe.json",
        "--no-install-recommends ca-certificates \\\n",
        "USER app",
    ] {
        assert!(
            dockerfile.contains(expected),
            "Dockerfile lacks {expected:?}"
        );
    }
    // Healthchecks run the binaries themselves: no curl in the runtime image.
    let runtime = dockerfile.rsplit("FROM ").next().unwrap_or_default();
    assert!(
        !runtime
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("curl")),
        "{runtime}"
    );
    assert_ships(&dockerfile, "service-a", &[8080]);
    assert_ships(&dockerfile, "service-b", &[8081]);
    assert_ships(&dockerfile, "shop", &[3000, 3001, 3002, 3003]);
    assert_ships(&dockerfile, "dashboard", &[8088]);
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

/// The container's healthcheck runs its own binary: `CMD <command...> healthcheck <extra...>`,
/// so that the image needs no curl.
fn assert_checks_itself(service: &Value, extra: &[&str], name: &str) {
    let mut expected = vec!["CMD".to_owned()];
    expected.extend(strings(&service["command"]));
    expected.push("healthcheck".to_owned());
    expected.extend(extra.iter().map(|e| (*e).to_owned()));
    assert_eq!(strings(&service["healthcheck"]["test"]), expected, "{name}");
}

/// Every container of every profile runs with the least privilege the hardening anchor gives.
#[test]
fn every_container_is_read_only_without_capabilities_and_bounded() {
    let profiles = ["shop", "discovery", "chain", "lab"];
    let services = services(&resolved_config(&profiles), &profiles);
    assert!(services.len() > 20, "{:?}", services.keys());
    for (name, service) in &services {
        assert_eq!(service["read_only"].as_bool(), Some(true), "{name}");
        assert_eq!(strings(&service["cap_drop"]), ["ALL"], "{name}");
        assert_eq!(
            strings(&service["security_opt"]),
            ["no-new-privileges:true"],
            "{name}"
        );
        for limit in ["mem_limit", "cpus", "pids_limit"] {
            assert!(!service[limit].is_null(), "{name} has no {limit}");
        }
        let image = service["image"].as_str().unwrap_or_default();
        assert!(
            !image.ends_with(":latest") || service["build"].is_mapping(),
            "{name}: {image}"
        );
        assert!(image.contains(':'), "{name}: {image} is not pinned");
    }
}

/// `(service, published:target, subcommand)` of the shop profile.
const SHOP: [(&str, &str, &str); 5] = [
    ("payment", "3001:3001", "payment"),
    ("inventory", "3002:3002", "inventory"),
    ("shipping", "3003:3003", "shipping"),
    ("gateway", "3000:3000", "gateway"),
    ("gateway-2", "3010:3000", "gateway"),
];

fn env_var<'a>(service: &'a Value, key: &str) -> Option<&'a str> {
    service["environment"][key].as_str()
}

fn waits_for(service: &Value, dependency: &str) -> bool {
    service["depends_on"][dependency]["condition"].as_str() == Some("service_healthy")
}

#[test]
fn the_shop_profile_runs_every_shop_service_from_the_one_image() {
    let config = resolved_config(&["shop"]);
    let services = services(&config, &["shop"]);
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "dashboard",
            "gateway",
            "gateway-2",
            "inventory",
            "payment",
            "redis",
            "service-a-1",
            "service-a-2",
            "service-b",
            "shipping"
        ]
    );
    let image = services["service-b"]["image"].clone();
    for (name, mapping, subcommand) in SHOP {
        let service = &services[name];
        assert_eq!(strings(&service["profiles"]), ["shop"], "{name}");
        assert_eq!(service["image"], image, "{name} runs the A/B image");
        assert!(service["build"].is_mapping(), "{name} is built");
        assert_eq!(strings(&service["command"]), ["shop", subcommand], "{name}");
        assert_eq!(port_mappings(service), [mapping], "{name}");
        let container_port = mapping.rsplit(':').next().expect("a target port");
        assert_eq!(env_var(service, "PORT"), Some(container_port), "{name}");
        assert_checks_itself(service, &[], name);
    }

    for (name, instance) in [("gateway", "gateway-1"), ("gateway-2", "gateway-2")] {
        let gateway = &services[name];
        assert_eq!(env_var(gateway, "INSTANCE_ID"), Some(instance));
        for (key, url) in [
            (
                "REDIS_URL",
                "redis://services:services-demo-password@redis:6379",
            ),
            ("PAYMENT_SERVICE_URL", "http://payment:3001"),
            ("INVENTORY_SERVICE_URL", "http://inventory:3002"),
            ("SHIPPING_SERVICE_URL", "http://shipping:3003"),
        ] {
            assert_eq!(env_var(gateway, key), Some(url), "{name} {key}");
        }
        for dependency in ["redis", "payment", "inventory", "shipping"] {
            assert!(
                waits_for(gateway, dependency),
                "{name} waits for {dependency}"
            );
        }
    }
    for name in ["payment", "shipping"] {
        let service = &services[name];
        assert_eq!(
            env_var(service, "REDIS_URL"),
            Some("redis://services:services-demo-password@redis:6379")
        );
        assert!(waits_for(service, "redis"), "{name} waits for redis");
    }
}

/// Shipping believes X-Forwarded-For from exactly the two gateways, whose addresses are fixed
/// inside the shop network's subnet; Redis is on both systems' networks.
#[test]
fn shipping_trusts_exactly_the_gateways_addresses() {
    let config = resolved_config(&["shop"]);
    let services = services(&config, &["shop"]);
    let addresses: Vec<String> = ["gateway", "gateway-2"]
        .iter()
        .map(|name| scalar(&services[*name]["networks"]["shop"]["ipv4_address"]))
        .collect();
    assert_eq!(addresses, ["172.30.123.10", "172.30.123.11"]);
    assert_eq!(
        env_var(&services["shipping"], "TRUSTED_PROXIES"),
        Some(addresses.join(",").as_str())
    );
    let subnets: Vec<String> = config["networks"]["shop"]["ipam"]["config"]
        .as_sequence()
        .expect("the shop network has an IPAM config")
        .iter()
        .map(|entry| scalar(&entry["subnet"]))
        .collect();
    assert_eq!(subnets, ["172.30.123.0/24"]);
    // No address on the shop network is handed out by the engine, which could give a
    // gateway's to a container started before it.
    let mut fixed: Vec<String> = ["redis", "payment", "inventory", "shipping"]
        .iter()
        .map(|name| scalar(&services[*name]["networks"]["shop"]["ipv4_address"]))
        .chain(addresses.iter().cloned())
        .collect();
    fixed.sort();
    fixed.dedup();
    assert_eq!(fixed.len(), 6, "six distinct fixed addresses: {fixed:?}");
    for (name, _, _) in SHOP {
        assert!(
            services[name]["networks"]
                .as_mapping()
                .is_some_and(|nets| nets.contains_key("shop")),
            "{name} is on the shop network"
        );
    }
    let redis_networks = services["redis"]["networks"]
        .as_mapping()
        .expect("redis names its networks");
    for network in ["default", "shop"] {
        assert!(
            redis_networks.contains_key(network),
            "redis is on {network}"
        );
    }
    for name in ["service-a-1", "service-a-2", "service-b"] {
        let networks = services[name]["networks"].as_mapping();
        assert!(
            networks.is_none_or(|nets| !nets.contains_key("shop")),
            "{name} stays off the shop network"
        );
    }
}

/// `(service, port, subcommand)` of the discovery profile: published on the same port.
const DISCOVERY: [(&str, u16, &str); 8] = [
    ("discovery", 3000, "server"),
    ("user-1", 4000, "user"),
    ("user-2", 4001, "user"),
    ("user-3", 4002, "user"),
    ("order-1", 5000, "order"),
    ("order-2", 5001, "order"),
    ("order-3", 5002, "order"),
    ("discovery-gateway", 8000, "gateway"),
];

#[test]
fn the_discovery_profile_starts_the_registry_then_the_instances_then_the_gateway() {
    let check = compose(&["--profile", "discovery", "config", "-q"]);
    assert_success(&check, "docker-compose --profile discovery config -q");
    let config = resolved_config(&["discovery"]);
    let services = services(&config, &["discovery"]);
    let image = services["service-b"]["image"].clone();
    for (name, port, subcommand) in DISCOVERY {
        let service = &services[name];
        assert_eq!(strings(&service["profiles"]), ["discovery"], "{name}");
        assert_eq!(service["image"], image, "{name} runs the one image");
        assert_eq!(strings(&service["command"]), ["discovery", subcommand]);
        assert_eq!(port_mappings(service), [format!("{port}:{port}")], "{name}");
        assert_eq!(env_var(service, "PORT"), Some(port.to_string().as_str()));
        assert_eq!(env_var(service, "INSTANCE_ID"), Some(name));
        // The registry is ready when its API answers; the others when /health does.
        let path: &[&str] = if subcommand == "server" {
            &["/services"]
        } else {
            &[]
        };
        assert_checks_itself(service, path, name);
        if subcommand == "server" {
            assert_eq!(
                env_var(service, "REDIS_URL"),
                Some("redis://services:services-demo-password@redis:6379")
            );
            assert!(waits_for(service, "redis"));
            continue;
        }
        assert_eq!(
            env_var(service, "DISCOVERY_URL"),
            Some("http://discovery:3000")
        );
        // Registered under its service name, which the gateway resolves on this network.
        assert_eq!(env_var(service, "SERVICE_HOST"), Some(name), "{name}");
    }
    for (name, _, subcommand) in &DISCOVERY[1..7] {
        assert!(waits_for(&services[*name], "discovery"), "{name}");
        assert_eq!(env_var(&services[*name], "REDIS_URL"), None, "{subcommand}");
    }
    let gateway = &services["discovery-gateway"];
    assert_eq!(
        env_var(gateway, "REDIS_URL"),
        Some("redis://services:services-demo-password@redis:6379")
    );
    for (dependency, _, _) in &DISCOVERY[1..7] {
        assert!(
            waits_for(gateway, dependency),
            "the gateway waits for {dependency}"
        );
    }
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).expect("Dockerfile");
    assert_ships(
        &dockerfile,
        "discovery",
        &[3000, 4000, 4001, 4002, 5000, 5001, 5002, 8000],
    );
}

/// The Dockerfile's instructions, each with its continuation lines joined.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut current = String::new();
    for line in dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
    {
        match line.trim_end().strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                all.push(
                    std::mem::take(&mut current)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
        }
    }
    all
}

/// The image cooks the dependencies of `binary`, builds and installs it, copies it into the
/// runtime stage, and exposes `ports`.
fn assert_ships(dockerfile: &str, binary: &str, ports: &[u16]) {
    let all = instructions(dockerfile);
    let find = |prefix: &str| {
        all.iter()
            .find(|i| i.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in the Dockerfile"))
            .clone()
    };
    let flag = format!("-p {binary} ");
    assert!(
        format!("{} ", find("RUN cargo chef cook")).contains(&flag),
        "cook lacks {flag}"
    );
    let build = format!("{} ", find("RUN cargo build"));
    assert!(build.contains(&flag), "the build lacks {flag}");
    assert!(
        build.contains(&format!("target/release/{binary} ")),
        "{binary} not installed"
    );
    let copy = find("COPY --from=builder /usr/local/bin/");
    assert!(
        copy.contains(&format!("/usr/local/bin/{binary} ")),
        "{binary} not copied"
    );
    let exposed = find("EXPOSE");
    for port in ports {
        assert!(
            exposed.split_whitespace().any(|p| p == port.to_string()),
            "{port} not exposed"
        );
    }
}

/// The variable naming the next service of the chain, and its URL.
type Next = Option<(&'static str, &'static str)>;

/// `(service, published:target, subcommand, next)` of the chain profile: the seed's ports
/// inside, 10000 higher on the host, away from A/B's.
const CHAIN: [(&str, &str, &str, Next); 3] = [
    ("chain-inventory", "18082:8082", "inventory", None),
    (
        "chain-order",
        "18081:8081",
        "order",
        Some(("INVENTORY_SERVICE_URL", "http://chain-inventory:8082")),
    ),
    (
        "chain-user",
        "18080:8080",
        "user",
        Some(("ORDER_SERVICE_URL", "http://chain-order:8081")),
    ),
];

#[test]
fn the_chain_profile_runs_beside_ab_on_ports_of_its_own() {
    let config = resolved_config(&["chain"]);
    let services = services(&config, &["chain"]);
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "chain-inventory",
            "chain-order",
            "chain-user",
            "dashboard",
            "redis",
            "service-a-1",
            "service-a-2",
            "service-b"
        ]
    );
    let image = services["service-b"]["image"].clone();
    let mut published: Vec<String> = Vec::new();
    for (name, service) in &services {
        for mapping in port_mappings(service) {
            let host = mapping.split(':').next().expect("a host port").to_owned();
            assert!(!published.contains(&host), "{name} publishes {host} again");
            published.push(host);
        }
    }
    for (name, mapping, subcommand, next) in CHAIN {
        let service = &services[name];
        assert_eq!(strings(&service["profiles"]), ["chain"], "{name}");
        assert_eq!(service["image"], image, "{name} runs the A/B image");
        assert_eq!(
            strings(&service["command"]),
            ["chain", subcommand],
            "{name}"
        );
        assert_eq!(port_mappings(service), [mapping], "{name}");
        let container_port = mapping.rsplit(':').next().expect("a target port");
        assert_eq!(env_var(service, "PORT"), Some(container_port), "{name}");
        assert_checks_itself(service, &[], name);
        if let Some((key, url)) = next {
            assert_eq!(env_var(service, key), Some(url), "{name} {key}");
            assert_eq!(
                env_var(service, "REDIS_URL"),
                Some("redis://services:services-demo-password@redis:6379")
            );
            assert!(waits_for(service, "redis"), "{name} waits for redis");
            let next = url.trim_start_matches("http://").split(':').next();
            let next = next.expect("a host");
            assert!(waits_for(service, next), "{name} waits for {next}");
        }
    }
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).expect("Dockerfile");
    assert_ships(&dockerfile, "chain", &[8080, 8081, 8082]);
}
