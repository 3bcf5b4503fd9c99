//! [`Settings`]: the configuration as it appears in files and environment variables.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Admission, Config, ConfigError, DegradedMode, TripPolicy, Window};

/// Which [`TripPolicy`] a [`Settings`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TripKind {
    /// `failures` failures in a row.
    ConsecutiveFailures,
    /// `failure_ratio` or more of at least `min_requests` calls.
    #[default]
    FailureRatio,
    /// More than `failure_ratio` of at least `min_requests` calls.
    FailureRatioAbove,
    /// `failures` failures within the window.
    FailureCount,
}

/// A breaker's configuration in serde form, flat so that every value is one environment
/// variable (`BREAKER__TIMEOUT=30s`). Durations read as `"10s"`, `"250ms"`, `"1m 30s"`.
/// Unknown fields are rejected; [`Settings::build`] validates the values.
///
/// It also serializes (durations as `"10s"`), which is how a breaker publishes its settings in
/// Redis for tools ([`From<&Config>`](#impl-From%3C%26Config%3E-for-Settings) makes one back
/// from a validated [`Config`]; optional values left unset are skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Trip policy (default `failure_ratio`).
    pub trip: TripKind,
    /// Ratio for the ratio policies (default 0.6).
    pub failure_ratio: f64,
    /// Calls in the window before a ratio counts (default 3).
    pub min_requests: u32,
    /// Failures for `consecutive_failures` and `failure_count` (default 3).
    pub failures: u32,
    /// Fixed window length (default 5 s); ignored when `rolling_window` is set.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// A rolling window of this length instead of the fixed interval.
    #[serde(
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rolling_window: Option<Duration>,
    /// Buckets of the rolling window (default 10).
    pub buckets: u32,
    /// Half-open trial calls at once, fleet-wide (default 3).
    pub max_requests: u32,
    /// Trial successes that close the circuit (default: `max_requests`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    /// Time open before trial calls (default 10 s).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Lease of a half-open permit (default 10 s). `None` means not given: a service may then
    /// derive it from its own call timeout before building.
    #[serde(
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub lease: Option<Duration>,
    /// Successful calls slower than this count as failures (default: off).
    #[serde(
        with = "humantime_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub slow_call_threshold: Option<Duration>,
    /// Redis key prefix (default `breaker`).
    pub key_prefix: String,
    /// Idle time before Redis forgets the breaker (default 24 h).
    #[serde(with = "humantime_serde")]
    pub key_ttl: Duration,
    /// Longest wait for Redis on a protected call (default 100 ms).
    #[serde(with = "humantime_serde")]
    pub store_timeout: Duration,
    /// Time Redis is skipped after a failure (default 1 s).
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// `local` (default), `fail-open` or `fail-closed`.
    pub degraded_mode: DegradedSetting,
    /// `strict` (default) or `cached`.
    pub admission: AdmissionSetting,
    /// Cached admission: the longest an outcome waits to be sent (default 2 ms).
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Cached admission: outcomes per batch at most (default 256).
    pub max_batch: u32,
    /// Cached admission: the longest the local view is trusted (default 1 s).
    #[serde(with = "humantime_serde")]
    pub max_staleness: Duration,
}

/// [`Admission`] in serde form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionSetting {
    /// See [`Admission::Strict`].
    #[default]
    Strict,
    /// See [`Admission::Cached`].
    Cached,
}

/// [`DegradedMode`] in serde form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DegradedSetting {
    /// See [`DegradedMode::Local`].
    #[default]
    Local,
    /// See [`DegradedMode::FailOpen`].
    FailOpen,
    /// See [`DegradedMode::FailClosed`].
    FailClosed,
}

impl Default for Settings {
    fn default() -> Self {
        let cfg = Config::default();
        Settings {
            trip: TripKind::FailureRatio,
            failure_ratio: 0.6,
            min_requests: 3,
            failures: 3,
            interval: cfg.window.length(),
            rolling_window: None,
            buckets: 10,
            max_requests: cfg.max_requests,
            success_threshold: None,
            timeout: cfg.open_timeout,
            lease: None,
            slow_call_threshold: None,
            key_prefix: cfg.key_prefix,
            key_ttl: cfg.key_ttl,
            store_timeout: cfg.store_timeout,
            retry_backoff: cfg.retry_backoff,
            degraded_mode: DegradedSetting::Local,
            admission: AdmissionSetting::Strict,
            flush_interval: Duration::from_millis(2),
            max_batch: 256,
            max_staleness: Duration::from_secs(1),
        }
    }
}

impl From<&Config> for Settings {
    /// The settings that build `config` again: every value explicit (`success_threshold` and
    /// `lease` included), the cached-admission values at their defaults under strict admission.
    fn from(config: &Config) -> Self {
        let defaults = Settings::default();
        let mut s = Settings {
            success_threshold: Some(config.success_threshold),
            lease: Some(config.lease),
            slow_call_threshold: config.slow_call_threshold,
            max_requests: config.max_requests,
            timeout: config.open_timeout,
            key_prefix: config.key_prefix.clone(),
            key_ttl: config.key_ttl,
            store_timeout: config.store_timeout,
            retry_backoff: config.retry_backoff,
            ..defaults
        };
        (s.trip, s.failure_ratio, s.min_requests, s.failures) = match config.trip {
            TripPolicy::ConsecutiveFailures(n) => (TripKind::ConsecutiveFailures, 0.6, 3, n),
            TripPolicy::FailureCount(n) => (TripKind::FailureCount, 0.6, 3, n),
            TripPolicy::FailureRatio {
                ratio,
                min_requests,
                strict,
            } => {
                let kind = if strict {
                    TripKind::FailureRatioAbove
                } else {
                    TripKind::FailureRatio
                };
                (kind, ratio, min_requests, 3)
            }
        };
        match config.window {
            Window::Fixed(interval) => s.interval = interval,
            Window::Rolling { length, buckets } => {
                s.rolling_window = Some(length);
                s.buckets = buckets;
            }
        }
        s.degraded_mode = match config.degraded {
            DegradedMode::Local => DegradedSetting::Local,
            DegradedMode::FailOpen => DegradedSetting::FailOpen,
            DegradedMode::FailClosed => DegradedSetting::FailClosed,
        };
        if let Admission::Cached {
            flush_interval,
            max_batch,
            max_staleness,
        } = config.admission
        {
            s.admission = AdmissionSetting::Cached;
            (s.flush_interval, s.max_batch, s.max_staleness) =
                (flush_interval, max_batch, max_staleness);
        }
        s
    }
}

fn cfg_default_lease() -> Duration {
    Config::default().lease
}

impl Settings {
    /// Validates the settings into a [`Config`].
    pub fn build(&self) -> Result<Config, ConfigError> {
        let trip = match self.trip {
            TripKind::ConsecutiveFailures => TripPolicy::consecutive_failures(self.failures),
            TripKind::FailureCount => TripPolicy::failure_count(self.failures),
            TripKind::FailureRatio => {
                TripPolicy::failure_ratio(self.failure_ratio, self.min_requests)
            }
            TripKind::FailureRatioAbove => {
                TripPolicy::failure_ratio_above(self.failure_ratio, self.min_requests)
            }
        };
        let window = match self.rolling_window {
            Some(length) => Window::Rolling {
                length,
                buckets: self.buckets,
            },
            None => Window::Fixed(self.interval),
        };
        let degraded = match self.degraded_mode {
            DegradedSetting::Local => DegradedMode::Local,
            DegradedSetting::FailOpen => DegradedMode::FailOpen,
            DegradedSetting::FailClosed => DegradedMode::FailClosed,
        };
        let admission = match self.admission {
            AdmissionSetting::Strict => Admission::Strict,
            AdmissionSetting::Cached => Admission::Cached {
                flush_interval: self.flush_interval,
                max_batch: self.max_batch,
                max_staleness: self.max_staleness,
            },
        };
        let mut builder = Config::builder()
            .admission(admission)
            .trip(trip)
            .window(window)
            .max_requests(self.max_requests)
            .open_timeout(self.timeout)
            .lease(self.lease.unwrap_or(cfg_default_lease()))
            .slow_call_threshold(self.slow_call_threshold)
            .key_prefix(self.key_prefix.clone())
            .key_ttl(self.key_ttl)
            .store_timeout(self.store_timeout)
            .retry_backoff(self.retry_backoff)
            .degraded_mode(degraded);
        if let Some(n) = self.success_threshold {
            builder = builder.success_threshold(n);
        }
        builder.build()
    }
}
