//! The gateway's two breakers, shared in Redis: `user-service` (3 failures within 30 s, open
//! 30 s) and `order-service` (the same, open 10 s), one trial call when the open period ends.
//! Any `breaker_redis::Settings` field can be changed through `USER_BREAKER__*` and
//! `ORDER_BREAKER__*` (e.g. `USER_BREAKER__TIMEOUT=2s`); what is not given keeps these values.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use breaker_redis::{Breaker, RedisStore, Settings};
use service_kit::{ConfigError, Loader};

/// The breaker around the user service.
pub const USER_BREAKER: &str = "user-service";
/// The breaker around the order service.
pub const ORDER_BREAKER: &str = "order-service";

/// A section of settings given in part (`USER_BREAKER__TIMEOUT=2s` gives `timeout`).
pub type Given = BTreeMap<String, String>;

/// The seed's policy as settings: `failures` within a 30 s window, open `open_for`.
fn defaults(open_for: Duration) -> Vec<(&'static str, String)> {
    vec![
        ("trip", "failure_count".to_owned()),
        ("failures", "3".to_owned()),
        ("rolling_window", "30s".to_owned()),
        ("buckets", "10".to_owned()),
        ("max_requests", "1".to_owned()),
        ("timeout", format!("{}ms", open_for.as_millis())),
    ]
}

/// The settings of the breaker configured by `section` (`USER_BREAKER`), `given` over the
/// seed's policy open `open_for`, validated; errors name the variable.
///
/// # Errors
///
/// A value does not parse or is invalid.
pub fn config(
    section: &str,
    given: &Given,
    open_for: Duration,
    call_timeout: Duration,
) -> Result<breaker_redis::Config, ConfigError> {
    let var = |setting: &str| format!("{section}__{}", setting.to_uppercase());
    let mut vars: BTreeMap<String, String> = defaults(open_for)
        .into_iter()
        .map(|(k, v)| (var(k), v))
        .collect();
    vars.extend(given.iter().map(|(k, v)| (var(k), v.clone())));
    let loader = Loader::from_vars(vars)?;
    let mut sections: HashMap<String, Settings> = loader.load()?;
    let mut settings = sections
        .remove(&section.to_lowercase())
        .ok_or_else(|| ConfigError::invalid(section, "missing"))?;
    // A trial call's permit must outlive the call's own time limit.
    let lease = breaker_redis::Config::default()
        .lease()
        .max(call_timeout + Duration::from_secs(1));
    settings.lease.get_or_insert(lease);
    settings.build().map_err(|e| {
        ConfigError::invalid(format!("{section}__{}", e.setting.to_uppercase()), e.reason)
    })
}

/// The breaker `name` on `store`.
///
/// # Errors
///
/// The name is invalid (never, for the two names here).
pub fn build(
    name: &str,
    config: breaker_redis::Config,
    store: RedisStore,
    replica: &str,
) -> Result<Breaker, ConfigError> {
    Breaker::builder(name)
        .config(config)
        .store(store)
        .replica_id(replica.to_owned())
        .build()
        .map_err(|e| ConfigError::invalid("BREAKER", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_policy_holds_unless_overridden_and_bad_values_name_their_variable() {
        let open = Duration::from_secs(30);
        let config = config("USER_BREAKER", &Given::new(), open, Duration::from_secs(5));
        let config = config.expect("valid");
        assert_eq!(config.open_timeout(), open);
        assert_eq!(config.max_requests(), 1);
        assert_eq!(config.window().length(), Duration::from_secs(30));
        let given = Given::from([("timeout".to_owned(), "1s".to_owned())]);
        let config = super::config("ORDER_BREAKER", &given, open, Duration::from_secs(5));
        assert_eq!(
            config.expect("valid").open_timeout(),
            Duration::from_secs(1)
        );
        let bad = Given::from([("timeout".to_owned(), "soon".to_owned())]);
        let err = super::config("ORDER_BREAKER", &bad, open, Duration::from_secs(5))
            .expect_err("not a duration");
        assert!(err.to_string().contains("ORDER_BREAKER__TIMEOUT"), "{err}");
    }
}
