//! The trip policy of both chain breakers: the seed's, as settings.

use std::time::Duration;

use breaker_redis::{Settings, TripKind};
use service_kit::{ConfigError, Overrides, breaker};

/// How long a circuit stays open before trial calls, as the seed's breaker did.
const OPEN_FOR: Duration = Duration::from_secs(5);

/// The window the counts live in. Only consecutive failures trip, and a fixed interval would
/// forget them when it ends (gobreaker's `Interval`); in a rolling window only a success (or a
/// transition) resets them, as in the seed's breaker.
const WINDOW: Duration = Duration::from_secs(10);

/// The seed's breaker as settings: opens after 3 consecutive failures, stays open 5 s, then
/// admits 2 trial calls at a time fleet-wide and closes after 2 trial successes (a failed
/// trial opens it again).
pub fn seed_settings() -> Settings {
    Settings {
        trip: TripKind::ConsecutiveFailures,
        failures: 3,
        rolling_window: Some(WINDOW),
        max_requests: 2,
        success_threshold: Some(2),
        timeout: OPEN_FOR,
        ..Settings::default()
    }
}

/// [`seed_settings`] as `(setting, value)` defaults for [`Overrides::apply`].
pub fn seed_defaults() -> Vec<(&'static str, String)> {
    vec![
        ("trip", "consecutive_failures".to_owned()),
        ("failures", "3".to_owned()),
        ("rolling_window", format!("{}s", WINDOW.as_secs())),
        ("max_requests", "2".to_owned()),
        ("success_threshold", "2".to_owned()),
        ("timeout", format!("{}s", OPEN_FOR.as_secs())),
    ]
}

/// The breaker configuration: the seed's policy with the `BREAKER__*` values `given` over it,
/// and (unless given) a half-open lease of at least `call_timeout` + 1 s, so that a trial
/// call never outlives its permit.
///
/// # Errors
///
/// An invalid setting, named as its variable (`BREAKER__TIMEOUT`).
pub fn breaker_config(
    given: &Overrides,
    call_timeout: Duration,
) -> Result<breaker_redis::Config, ConfigError> {
    let settings: Settings = given.apply("BREAKER", &seed_defaults())?;
    breaker::breaker_config(&settings, call_timeout, "BREAKER")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_as_text_are_the_seed_policy() {
        let read: Settings = Overrides::default()
            .apply("BREAKER", &seed_defaults())
            .expect("valid");
        assert_eq!(read, seed_settings());
        let config = breaker_config(&Overrides::default(), Duration::from_secs(2)).expect("valid");
        assert_eq!(config.max_requests(), 2);
        assert_eq!(config.success_threshold(), 2);
        assert_eq!(config.open_timeout(), OPEN_FOR);
        assert!(config.lease() >= Duration::from_secs(3));
    }

    #[test]
    fn one_setting_given_keeps_the_rest_of_the_seed_policy() {
        let given = Overrides::from_pairs([("timeout", "1s")]);
        let config = breaker_config(&given, Duration::from_secs(2)).expect("valid");
        assert_eq!(config.open_timeout(), Duration::from_secs(1));
        assert_eq!(config.max_requests(), 2);
        assert_eq!(config.success_threshold(), 2);
    }

    #[test]
    fn a_bad_setting_names_its_variable() {
        for (setting, value, variable) in [
            ("timeout", "soon", "BREAKER__TIMEOUT"),
            ("max_requests", "0", "BREAKER__MAX_REQUESTS"),
        ] {
            let given = Overrides::from_pairs([(setting, value)]);
            let err = breaker_config(&given, Duration::from_secs(2)).expect_err("bad");
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
