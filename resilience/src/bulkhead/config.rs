//! [`BulkheadBuilder`] and [`BulkheadSettings`]: a bulkhead's validated configuration.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Semaphore;

use super::{Bulkhead, Inner};
use crate::ConfigError;

const DEFAULT_MAX_CONCURRENT: usize = 25;

/// An invalid bulkhead setting, named as in [`BulkheadSettings`].
fn invalid(setting: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::new("bulkhead", setting, reason)
}

/// Builds a [`Bulkhead`]: 25 slots and no waiting unless told otherwise.
#[derive(Debug, Clone)]
pub struct BulkheadBuilder {
    pub(super) name: String,
    pub(super) max_concurrent: usize,
    pub(super) max_wait: Duration,
}

impl BulkheadBuilder {
    /// Calls in flight at once, at least 1 (default 25).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n;
        self
    }

    /// How long a call may wait for a slot before it is rejected (default 0: rejected at once).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Checks every value and returns the bulkhead.
    pub fn build(self) -> Result<Bulkhead, ConfigError> {
        if self.name.is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if !(1..=Semaphore::MAX_PERMITS).contains(&self.max_concurrent) {
            let reason = format!("must be from 1 to {}", Semaphore::MAX_PERMITS);
            return Err(invalid("max_concurrent", reason));
        }
        super::register_metrics(&self.name);
        let inner = Inner {
            semaphore: Arc::new(Semaphore::new(self.max_concurrent)),
            name: self.name.into(),
            max_concurrent: self.max_concurrent,
            max_wait: self.max_wait,
        };
        Ok(Bulkhead {
            inner: Arc::new(inner),
        })
    }
}

impl Bulkhead {
    /// Starts building the bulkhead `name` (the `bulkhead` label of its metrics).
    pub fn builder(name: impl Into<String>) -> BulkheadBuilder {
        BulkheadBuilder {
            name: name.into(),
            max_concurrent: DEFAULT_MAX_CONCURRENT,
            max_wait: Duration::ZERO,
        }
    }
}

/// A bulkhead's configuration in serde form; durations read as `"50ms"`. Unknown fields are
/// rejected; [`BulkheadSettings::build`] validates the values. No bulkhead unless
/// `max_concurrent` is set (and not 0), so that the default is no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BulkheadSettings {
    /// Calls in flight at once (default: unset, no bulkhead; 0 also means none).
    pub max_concurrent: Option<usize>,
    /// Longest wait for a slot (default `0s`: rejected at once).
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
}

impl BulkheadSettings {
    /// Validates the settings into the bulkhead `name`; `None` when `max_concurrent` is unset
    /// or 0.
    pub fn build(&self, name: impl Into<String>) -> Result<Option<Bulkhead>, ConfigError> {
        let Some(max_concurrent) = self.max_concurrent.filter(|n| *n > 0) else {
            return Ok(None);
        };
        Bulkhead::builder(name)
            .max_concurrent(max_concurrent)
            .max_wait(self.max_wait)
            .build()
            .map(Some)
    }
}
