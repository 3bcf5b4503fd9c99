//! The compose profile `observability`: its Grafana dashboard and Prometheus rules query only
//! metrics that real services expose, `promtool` accepts the rules and the scrape config, and a
//! real Prometheus loads the rules and scrapes service-a and service-b (native, on 127.0.0.1)
//! with every target up and every dashboard query answered.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::procs::{self, Service};
use serde_json::{Value, json};
use test_support::{ChildProcess, RedisServer, free_port};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `expr` of the dashboard, wherever it sits in the JSON.
fn dashboard_exprs() -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr", Value::String(e)) => out.push(e.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let path = root().join("grafana/dashboards/breakers.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard JSON");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard parses");
    let mut exprs = Vec::new();
    walk(&dashboard, &mut exprs);
    exprs
}

/// Every `expr:` of the alert rules (one line each, as the rules file promises).
fn rule_exprs() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("prometheus/rules/breakers.yml"));
    let text = text.expect("the rules file");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_owned())
        .collect()
}

const KEYWORDS: [&str; 19] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "topk",
    "group",
];

/// The metric names a PromQL expression selects: identifiers outside label matchers, ranges,
/// strings and grouping clauses that neither call a function nor are keywords.
fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let (mut names, mut i, mut skip_group) = (Vec::new(), 0, false);
    while i < chars.len() {
        let c = chars[i];
        if let Some(close) = match c {
            '{' => Some('}'),
            '[' => Some(']'),
            '"' => Some('"'),
            '(' if skip_group => Some(')'),
            _ => None,
        } {
            skip_group = false;
            i += 1;
            while i < chars.len() && chars[i] != close {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            // The first six keywords take a list of label names.
            let grouping = &KEYWORDS[..6];
            if grouping.contains(&word.as_str()) {
                skip_group = next == Some(&'(');
            } else if next != Some(&'(') && !KEYWORDS.contains(&word.as_str()) {
                names.push(word);
            }
            continue;
        }
        i += 1;
    }
    names
}

/// The sample names of a `/metrics` body.
fn exposed(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

fn promtool(args: &[&str]) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("promtool: {e}; {}", test_support::INSTALL_PROMETHEUS));
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "promtool {args:?}: {said}");
}

/// service-b down behind service-a until the circuit opens, so that every labelled series has
/// moved; returns A's `/metrics`.
async fn tripped(http: &reqwest::Client, a: &Service, b: &Service) -> String {
    let down = http
        .put(b.url("/faults"))
        .json(&json!({"down": true}))
        .send();
    assert_eq!(down.await.expect("PUT /faults").status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, body) = procs::get(http, &a.url("/call-service-b")).await;
        let text = http.get(a.url("/metrics")).send().await.expect("metrics");
        let text = text.text().await.expect("text");
        if status == StatusCode::SERVICE_UNAVAILABLE && body["breaker"]["state"] == "open" {
            return text;
        }
        assert!(Instant::now() < deadline, "never opened: {body}\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboards_and_rules_query_metrics_that_live_services_expose() {
    promtool(&["check", "rules", "prometheus/rules/breakers.yml"]);
    promtool(&["check", "config", "prometheus/observability.yml"]);
    let redis = RedisServer::start().expect("redis-server starts");
    let b = procs::start(&test_support::cargo_bin("service-b"), "b", &[]).await;
    let (redis_url, b_url) = (redis.url(), b.url(""));
    let env = [
        ("REDIS_URL", redis_url.as_str()),
        ("SERVICE_B_URL", b_url.as_str()),
        ("RATE_LIMIT__PER_SECOND", "1000"),
    ];
    let a_bin = Path::new(env!("CARGO_BIN_EXE_service-a"));
    let a = procs::start(a_bin, "a", &env).await;
    let http = reqwest::Client::new();
    let metrics = exposed(&tripped(&http, &a, &b).await);

    let (dashboard, rules) = (dashboard_exprs(), rule_exprs());
    assert!(
        dashboard.len() >= 9 && rules.len() >= 5,
        "{dashboard:?} {rules:?}"
    );
    for expr in dashboard.iter().chain(&rules) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "no metric in {expr:?}");
        for name in names {
            assert!(
                metrics.contains(&name),
                "{name} (in {expr:?}) is not exposed"
            );
        }
    }

    let prometheus = Prometheus::start(&[&a, &b]).await;
    prometheus.wait_until_scraped_and_evaluated(&http).await;
    for expr in &dashboard {
        let answer = prometheus.query(&http, expr).await;
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
    }
    let open = "max by (breaker, state) (breaker_state) == 1";
    let answer = prometheus.query(&http, open).await;
    let shown = &answer["data"]["result"][0]["metric"];
    assert_eq!(shown["breaker"], "service-b", "{answer}");
}

/// A real Prometheus on a free port, scraping `targets` with the profile's alert rules.
struct Prometheus {
    url: String,
    _process: ChildProcess,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start(targets: &[&Service]) -> Prometheus {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let rules = root().join("prometheus/rules/breakers.yml");
        let rules = rules.canonicalize().expect("the rules file");
        let targets: Vec<String> = targets
            .iter()
            .map(|s| format!("'{}'", s.base.trim_start_matches("http://")))
            .collect();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: ['{}']\n\
             scrape_configs:\n  - job_name: ab\n    static_configs:\n      - targets: [{}]\n",
            rules.display(),
            targets.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("the config is written");
        let port = free_port();
        let mut command = Command::new("prometheus");
        command.args([
            format!("--config.file={}", config_path.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ]);
        let process = ChildProcess::spawn(command, "prometheus")
            .unwrap_or_else(|e| panic!("{e:#}; {}", test_support::INSTALL_PROMETHEUS));
        let ready = process.wait_for_line_async("Server is ready", Duration::from_secs(30));
        ready.await.expect("prometheus starts");
        Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            _process: process,
            _dir: dir,
        }
    }

    async fn get(&self, http: &reqwest::Client, path: &str) -> Value {
        let response = http.get(format!("{}{path}", self.url)).send().await;
        response.expect(path).json().await.expect("JSON")
    }

    async fn query(&self, http: &reqwest::Client, expr: &str) -> Value {
        let url = format!("{}/api/v1/query", self.url);
        let url = reqwest::Url::parse_with_params(&url, &[("query", expr)]).expect("a URL");
        http.get(url)
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("JSON")
    }

    /// Until every target is up and every rule has been evaluated without error.
    async fn wait_until_scraped_and_evaluated(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let targets = self.get(http, "/api/v1/targets").await;
            let rules = self.get(http, "/api/v1/rules").await;
            let active = targets["data"]["activeTargets"].as_array().cloned();
            let up = active.is_some_and(|t| t.len() == 2 && t.iter().all(|t| t["health"] == "up"));
            let all: Vec<Value> = rules["data"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .collect();
            let evaluated = all.len() >= 5 && all.iter().all(|r| r["health"] == "ok");
            if up && evaluated {
                return;
            }
            assert!(Instant::now() < deadline, "{targets}\n{rules}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[test]
fn metric_names_skip_functions_labels_ranges_and_groupings() {
    let expr = r#"histogram_quantile(0.99, sum by (breaker, le) (rate(x_bucket{a="b c"}[1m]))) > on (job) group_left y"#;
    assert_eq!(metric_names(expr), ["x_bucket", "y"]);
}
