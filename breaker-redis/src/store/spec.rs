//! [`Spec`]: one breaker as the stores see it, with its script arguments prepared once.

use std::sync::Arc;

use crate::ConfigError;
use crate::config::{Config, TripPolicy, Window};
use crate::machine::{ms, ratio_ppm};
use crate::validate;

use super::keys;

/// One breaker replica as the stores see it: its name, configuration, keys, channel, the id of
/// the replica, and the script arguments that never change (computed once, not per call).
#[derive(Debug, Clone)]
pub struct Spec {
    inner: Arc<SpecInner>,
}

#[derive(Debug)]
struct SpecInner {
    name: String,
    config: Config,
    origin: String,
    keys: [String; 3],
    channel: String,
    args: Vec<String>,
}

impl Spec {
    /// A spec for breaker `name` as seen by replica `origin`.
    pub fn new(name: &str, config: Config, origin: &str) -> Result<Self, ConfigError> {
        validate::name(name)?;
        let keys = keys::keys(&config.key_prefix, name);
        let channel = keys::channel(&config.key_prefix, name);
        let args = script_args(&config, origin, &channel, name);
        let inner = SpecInner {
            name: name.to_owned(),
            config,
            origin: origin.to_owned(),
            keys,
            channel,
            args,
        };
        Ok(Spec {
            inner: Arc::new(inner),
        })
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }
    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// The id of the replica this spec belongs to.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }
    /// The Redis keys: state hash, lease set, window hash.
    pub fn keys(&self) -> &[String; 3] {
        &self.inner.keys
    }
    /// The pub/sub channel of its transitions.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }
    /// ARGV 2..=15 of every script (see `lua/lib.lua`).
    pub(crate) fn args(&self) -> &[String] {
        &self.inner.args
    }
}

fn script_args(cfg: &Config, origin: &str, channel: &str, name: &str) -> Vec<String> {
    let (kind, threshold, min_requests) = match cfg.trip {
        TripPolicy::ConsecutiveFailures(n) => (1, n, 0),
        TripPolicy::FailureRatio {
            ratio,
            min_requests,
            strict: false,
        } => (2, ratio_ppm(ratio), min_requests),
        TripPolicy::FailureRatio {
            ratio,
            min_requests,
            strict: true,
        } => (3, ratio_ppm(ratio), min_requests),
        TripPolicy::FailureCount(n) => (4, n, 0),
    };
    let (window_kind, buckets) = match cfg.window {
        Window::Fixed(_) => (1, 1),
        Window::Rolling { buckets, .. } => (2, buckets),
    };
    [
        kind.to_string(),
        threshold.to_string(),
        min_requests.to_string(),
        window_kind.to_string(),
        ms(cfg.window.length()).to_string(),
        buckets.to_string(),
        cfg.max_requests.to_string(),
        cfg.success_threshold.to_string(),
        ms(cfg.open_timeout).to_string(),
        ms(cfg.lease).to_string(),
        ms(cfg.key_ttl).to_string(),
        origin.to_owned(),
        channel.to_owned(),
        name.to_owned(),
    ]
    .into()
}
