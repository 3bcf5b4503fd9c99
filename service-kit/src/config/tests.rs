use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize, PartialEq)]
struct Breaker {
    max_requests: u32,
    #[serde(default)]
    ratio: Option<f64>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Strict {
    max_requests: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
struct App {
    fail_every: Option<u64>,
    admin_token: Option<String>,
    breaker: Option<Breaker>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct WithStrict {
    #[allow(dead_code)]
    breaker: Strict,
}

/// The variables every real process has, which must not disturb loading.
fn noise() -> Vec<(String, String)> {
    [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/root"),
        ("LANG", "C.UTF-8"),
        ("__CF_USER_TEXT_ENCODING", "0x0:0:0"),
        ("OLDPWD", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn loader(vars: &[(&str, &str)]) -> Loader {
    let vars = noise()
        .into_iter()
        .chain(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Loader::from_vars(vars).expect("sources load")
}

fn load_app(vars: &[(&str, &str)]) -> Result<App, ConfigError> {
    loader(vars).load()
}

#[test]
fn numbers_bools_and_nested_sections_parse_from_env_strings() {
    let app = load_app(&[
        ("FAIL_EVERY", "5"),
        ("ENABLED", "true"),
        ("BREAKER__MAX_REQUESTS", "3"),
        ("BREAKER__RATIO", "0.6"),
    ])
    .expect("valid");
    assert_eq!(app.fail_every, Some(5));
    assert_eq!(app.enabled, Some(true));
    let expected = Breaker {
        max_requests: 3,
        ratio: Some(0.6),
    };
    assert_eq!(app.breaker, Some(expected));
}

#[test]
fn numeric_looking_strings_stay_strings() {
    let server =
        ServerConfig::from_loader(&loader(&[("INSTANCE_ID", "007")]), "svc", 1).expect("valid");
    assert_eq!(server.instance_id, "007");
    let server =
        ServerConfig::from_loader(&loader(&[("INSTANCE_ID", "1")]), "svc", 1).expect("valid");
    assert_eq!(server.instance_id, "1");
    let app = load_app(&[("ADMIN_TOKEN", "true")]).expect("valid");
    assert_eq!(app.admin_token.as_deref(), Some("true"));
}

#[test]
fn empty_values_are_unset() {
    let app = load_app(&[("ADMIN_TOKEN", ""), ("FAIL_EVERY", "")]).expect("valid");
    assert_eq!(app.admin_token, None);
    assert_eq!(app.fail_every, None);
}

#[test]
fn errors_name_the_variable() {
    let err = load_app(&[("BREAKER__MAX_REQUESTS", "abc")]).expect_err("not a number");
    assert_eq!(
        err.to_string(),
        "invalid value for BREAKER__MAX_REQUESTS: expected an integer, found string \"abc\""
    );
    // Without `try_parsing`, a float is not silently rounded into an integer field.
    for bad in ["-1", "2.5"] {
        let err = load_app(&[("FAIL_EVERY", bad)]).expect_err("not a u64");
        assert!(
            err.to_string()
                .starts_with("invalid value for FAIL_EVERY: "),
            "{err}"
        );
    }
    let err = ServerConfig::from_loader(&loader(&[("PORT", "70000")]), "svc", 1)
        .expect_err("too large for u16");
    assert!(
        err.to_string().starts_with("invalid value for PORT: "),
        "{err}"
    );
    let err = ServerConfig::from_loader(&loader(&[("BIND_ADDR", "nowhere")]), "svc", 1)
        .expect_err("not an address");
    assert!(
        err.to_string().starts_with("invalid value for BIND_ADDR: "),
        "{err}"
    );
}

#[test]
fn missing_and_unknown_nested_fields_name_the_variable() {
    let err = load_app(&[("BREAKER__RATIO", "0.5")]).expect_err("max_requests missing");
    assert_eq!(
        err.to_string(),
        "missing required setting BREAKER__MAX_REQUESTS"
    );
    let err = loader(&[("BREAKER__MAX_REQUESTS", "3"), ("BREAKER__TYPO", "1")])
        .load::<WithStrict>()
        .expect_err("unknown field in a strict section");
    assert!(
        err.to_string()
            .starts_with("invalid value for BREAKER__TYPO: unknown setting"),
        "{err}"
    );
}

#[test]
fn server_config_defaults_and_overrides() {
    let server = ServerConfig::from_loader(&loader(&[("HOSTNAME", "box")]), "svc", 8081)
        .expect("defaults are valid");
    assert_eq!(server.port, 8081);
    assert_eq!(server.bind_addr, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(
        server.instance_id,
        format!("svc-box-{}", std::process::id())
    );
    assert_eq!(server.max_body_bytes, 64 * 1024);
    let vars = [
        ("PORT", "0"),
        ("BIND_ADDR", "127.0.0.1"),
        ("MAX_BODY_BYTES", "10"),
    ];
    let server = ServerConfig::from_loader(&loader(&vars), "svc", 8081).expect("valid");
    assert_eq!(server.addr().to_string(), "127.0.0.1:0");
    assert_eq!(server.max_body_bytes, 10);
    let err = ServerConfig::from_loader(&loader(&[("MAX_BODY_BYTES", "0")]), "svc", 1)
        .expect_err("zero limit");
    assert!(err.to_string().contains("MAX_BODY_BYTES"), "{err}");
}

#[test]
fn the_file_is_read_and_the_environment_wins() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(file, "fail_every = 4\n[breaker]\nmax_requests = 7").expect("write");
    let path = file.path().to_string_lossy().into_owned();
    let app = load_app(&[("CONFIG_FILE", &path)]).expect("valid");
    assert_eq!(app.fail_every, Some(4));
    assert_eq!(app.breaker.map(|b| b.max_requests), Some(7));
    let app = load_app(&[("CONFIG_FILE", &path), ("FAIL_EVERY", "9")]).expect("valid");
    assert_eq!(app.fail_every, Some(9));
}

#[test]
fn file_errors_name_the_file_key() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(file, "fail_every = \"often\"").expect("write");
    let path = file.path().to_string_lossy().into_owned();
    let err = load_app(&[("CONFIG_FILE", &path)]).expect_err("not a number");
    let message = err.to_string();
    assert!(
        message.contains("`fail_every` in ") && message.contains(&path),
        "{message}"
    );
}

#[test]
fn a_named_file_must_exist_and_parse() {
    let vars = [(
        "CONFIG_FILE".to_owned(),
        "/nonexistent/service.toml".to_owned(),
    )];
    let err = Loader::from_vars(vars).expect_err("missing file");
    assert!(matches!(err, ConfigError::FileMissing { .. }), "{err}");
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(file, "this is = not = toml").expect("write");
    let vars = [(
        "CONFIG_FILE".to_owned(),
        file.path().to_string_lossy().into_owned(),
    )];
    let err = Loader::from_vars(vars).expect_err("bad toml");
    assert!(matches!(err, ConfigError::File { .. }), "{err}");
}
