//! Configuration from variables (through service-kit's loader) and its validation.

use std::io::Write;
use std::time::Duration;

use service_a::{Config, FallbackMode, StartError};
use service_kit::{Loader, ServerConfig};

fn load(vars: &[(&str, &str)]) -> Result<Config, service_kit::ConfigError> {
    let noise = [("PATH", "/usr/bin"), ("HOME", "/root"), ("HOSTNAME", "box")];
    let vars = noise
        .iter()
        .chain(vars)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    Loader::from_vars(vars)?.load()
}

/// The message of the error `router` gives for `vars`.
async fn start_error(vars: &[(&str, &str)]) -> String {
    let config = match load(vars) {
        Ok(config) => config,
        Err(e) => return e.to_string(),
    };
    let server = ServerConfig::new("service-a", 0);
    match service_a::router(&config, &server).await {
        Ok(_) => panic!("{vars:?} should be rejected"),
        Err(StartError::Config(e)) => e.to_string(),
        Err(e) => panic!("not a configuration error: {e}"),
    }
}

#[test]
fn defaults_are_the_original_demo() {
    let config = load(&[]).expect("valid");
    assert_eq!(config, Config::default());
    assert_eq!(config.redis_url, "redis://127.0.0.1:6379");
    assert_eq!(
        config.hello_url().expect("valid").as_str(),
        "http://127.0.0.1:8081/hello"
    );
    assert_eq!(config.service_b_timeout, Duration::from_secs(2));
    assert_eq!(config.admin_token(), None);
    let breaker = config.breaker_config().expect("valid");
    assert_eq!(breaker.max_requests(), 3);
    assert_eq!(breaker.open_timeout(), Duration::from_secs(10));
    assert_eq!(breaker.window().length(), Duration::from_secs(5));
    assert_eq!(breaker.lease(), Duration::from_secs(10));
    // Every resilience pattern is off.
    assert_eq!(config.retry_policy().expect("valid").max_attempts(), 1);
    assert_eq!(config.rate_limit_config().expect("valid"), None);
    assert!(config.bulkhead("b").expect("valid").is_none());
    assert_eq!(config.fallback, FallbackMode::None);
}

#[test]
fn variables_set_every_resilience_value() {
    let config = load(&[
        ("RETRY__MAX_ATTEMPTS", "3"),
        ("RETRY__BASE_DELAY", "50ms"),
        ("RETRY__MAX_DELAY", "1s"),
        ("RETRY__BUDGET_RATIO", "0.5"),
        ("RATE_LIMIT__PER_SECOND", "10"),
        ("RATE_LIMIT__BURST", "20"),
        ("BULKHEAD__MAX_CONCURRENT", "4"),
        ("BULKHEAD__MAX_WAIT", "20ms"),
        ("FALLBACK", "last-good"),
        ("FALLBACK_TTL", "1m"),
    ])
    .expect("valid");
    let retry = config.retry_policy().expect("valid");
    assert_eq!(retry.max_attempts(), 3);
    assert_eq!(retry.base_delay(), Duration::from_millis(50));
    assert_eq!(retry.max_delay(), Duration::from_secs(1));
    assert_eq!(retry.budget().expect("a budget").ratio, 0.5);
    let quota = config
        .rate_limit_config()
        .expect("valid")
        .expect("on")
        .quota();
    assert_eq!(
        (quota.count(), quota.period(), quota.burst()),
        (10, Duration::from_secs(1), 20)
    );
    let bulkhead = config.bulkhead("b").expect("valid").expect("on");
    assert_eq!(
        (bulkhead.max_concurrent(), bulkhead.max_wait()),
        (4, Duration::from_millis(20))
    );
    assert_eq!(config.fallback, FallbackMode::LastGood);
    assert_eq!(
        config.fallback_ttl().expect("valid"),
        Duration::from_secs(60)
    );

    let config = load(&[("RATE_LIMIT__RATE", "100/1m")]).expect("valid");
    let quota = config
        .rate_limit_config()
        .expect("valid")
        .expect("on")
        .quota();
    assert_eq!((quota.count(), quota.burst()), (100, 100));
    let config = load(&[("RATE_LIMIT__PER_SECOND", "0"), ("RATE_LIMIT__BURST", "5")]);
    assert_eq!(
        config.expect("valid").rate_limit_config().expect("valid"),
        None
    );
}

#[test]
fn variables_set_every_value() {
    let config = load(&[
        ("REDIS_URL", "redis://r:6380/1"),
        ("SERVICE_B_URL", "http://b:9000/"),
        ("SERVICE_B_TIMEOUT", "500ms"),
        ("ADMIN_TOKEN", "007"),
        ("BREAKER__MAX_REQUESTS", "5"),
        ("BREAKER__INTERVAL", "1m"),
        ("BREAKER__TIMEOUT", "2s"),
        ("BREAKER__MIN_REQUESTS", "10"),
        ("BREAKER__FAILURE_RATIO", "0.5"),
        ("BREAKER__STORE_TIMEOUT", "50ms"),
    ])
    .expect("valid");
    assert_eq!(config.redis_url, "redis://r:6380/1");
    assert_eq!(
        config.hello_url().expect("valid").as_str(),
        "http://b:9000/hello"
    );
    assert_eq!(config.service_b_timeout, Duration::from_millis(500));
    assert_eq!(config.admin_token(), Some("007"));
    let breaker = config.breaker_config().expect("valid");
    assert_eq!(breaker.max_requests(), 5);
    assert_eq!(breaker.window().length(), Duration::from_secs(60));
    assert_eq!(breaker.open_timeout(), Duration::from_secs(2));
    assert_eq!(breaker.store_timeout(), Duration::from_millis(50));
    let trip = breaker_redis::TripPolicy::failure_ratio(0.5, 10);
    assert_eq!(breaker.trip(), trip);
}

#[test]
fn the_backend_and_the_admission_are_chosen_by_variables() {
    let config = load(&[]).expect("valid");
    assert_eq!(config.breaker_backend, service_a::Backend::Redis);
    assert_eq!(
        config.breaker_config().expect("valid").admission(),
        breaker_redis::Admission::Strict
    );
    for (value, backend) in [
        ("redis", service_a::Backend::Redis),
        ("memory", service_a::Backend::Memory),
        ("none", service_a::Backend::None),
    ] {
        let config = load(&[("BREAKER_BACKEND", value)]).expect("valid");
        assert_eq!(config.breaker_backend, backend);
    }
    let config = load(&[("BREAKER__ADMISSION", "cached")]).expect("valid");
    assert_eq!(
        config.breaker_config().expect("valid").admission(),
        breaker_redis::Admission::cached()
    );
}

#[test]
fn the_lease_follows_the_call_timeout_unless_given() {
    let lease = |vars: &[(&str, &str)]| {
        load(vars)
            .expect("valid")
            .breaker_config()
            .expect("valid")
            .lease()
    };
    assert_eq!(
        lease(&[("SERVICE_B_TIMEOUT", "15s")]),
        Duration::from_secs(16)
    );
    assert_eq!(
        lease(&[("SERVICE_B_TIMEOUT", "15s"), ("BREAKER__LEASE", "5s")]),
        Duration::from_secs(5)
    );
    assert_eq!(lease(&[("BREAKER__LEASE", "3s")]), Duration::from_secs(3));
    assert_eq!(
        lease(&[("SERVICE_B_TIMEOUT", "1s")]),
        Duration::from_secs(10)
    );
}

#[test]
fn a_lease_in_the_config_file_counts_as_given() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(
        file,
        "service_b_timeout = \"20s\"\n[breaker]\nlease = \"4s\"\nmax_requests = 2"
    )
    .expect("write");
    let path = file.path().to_string_lossy().into_owned();
    let config = load(&[("CONFIG_FILE", &path)]).expect("valid");
    assert_eq!(config.breaker.lease, Some(Duration::from_secs(4)));
    let breaker = config.breaker_config().expect("valid");
    assert_eq!(
        (breaker.lease(), breaker.max_requests()),
        (Duration::from_secs(4), 2)
    );
}

/// Invalid settings, as `VAR=value` pairs; the error must name the last variable.
const INVALID: &[&str] = &[
    "BREAKER__MAX_REQUESTS=0",
    "BREAKER__MAX_REQUESTS=x",
    "BREAKER__FAILURE_RATIO=2",
    "BREAKER__TIMEOUT=soon",
    "BREAKER__TYPO=1",
    "BREAKER__TRIP=consecutive_failures BREAKER__FAILURES=0",
    "BREAKER__KEY_PREFIX=a{b}",
    "SERVICE_B_TIMEOUT=abc",
    "SERVICE_B_TIMEOUT=0s",
    "SERVICE_B_URL=ftp://x",
    "REDIS_URL=not-a-url",
    "BREAKER_BACKEND=disk",
    "BREAKER__ADMISSION=sometimes",
    "RETRY__MAX_ATTEMPTS=0",
    "RETRY__MAX_ATTEMPTS=x",
    "RETRY__BASE_DELAY=soon",
    "RETRY__MAX_ATTEMPTS=3 RETRY__BASE_DELAY=5s",
    "RETRY__MULTIPLIER=0.5",
    "RETRY__BUDGET_RATIO=-1",
    "RETRY__BUDGET_WINDOW=0s",
    "RETRY__FOO=1",
    "RATE_LIMIT__PER_SECOND=-1",
    "RATE_LIMIT__PER_SECOND=ten",
    "RATE_LIMIT__BURST=abc",
    "RATE_LIMIT__PER_SECOND=10 RATE_LIMIT__BURST=0",
    "RATE_LIMIT__PER_SECOND=2000000",
    "RATE_LIMIT__RATE=5/never",
    "RATE_LIMIT__PER_SECOND=5 RATE_LIMIT__KEY_PREFIX=a{b}",
    "RATE_LIMIT__PER_SECOND=5 RATE_LIMIT__STORE_TIMEOUT=0s",
    "RATE_LIMIT__FOO=1",
    "BULKHEAD__MAX_CONCURRENT=x",
    "BULKHEAD__MAX_CONCURRENT=-2",
    "BULKHEAD__MAX_WAIT=soon",
    "BULKHEAD__FOO=1",
    "FALLBACK=maybe",
    "FALLBACK_TTL=abc",
    "FALLBACK_TTL=0s",
];

#[tokio::test]
async fn invalid_values_name_their_variable() {
    for case in INVALID {
        let vars: Vec<(&str, &str)> = case
            .split(' ')
            .map(|pair| pair.split_once('=').expect("VAR=value"))
            .collect();
        let message = start_error(&vars).await;
        let (last, _) = vars[vars.len() - 1];
        let expected = format!("invalid value for {last}: ");
        assert!(message.starts_with(&expected), "{case}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}
