//! Durations past any sensible value are refused when the configuration is built, naming the
//! setting, instead of overflowing the state machine or reaching Redis as `1e+20`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use breaker_redis::{Admission, Config, ConfigBuilder, MAX_DURATION, Settings};

const TOO_LONG: Duration = Duration::from_secs(366 * 24 * 3600);
const HUGE: Duration = Duration::from_secs(u64::MAX / 1000);

fn setting(b: ConfigBuilder) -> &'static str {
    b.build()
        .expect_err("a duration over a year is refused")
        .setting
}

#[test]
fn every_duration_of_the_builder_has_an_upper_bound() {
    let ttl = |b: ConfigBuilder| b.key_ttl(MAX_DURATION);
    for d in [TOO_LONG, HUGE] {
        assert_eq!(setting(ttl(Config::builder()).open_timeout(d)), "timeout");
        assert_eq!(setting(ttl(Config::builder()).lease(d)), "lease");
        assert_eq!(setting(ttl(Config::builder()).interval(d)), "interval");
        assert_eq!(
            setting(ttl(Config::builder()).rolling_window(d, 1)),
            "rolling_window"
        );
        assert_eq!(setting(Config::builder().key_ttl(d)), "key_ttl");
        assert_eq!(setting(Config::builder().store_timeout(d)), "store_timeout");
        assert_eq!(setting(Config::builder().retry_backoff(d)), "retry_backoff");
        assert_eq!(
            setting(Config::builder().slow_call_threshold(Some(d))),
            "slow_call_threshold"
        );
        let cached = |flush_interval, max_staleness| Admission::Cached {
            flush_interval,
            max_batch: 16,
            max_staleness,
        };
        let second = Duration::from_secs(1);
        assert_eq!(
            setting(Config::builder().admission(cached(d, second))),
            "flush_interval"
        );
        assert_eq!(
            setting(Config::builder().admission(cached(second, d))),
            "max_staleness"
        );
    }
}

#[test]
fn a_year_is_accepted() {
    let cfg = Config::builder()
        .open_timeout(MAX_DURATION - Duration::from_secs(1))
        .key_ttl(MAX_DURATION)
        .build()
        .unwrap();
    assert_eq!(cfg.key_ttl(), MAX_DURATION);
}

#[test]
fn settings_name_the_field_that_is_too_long() {
    let settings: Settings = toml::from_str(
        r#"
        timeout = "400days"
        key_ttl = "1000years"
        "#,
    )
    .unwrap();
    let error = settings.build().unwrap_err();
    assert_eq!(error.setting, "timeout");
    assert!(error.to_string().contains("one year"), "{error}");
}
