//! The trip policy of every shop breaker: opossum's, as the seed set it up.

use std::time::Duration;

use breaker_redis::{Breaker, RedisStore, Settings, TripKind};
use service_kit::breaker::breaker_config;
use service_kit::{ConfigError, ServerConfig};

use super::Overrides;

/// opossum's rule as settings: opens when more than 50 % of the calls in a rolling 10 s window
/// failed (no minimum volume), stays open `open_for`, then admits one trial call.
pub fn opossum_settings(open_for: Duration) -> Settings {
    Settings {
        trip: TripKind::FailureRatioAbove,
        failure_ratio: 0.5,
        min_requests: 1,
        rolling_window: Some(Duration::from_secs(10)),
        buckets: 10,
        max_requests: 1,
        timeout: open_for,
        ..Settings::default()
    }
}

/// [`opossum_settings`] as `(setting, value)` defaults for [`Overrides::apply`].
pub fn opossum_defaults(open_for: Duration) -> Vec<(&'static str, String)> {
    vec![
        ("trip", "failure_ratio_above".to_owned()),
        ("failure_ratio", "0.5".to_owned()),
        ("min_requests", "1".to_owned()),
        ("rolling_window", "10s".to_owned()),
        ("buckets", "10".to_owned()),
        ("max_requests", "1".to_owned()),
        ("timeout", format!("{}ms", open_for.as_millis())),
    ]
}

/// The breaker configuration of a service: opossum's policy open for `open_for`, with the
/// `BREAKER__*` values `given` over it, built by [`breaker_config`].
///
/// # Errors
///
/// An invalid setting, named as its variable.
pub fn opossum_config(
    given: &Overrides,
    open_for: Duration,
    call_timeout: Duration,
) -> Result<breaker_redis::Config, ConfigError> {
    let settings: Settings = given.apply("BREAKER", &opossum_defaults(open_for))?;
    breaker_config(&settings, call_timeout, "BREAKER")
}

/// The breaker `name` in front of a simulated dependency of this replica (`server`): opossum's
/// policy with `given` over it, open `open_for`, its lease above `call_timeout`, shared in `store`.
///
/// # Errors
///
/// An invalid `BREAKER__*` setting, named as its variable.
pub fn dependency_breaker(
    name: &str,
    given: &Overrides,
    open_for: Duration,
    call_timeout: Duration,
    store: RedisStore,
    server: &ServerConfig,
) -> Result<Breaker, ConfigError> {
    let config = opossum_config(given, open_for, call_timeout)?;
    Breaker::builder(name)
        .config(config)
        .store(store)
        .replica_id(server.instance_id.clone())
        .build()
        .map_err(|e| ConfigError::invalid("BREAKER", e))
}

/// Refuses a zero `value` of `variable`: a time limit of 0 or a store of no entries.
///
/// # Errors
///
/// `value` is zero; the error names `variable`.
pub fn nonzero<T: Default + PartialEq>(variable: &str, value: T) -> Result<(), ConfigError> {
    if value == T::default() {
        return Err(ConfigError::invalid(variable, "must be above 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_more_than_half_in_ten_seconds_with_one_trial() {
        let config = breaker_config(
            &opossum_settings(Duration::from_secs(30)),
            Duration::from_secs(3),
            "BREAKER",
        )
        .expect("valid");
        assert_eq!(config.max_requests(), 1);
        assert_eq!(config.open_timeout(), Duration::from_secs(30));
        assert_eq!(config.window().length(), Duration::from_secs(10));
        assert!(config.lease() >= Duration::from_secs(4));
    }

    #[test]
    fn the_defaults_as_text_are_the_policy() {
        let open_for = Duration::from_secs(10);
        let read: Settings = Overrides::default()
            .apply("BREAKER", &opossum_defaults(open_for))
            .expect("valid");
        assert_eq!(read, opossum_settings(open_for));
        let given = Overrides::from_pairs([("timeout", "1s")]);
        let config = opossum_config(&given, open_for, Duration::from_secs(3)).expect("valid");
        assert_eq!(config.open_timeout(), Duration::from_secs(1));
        assert_eq!(config.max_requests(), 1);
        let bad = Overrides::from_pairs([("timeout", "soon")]);
        let err = opossum_config(&bad, open_for, Duration::from_secs(3)).expect_err("bad");
        assert!(err.to_string().contains("BREAKER__TIMEOUT"), "{err}");
    }

    #[test]
    fn a_bad_setting_names_its_variable() {
        let settings = Settings {
            max_requests: 0,
            ..opossum_settings(Duration::from_secs(10))
        };
        let err = breaker_config(&settings, Duration::from_secs(3), "BREAKER")
            .expect_err("no trial call");
        assert!(err.to_string().contains("BREAKER__MAX_REQUESTS"), "{err}");
    }

    #[test]
    fn zero_is_refused_naming_its_variable() {
        assert!(nonzero("MAX_ORDERS", 1_usize).is_ok());
        assert!(nonzero("LIST_TIMEOUT", Duration::from_millis(1)).is_ok());
        let err = nonzero("LIST_TIMEOUT", Duration::ZERO).expect_err("zero");
        assert!(err.to_string().contains("LIST_TIMEOUT"), "{err}");
        assert!(nonzero("MAX_ORDERS", 0_usize).is_err());
    }
}
