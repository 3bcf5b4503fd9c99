//! [`RateLimiter`]: one replica's handle on limits shared, through Redis, by the whole fleet.

use std::fmt;
use std::sync::{Arc, OnceLock, Weak};

use tracing::{debug, info, warn};

use super::allowance::{Allowance, Decision};
use super::config::{Quota, RateLimitConfig};
use super::error::RateLimited;
use super::key::{ClientKey, redis_key};
use super::local::Local;
use super::{metrics, script};
use crate::ConfigError;
use breaker_redis::Clock;
use breaker_redis::store::health::{Attempt, Health, NAG_MAX};
use breaker_redis::store::refusal::{Nag, Refusal};
use breaker_redis::store::{RedisStore, StoreError};

/// A rate limiter whose budgets live in Redis, so that every replica draws on the same ones:
/// with `per_second(10)` a client gets 10 calls a second from the whole fleet, not from each
/// replica. Every check is one atomic GCRA script on Redis's clock.
///
/// While Redis is down or slower than the store timeout, each replica limits on its own with
/// the same quota (so the fleet admits up to replicas × quota), skips Redis for the back-off
/// period, and goes back to the shared budgets once Redis answers. A check never fails because
/// of Redis. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    config: RateLimitConfig,
    store: Option<RedisStore>,
    clock: Clock,
    health: Health,
    local: Local,
    /// Set once the task sweeping `local` runs.
    sweeping: OnceLock<()>,
    /// When a refusal by Redis (a missing permission, a failed login) is logged again.
    nag: Nag,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.inner.name)
            .field("quota", &self.inner.config.quota)
            .field("store", &self.inner.store)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RateLimiter`].
#[derive(Debug)]
pub struct RateLimiterBuilder {
    name: String,
    config: Option<RateLimitConfig>,
    store: Option<RedisStore>,
    clock: Clock,
}

impl RateLimiterBuilder {
    /// The quota and settings (required).
    pub fn config(mut self, config: RateLimitConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Where the shared budgets live. Without a store each replica limits on its own.
    pub fn store(mut self, store: RedisStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Where `now` comes from (default: Redis `TIME`). Tests pass a [`ManualClock`](breaker_redis::ManualClock);
    /// the local limiter used while Redis is down always runs on this machine's clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the name (as a breaker's: 1 to 128 of `A-Z a-z 0-9 . _ - :`) and builds.
    pub fn build(self) -> Result<RateLimiter, ConfigError> {
        crate::error::check_name("rate limit", &self.name)?;
        let config = self.config.ok_or_else(|| {
            ConfigError::new("rate limit", "per_second", "a rate limiter needs a quota")
        })?;
        metrics::register(&self.name);
        let inner = Inner {
            local: Local::new(config.quota),
            health: Health::new(config.retry_backoff),
            nag: Nag::new(config.retry_backoff, NAG_MAX.max(config.retry_backoff)),
            name: self.name,
            config,
            store: self.store,
            clock: self.clock,
            sweeping: OnceLock::new(),
        };
        Ok(RateLimiter {
            inner: Arc::new(inner),
        })
    }
}

impl RateLimiter {
    /// Starts building the limiter `name`. Limiters with the same name and store, in any number
    /// of processes, share budgets.
    pub fn builder(name: impl Into<String>) -> RateLimiterBuilder {
        RateLimiterBuilder {
            name: name.into(),
            config: None,
            store: None,
            clock: Clock::Store,
        }
    }

    /// The limiter's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Its quota.
    pub fn quota(&self) -> Quota {
        self.inner.config.quota
    }

    /// True while Redis is unreachable and each replica limits on its own.
    pub fn is_degraded(&self) -> bool {
        self.inner.health.is_degraded()
    }

    /// The Redis key holding `client`'s budget: `<prefix>:{<limiter>:<client>}`.
    pub fn redis_key(&self, client: &ClientKey) -> String {
        redis_key(&self.inner.config.key_prefix, &self.inner.name, client)
    }

    /// Loads the script into Redis now, so that a broken script fails at start rather than on
    /// the first check. Later, a `NOSCRIPT` (after a restart or `SCRIPT FLUSH`) reloads it.
    pub async fn load_script(&self) -> Result<(), StoreError> {
        match &self.inner.store {
            Some(store) => script::load(store).await,
            None => Ok(()),
        }
    }

    /// Clients the per-replica limiter tracks right now: at most [`LOCAL_CAPACITY`](super::LOCAL_CAPACITY).
    pub fn local_clients(&self) -> usize {
        self.inner.local.len()
    }

    /// Takes one call from `client`'s budget, or says when to come back.
    pub async fn check(&self, client: &ClientKey) -> Result<Allowance, RateLimited> {
        let decision = match self.shared(client).await {
            Some(decision) => decision,
            None => {
                self.start_sweeping();
                self.inner.local.check(client)
            }
        };
        metrics::decided(&self.inner.name, decision.allowed);
        debug!(limiter = %self.inner.name, client = %client, allowed = decision.allowed,
            degraded = decision.degraded, "rate limit checked");
        decision.into_result(&self.inner.name)
    }

    /// Started with the first local decision (a check always runs inside a runtime, a build
    /// may not); the task ends when the last clone of the limiter is dropped.
    fn start_sweeping(&self) {
        self.inner.sweeping.get_or_init(|| {
            tokio::spawn(sweep(Arc::downgrade(&self.inner)));
        });
    }

    /// The shared decision, or `None` when Redis is absent, skipped or failing.
    async fn shared(&self, client: &ClientKey) -> Option<Decision> {
        let inner = &*self.inner;
        let store = inner.store.as_ref()?;
        let key = self.redis_key(client);
        let now = inner.clock.now_ms();
        let op = || script::check(store, &key, now, &inner.config.quota);
        match inner.health.run(inner.config.store_timeout, op).await {
            Attempt::Answered { value, recovered } => {
                if recovered {
                    inner.nag.reset();
                    info!(limiter = %inner.name, "redis reachable again; limits are shared again");
                    metrics::degraded(&inner.name, false);
                    inner.local.forget_idle();
                }
                Some(value)
            }
            Attempt::Failed { error, degraded } => {
                if let Some(fix) = Refusal::of(&error) {
                    // Refusals last until someone fixes the ACL or the URL: say so again
                    // while they do.
                    if inner.nag.due() {
                        warn!(limiter = %inner.name, %error, %fix,
                            "redis refused the rate limit; each replica limits on its own");
                    }
                } else if degraded {
                    warn!(limiter = %inner.name, %error, retry_in = ?inner.config.retry_backoff,
                        "redis unreachable; each replica limits on its own");
                    metrics::degraded(&inner.name, true);
                } else {
                    debug!(limiter = %inner.name, %error, "redis still unreachable");
                }
                None
            }
            Attempt::Skipped => None,
        }
    }
}

/// Forgets idle clients of the local limiter on a timer, so the request path never pays for it.
async fn sweep(inner: Weak<Inner>) {
    let Some(every) = inner.upgrade().map(|i| i.local.sweep_every()) else {
        return;
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.local.forget_idle();
    }
}
