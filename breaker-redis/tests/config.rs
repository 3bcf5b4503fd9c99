//! Configuration: defaults, validation with clear errors, and the serde form read from files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use breaker_redis::{Breaker, Config, ConfigError, DegradedMode, Settings, TripPolicy, Window};

#[test]
fn defaults_are_the_original_service_a_settings() {
    let cfg = Config::default();
    assert_eq!(cfg.max_requests(), 3);
    assert_eq!(cfg.success_threshold(), 3);
    assert_eq!(cfg.window(), Window::Fixed(Duration::from_secs(5)));
    assert_eq!(cfg.open_timeout(), Duration::from_secs(10));
    assert_eq!(cfg.trip(), TripPolicy::failure_ratio(0.6, 3));
    assert_eq!(cfg.degraded_mode(), DegradedMode::Local);
    assert_eq!(Settings::default().build().unwrap(), cfg);
}

#[test]
fn settings_read_from_toml_with_human_durations() {
    let settings: Settings = toml::from_str(
        r#"
        trip = "failure_ratio_above"
        failure_ratio = 0.5
        min_requests = 4
        rolling_window = "10s"
        buckets = 20
        timeout = "30s"
        max_requests = 1
        slow_call_threshold = "250ms"
        degraded_mode = "fail-closed"
        "#,
    )
    .unwrap();
    let cfg = settings.build().unwrap();
    assert_eq!(cfg.trip(), TripPolicy::failure_ratio_above(0.5, 4));
    assert_eq!(
        cfg.window(),
        Window::Rolling {
            length: Duration::from_secs(10),
            buckets: 20
        }
    );
    assert_eq!(cfg.open_timeout(), Duration::from_secs(30));
    assert_eq!(cfg.success_threshold(), 1);
    assert_eq!(cfg.slow_call_threshold(), Some(Duration::from_millis(250)));
    assert_eq!(cfg.degraded_mode(), DegradedMode::FailClosed);
}

#[test]
fn unknown_fields_and_bad_durations_are_rejected() {
    let unknown = toml::from_str::<Settings>("max_request = 3")
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("unknown field `max_request`"), "{unknown}");
    let bad = toml::from_str::<Settings>("timeout = \"ten seconds\"")
        .unwrap_err()
        .to_string();
    assert!(bad.contains("timeout"), "{bad}");
}

fn error(b: breaker_redis::ConfigBuilder) -> ConfigError {
    b.build().expect_err("invalid")
}

#[test]
fn invalid_values_name_the_setting() {
    let cases = [
        (error(Config::builder().max_requests(0)), "max_requests"),
        (
            error(Config::builder().trip(TripPolicy::failure_ratio(1.5, 3))),
            "failure_ratio",
        ),
        (
            error(Config::builder().trip(TripPolicy::failure_ratio(0.0, 3))),
            "failure_ratio",
        ),
        (
            error(Config::builder().trip(TripPolicy::failure_ratio(f64::NAN, 3))),
            "failure_ratio",
        ),
        (
            error(Config::builder().trip(TripPolicy::failure_ratio(0.5, 0))),
            "min_requests",
        ),
        (
            error(Config::builder().trip(TripPolicy::consecutive_failures(0))),
            "failures",
        ),
        (
            error(Config::builder().open_timeout(Duration::ZERO)),
            "timeout",
        ),
        (
            error(Config::builder().interval(Duration::from_micros(10))),
            "interval",
        ),
        (
            error(Config::builder().rolling_window(Duration::from_secs(10), 3)),
            "buckets",
        ),
        (
            error(Config::builder().rolling_window(Duration::from_secs(10), 0)),
            "buckets",
        ),
        (
            error(Config::builder().success_threshold(0)),
            "success_threshold",
        ),
        (
            error(Config::builder().key_prefix("a b".into())),
            "key_prefix",
        ),
        (
            error(Config::builder().key_prefix("x{y}".into())),
            "key_prefix",
        ),
        (
            error(Config::builder().key_ttl(Duration::from_secs(5))),
            "key_ttl",
        ),
    ];
    for (err, setting) in cases {
        assert_eq!(err.setting, setting, "{err}");
        assert!(err.to_string().contains(setting), "{err}");
    }
}

#[test]
fn breaker_names_are_validated() {
    for bad in ["", "has space", "brace{", "new\nline", &"x".repeat(129)] {
        let err = Breaker::builder(bad).build().expect_err(bad);
        assert_eq!(err.setting, "name", "{bad:?}");
    }
    for good in ["service-b", "payments.v2", "a:b_c", &"x".repeat(128)] {
        assert!(Breaker::builder(good).build().is_ok(), "{good}");
    }
}
