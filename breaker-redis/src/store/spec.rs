//! [`Spec`]: one breaker as the stores see it, with its script arguments prepared once.

use std::sync::Arc;

use crate::ConfigError;
use crate::config::{Config, TripPolicy, Window};
use crate::events::{Scope, StateChange};
use crate::machine::{ms, ratio_ppm};
use crate::protocol::Reply;
use crate::validate;

use super::keys;

/// One breaker replica as the stores see it: its name, configuration, keys, channel, the ids of
/// the replica, and the script arguments that never change (computed once, not per call).
///
/// Two ids: `origin`, the configured replica id, names the replica in events and logs and may
/// be shared by several processes; `instance`, random per spec (so per breaker instance), is
/// what permit ids and the filtering of a replica's own events rest on.
#[derive(Debug, Clone)]
pub struct Spec {
    inner: Arc<SpecInner>,
}

#[derive(Debug)]
struct SpecInner {
    name: String,
    config: Config,
    origin: String,
    instance: String,
    keys: [String; 5],
    channel: String,
    args: Vec<String>,
}

impl Spec {
    /// A spec for breaker `name` as seen by replica `origin`.
    pub fn new(name: &str, config: Config, origin: &str) -> Result<Self, ConfigError> {
        validate::name(name)?;
        let keys = keys::keys(&config.key_prefix, name);
        let channel = keys::channel(&config.key_prefix, name);
        let instance = keys::instance_id();
        let identity = format!("{instance} {origin}");
        let args = script_args(&config, &identity, &channel, name);
        let inner = SpecInner {
            name: name.to_owned(),
            config,
            origin: origin.to_owned(),
            instance,
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
    /// The configured id of the replica this spec belongs to (for display).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }
    /// The random id of this breaker instance (32 hex digits), unique even among replicas
    /// configured with the same id.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }
    /// The Redis keys: state hash, lease set, window hash, history stream, settings hash.
    pub fn keys(&self) -> &[String; 5] {
        &self.inner.keys
    }
    /// The stream of the breaker's transitions (capped, with the state's TTL).
    pub fn history(&self) -> &str {
        &self.inner.keys[3]
    }
    /// The hash the breaker publishes its settings in (see `lua/settings.lua`).
    pub fn settings(&self) -> &str {
        &self.inner.keys[4]
    }
    /// The pub/sub channel of its transitions.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }
    /// ARGV 2..=5 of every script (see `lua/lib.lua`): the static settings (one string),
    /// identity, channel and name.
    pub(crate) fn args(&self) -> &[String] {
        &self.inner.args
    }
}

impl Spec {
    /// The event of a reply that made a transition, as this replica reports it (`None` when
    /// the reply made none). Here rather than in `events`, so that events know nothing of
    /// stores.
    pub(crate) fn event(&self, reply: &Reply, scope: Scope) -> Option<StateChange> {
        let t = reply.transition?;
        Some(StateChange {
            breaker: self.name().to_owned(),
            from: t.from,
            to: t.to,
            forced: reply.forced,
            generation: reply.generation,
            origin: self.origin().to_owned(),
            instance: self.instance().to_owned(),
            scope,
        })
    }
}

fn script_args(cfg: &Config, identity: &str, channel: &str, name: &str) -> Vec<String> {
    let (kind, threshold, min_requests): (u64, _, _) = match cfg.trip {
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
    let (window_kind, buckets): (u64, _) = match cfg.window {
        Window::Fixed(_) => (1, 1),
        Window::Rolling { buckets, .. } => (2, buckets),
    };
    let settings = [
        kind,
        u64::from(threshold),
        u64::from(min_requests),
        window_kind,
        ms(cfg.window.length()),
        u64::from(buckets),
        u64::from(cfg.max_requests),
        u64::from(cfg.success_threshold),
        ms(cfg.open_timeout),
        ms(cfg.lease),
        ms(cfg.key_ttl),
    ]
    .map(|n| n.to_string())
    .join(" ");
    vec![
        settings,
        identity.to_owned(),
        channel.to_owned(),
        name.to_owned(),
    ]
}
