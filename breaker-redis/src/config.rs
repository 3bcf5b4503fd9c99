//! Validated breaker configuration.
//!
//! [`Config`] is the value every store and script works from; it can only be made by
//! [`ConfigBuilder::build`] (or [`Settings::build`], its serde twin), which rejects values that
//! make no sense instead of letting them reach Redis.

use std::time::Duration;

use thiserror::Error;

/// When a closed circuit opens. Decided inside the store (the Lua scripts), so it is data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TripPolicy {
    /// Opens after `n` failures in a row (a success resets the run).
    ConsecutiveFailures(u32),
    /// Opens when at least `min_requests` calls were made in the window and the share of
    /// failures is at least `ratio` (or, with `strict`, above it).
    FailureRatio {
        /// Failure share in `(0, 1]`.
        ratio: f64,
        /// Calls needed in the window before the ratio is considered.
        min_requests: u32,
        /// `true`: failures must exceed `ratio`; `false`: reaching it is enough.
        strict: bool,
    },
    /// Opens after `n` failures within the window.
    FailureCount(u32),
}

impl TripPolicy {
    /// Opens after `n` failures in a row.
    pub fn consecutive_failures(n: u32) -> Self {
        Self::ConsecutiveFailures(n)
    }

    /// Opens when `requests >= min_requests` and `failures / requests >= ratio` (gobreaker's
    /// usual `ReadyToTrip`).
    pub fn failure_ratio(ratio: f64, min_requests: u32) -> Self {
        Self::FailureRatio {
            ratio,
            min_requests,
            strict: false,
        }
    }

    /// Opens when `requests >= min_requests` and `failures / requests > ratio` ("more than 50 %").
    pub fn failure_ratio_above(ratio: f64, min_requests: u32) -> Self {
        Self::FailureRatio {
            ratio,
            min_requests,
            strict: true,
        }
    }

    /// Opens after `n` failures within the window.
    pub fn failure_count(n: u32) -> Self {
        Self::FailureCount(n)
    }
}

/// How the closed state counts calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Counts restart `interval` after they started (gobreaker's `Interval`).
    Fixed(Duration),
    /// The last `length` of calls, kept as `buckets` counters.
    Rolling {
        /// How far back the window reaches.
        length: Duration,
        /// How many counters it is kept in; `length` must divide evenly into them.
        buckets: u32,
    },
}

impl Window {
    /// The span the window covers.
    pub fn length(&self) -> Duration {
        match *self {
            Window::Fixed(d) => d,
            Window::Rolling { length, .. } => length,
        }
    }
}

/// What a replica does while Redis cannot be reached. A Redis that answers but refuses writes
/// counts as unreachable for recording: with [`Local`](Self::Local), outcomes Redis did not take
/// are counted by the local breaker, which then also has a say in every admission until Redis
/// takes writes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DegradedMode {
    /// Keep protecting with a per-replica in-memory breaker of the same configuration.
    #[default]
    Local,
    /// Admit every call.
    FailOpen,
    /// Reject every call.
    FailClosed,
}

/// How a replica decides to admit a call in the closed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Admission {
    /// Every call asks Redis (one script to acquire, one to record): exact, 2 round trips.
    #[default]
    Strict,
    /// While the circuit is closed, calls are admitted from this replica's view of the shared
    /// state with no round trip, and outcomes are sent in batches by a background task; the
    /// scripts still make every transition atomically in Redis, and transitions reach every
    /// replica through pub/sub. Half-open admission stays exact (it always asks Redis).
    ///
    /// The price: after a transition, a replica may admit calls for up to `flush_interval`
    /// plus the pub/sub delay (or, if that message is lost, until its next batch is answered,
    /// and never longer than `max_staleness`).
    Cached {
        /// The longest an outcome waits before it is sent (default 2 ms).
        flush_interval: Duration,
        /// Outcomes sent in one script call at most (default 256).
        max_batch: u32,
        /// The longest the view is trusted without a word from Redis (default 1 s).
        max_staleness: Duration,
    },
}

impl Admission {
    /// Cached admission with the default settings.
    pub fn cached() -> Self {
        Admission::Cached {
            flush_interval: Duration::from_millis(2),
            max_batch: 256,
            max_staleness: Duration::from_secs(1),
        }
    }
}

/// A breaker's validated configuration. Build it with [`Config::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) trip: TripPolicy,
    pub(crate) window: Window,
    pub(crate) max_requests: u32,
    pub(crate) success_threshold: u32,
    pub(crate) open_timeout: Duration,
    pub(crate) lease: Duration,
    pub(crate) slow_call_threshold: Option<Duration>,
    pub(crate) key_prefix: String,
    pub(crate) key_ttl: Duration,
    pub(crate) store_timeout: Duration,
    pub(crate) retry_backoff: Duration,
    pub(crate) degraded: DegradedMode,
    pub(crate) admission: Admission,
}

impl Default for Config {
    fn default() -> Self {
        Config::builder().build().expect("the defaults are valid")
    }
}

impl Config {
    /// A builder starting from the defaults: the original Service A's gobreaker settings
    /// (max_requests 3, interval 5 s, timeout 10 s, trip at >= 3 requests and >= 60 % failures).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The trip policy.
    pub fn trip(&self) -> TripPolicy {
        self.trip
    }
    /// The closed-state window.
    pub fn window(&self) -> Window {
        self.window
    }
    /// Trial calls admitted at once, fleet-wide, in half-open.
    pub fn max_requests(&self) -> u32 {
        self.max_requests
    }
    /// Successful trial calls that close the circuit.
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }
    /// How long the circuit stays open before trial calls are admitted.
    pub fn open_timeout(&self) -> Duration {
        self.open_timeout
    }
    /// How long a half-open permit holds its place if it is never recorded.
    pub fn lease(&self) -> Duration {
        self.lease
    }
    /// Calls slower than this count as failures.
    pub fn slow_call_threshold(&self) -> Option<Duration> {
        self.slow_call_threshold
    }
    /// The prefix of every Redis key (`breaker` gives `breaker:{name}`).
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }
    /// Idle time (no calls) after which Redis forgets a breaker; a forced state is kept until
    /// reset.
    pub fn key_ttl(&self) -> Duration {
        self.key_ttl
    }
    /// The longest a protected call waits for Redis before using the degraded mode.
    pub fn store_timeout(&self) -> Duration {
        self.store_timeout
    }
    /// How long Redis is left alone after it failed, before one call tries it again. Breakers
    /// on one [`RedisStore`](crate::RedisStore) share its health, with the back-off of the first
    /// breaker built on it.
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }
    /// What happens while Redis is unreachable.
    pub fn degraded_mode(&self) -> DegradedMode {
        self.degraded
    }
    /// Strict or cached admission.
    pub fn admission(&self) -> Admission {
        self.admission
    }
}

/// An invalid configuration value; the message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid breaker configuration: {setting}: {reason}")]
pub struct ConfigError {
    /// The setting's name, as in [`Settings`](crate::Settings) (`name` for the breaker's name).
    pub setting: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        ConfigError {
            setting,
            reason: reason.into(),
        }
    }
}

/// Builds a [`Config`]; every setting has a default.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    cfg: Config,
    success_threshold: Option<u32>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            cfg: Config {
                trip: TripPolicy::failure_ratio(0.6, 3),
                window: Window::Fixed(Duration::from_secs(5)),
                max_requests: 3,
                success_threshold: 3,
                open_timeout: Duration::from_secs(10),
                lease: Duration::from_secs(10),
                slow_call_threshold: None,
                key_prefix: "breaker".to_owned(),
                key_ttl: Duration::from_secs(24 * 3600),
                store_timeout: Duration::from_millis(100),
                retry_backoff: Duration::from_secs(1),
                degraded: DegradedMode::Local,
                admission: Admission::Strict,
            },
            success_threshold: None,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $($field:tt)+) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.cfg.$($field)+ = value;
            self
        }
    };
}

impl ConfigBuilder {
    setter!(/// When the closed circuit opens.
        trip: TripPolicy => trip);
    setter!(/// How the closed state counts calls.
        window: Window => window);
    setter!(/// Trial calls admitted at once, fleet-wide, in half-open (default 3).
        max_requests: u32 => max_requests);
    setter!(/// Time the circuit stays open before trial calls (default 10 s).
        open_timeout: Duration => open_timeout);
    setter!(/// How long an unrecorded half-open permit blocks its slot (default 10 s); make it at
        /// least the protected call's own timeout.
        lease: Duration => lease);
    setter!(/// Prefix of the Redis keys (default `breaker`).
        key_prefix: String => key_prefix);
    setter!(/// Idle time after which Redis forgets the breaker (default 24 h).
        key_ttl: Duration => key_ttl);
    setter!(/// Longest wait for Redis on a protected call (default 100 ms).
        store_timeout: Duration => store_timeout);
    setter!(/// Time Redis is skipped after it failed (default 1 s); on a store shared by several
        /// breakers, the first breaker's value holds for all.
        retry_backoff: Duration => retry_backoff);
    setter!(/// Strict (default) or cached admission.
        admission: Admission => admission);
    setter!(/// Behaviour while Redis is unreachable (default: a local breaker).
        degraded_mode: DegradedMode => degraded);

    /// A fixed window of `interval` (the default, 5 s).
    pub fn interval(self, interval: Duration) -> Self {
        self.window(Window::Fixed(interval))
    }

    /// A rolling window of `length` kept in `buckets` counters.
    pub fn rolling_window(self, length: Duration, buckets: u32) -> Self {
        self.window(Window::Rolling { length, buckets })
    }

    /// Successful trial calls that close the circuit (default: `max_requests`).
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.success_threshold = Some(n);
        self
    }

    /// Calls slower than `threshold` count as failures even when they succeed.
    pub fn slow_call_threshold(mut self, threshold: Option<Duration>) -> Self {
        self.cfg.slow_call_threshold = threshold;
        self
    }

    /// Checks every value and returns the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        let mut cfg = self.cfg;
        cfg.success_threshold = self.success_threshold.unwrap_or(cfg.max_requests);
        crate::validate::config(&cfg)?;
        Ok(cfg)
    }
}
