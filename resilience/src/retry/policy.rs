//! [`RetryPolicy`]: how many attempts, how long between them, and the retry budget.

use std::num::NonZeroU32;
use std::time::Duration;

use super::backoff::Backoff;
use crate::ConfigError;

/// An invalid retry setting, named as in [`RetrySettings`](super::RetrySettings).
fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::new("retry", setting, reason)
}

/// A retry budget: retries may add at most `ratio` extra load, over a sliding `window`.
/// Every first attempt deposits; every retry withdraws `1 / ratio` deposits (tower's
/// [`TpsBudget`](tower::retry::budget::TpsBudget), whose withdrawal is a whole number of
/// deposits: a ratio of 0.3 behaves as 1/3). `min_per_sec` retries per second are allowed on
/// top, so that a quiet service can still retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetPolicy {
    /// Retries allowed per first attempt, from 0 to 1000 (default 0.2).
    pub ratio: f32,
    /// Retries per second allowed regardless of traffic (default 10).
    pub min_per_sec: u32,
    /// How long deposits count, from 1 s to 60 s (default 10 s).
    pub window: Duration,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            ratio: 0.2,
            min_per_sec: 10,
            window: Duration::from_secs(10),
        }
    }
}

impl BudgetPolicy {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1000.0).contains(&self.ratio) {
            let reason = format!("{} is not in [0, 1000]", self.ratio);
            return Err(invalid("budget_ratio", reason));
        }
        if self.min_per_sec >= i32::MAX as u32 {
            return Err(invalid("budget_min_per_sec", "must be below 2^31 - 1"));
        }
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(60));
        if !(min..=max).contains(&self.window) {
            let reason = format!("{:?} is not between 1s and 60s", self.window);
            return Err(invalid("budget_window", reason));
        }
        Ok(())
    }
}

/// A validated retry configuration. Build it with [`RetryPolicy::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_attempts: NonZeroU32,
    base_delay: Duration,
    max_delay: Duration,
    multiplier: f64,
    budget: Option<BudgetPolicy>,
    seed: Option<u64>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: NonZeroU32::MIN.saturating_add(2),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            multiplier: 2.0,
            budget: Some(BudgetPolicy::default()),
            seed: None,
        }
    }
}

impl RetryPolicy {
    /// A builder starting from the defaults: 3 attempts, delays from 100 ms doubling up to
    /// 2 s, and a budget of 20 % extra load.
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder {
            policy: RetryPolicy::default(),
            max_attempts: 3,
        }
    }

    /// Attempts in all, the first included (1: no retry).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.get()
    }

    /// Ceiling of the first delay.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// Ceiling of every delay.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// Growth of the ceiling per retry.
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The retry budget, if any.
    pub fn budget(&self) -> Option<BudgetPolicy> {
        self.budget
    }

    /// The delays between attempts, seeded if the policy was given a seed.
    pub fn backoff(&self) -> Backoff {
        let backoff =
            Backoff::new(self.base_delay, self.max_delay).with_multiplier(self.multiplier);
        match self.seed {
            Some(seed) => backoff.with_seed(seed),
            None => backoff,
        }
    }
}

/// Builds a [`RetryPolicy`]; every setting has a default.
#[derive(Debug, Clone)]
pub struct RetryPolicyBuilder {
    policy: RetryPolicy,
    max_attempts: u32,
}

impl RetryPolicyBuilder {
    /// Attempts in all, the first included: at least 1, which means no retry (default 3).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Ceiling of the first delay (default 100 ms).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.policy.base_delay = delay;
        self
    }

    /// Ceiling of every delay, at least `base_delay` (default 2 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.policy.max_delay = delay;
        self
    }

    /// Growth of the ceiling per retry, at least 1 (default 2).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.policy.multiplier = multiplier;
        self
    }

    /// A retry budget (default: [`BudgetPolicy::default`]).
    pub fn budget(mut self, budget: BudgetPolicy) -> Self {
        self.policy.budget = Some(budget);
        self
    }

    /// No retry budget: only `max_attempts` limits retries.
    pub fn no_budget(mut self) -> Self {
        self.policy.budget = None;
        self
    }

    /// Seeds the jitter so that every call sees the same delays; for tests.
    pub fn seed(mut self, seed: u64) -> Self {
        self.policy.seed = Some(seed);
        self
    }

    /// Checks every value and returns the policy.
    pub fn build(self) -> Result<RetryPolicy, ConfigError> {
        let mut policy = self.policy;
        policy.max_attempts = NonZeroU32::new(self.max_attempts)
            .ok_or_else(|| invalid("max_attempts", "must be at least 1"))?;
        if policy.base_delay > policy.max_delay {
            let reason = format!(
                "{:?} is above max_delay {:?}",
                policy.base_delay, policy.max_delay
            );
            return Err(invalid("base_delay", reason));
        }
        if !(policy.multiplier.is_finite() && policy.multiplier >= 1.0) {
            let reason = format!("{} is not a finite number >= 1", policy.multiplier);
            return Err(invalid("multiplier", reason));
        }
        if let Some(budget) = &policy.budget {
            budget.validate()?;
        }
        Ok(policy)
    }
}
