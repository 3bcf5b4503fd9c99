//! [`RetrySettings`]: a [`RetryPolicy`] as it appears in files and environment variables.

use std::time::Duration;

use serde::Deserialize;

use super::policy::{BudgetPolicy, RetryPolicy};
use crate::ConfigError;

/// A retry policy in serde form, flat so that every value is one environment variable
/// (`RETRY__BASE_DELAY=100ms`). Durations read as `"100ms"`, `"2s"`. Unknown fields are
/// rejected; [`RetrySettings::build`] validates the values.
///
/// Retrying is off unless `max_attempts` is set: the other fields tune retries without
/// turning them on, so `RETRY__BASE_DELAY=50ms` alone changes nothing.
///
/// ```
/// use resilience::retry::RetrySettings;
///
/// let settings: RetrySettings = serde_json::from_str(
///     r#"{ "max_attempts": 4, "base_delay": "50ms", "max_delay": "1s", "budget_ratio": 0.1 }"#,
/// ).unwrap();
/// let policy = settings.build().unwrap();
/// assert_eq!(policy.max_attempts(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// Attempts in all, the first included (default: unset, one attempt; 1 also means no
    /// retry).
    pub max_attempts: Option<u32>,
    /// Ceiling of the first delay (default 100 ms).
    #[serde(with = "humantime_serde")]
    pub base_delay: Duration,
    /// Ceiling of every delay (default 2 s).
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Growth of the ceiling per retry (default 2).
    pub multiplier: f64,
    /// Retries allowed per first attempt (default 0.2: at most 20 % extra load).
    pub budget_ratio: f32,
    /// Retries per second allowed regardless of traffic (default 10).
    pub budget_min_per_sec: u32,
    /// How long first attempts count towards the budget (default 10 s).
    #[serde(with = "humantime_serde")]
    pub budget_window: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        let policy = RetryPolicy::default();
        let budget = BudgetPolicy::default();
        RetrySettings {
            max_attempts: None,
            base_delay: policy.base_delay(),
            max_delay: policy.max_delay(),
            multiplier: policy.multiplier(),
            budget_ratio: budget.ratio,
            budget_min_per_sec: budget.min_per_sec,
            budget_window: budget.window,
        }
    }
}

impl RetrySettings {
    /// Validates the settings into a [`RetryPolicy`].
    pub fn build(&self) -> Result<RetryPolicy, ConfigError> {
        RetryPolicy::builder()
            .max_attempts(self.max_attempts.unwrap_or(1))
            .base_delay(self.base_delay)
            .max_delay(self.max_delay)
            .multiplier(self.multiplier)
            .budget(BudgetPolicy {
                ratio: self.budget_ratio,
                min_per_sec: self.budget_min_per_sec,
                window: self.budget_window,
            })
            .build()
    }
}
