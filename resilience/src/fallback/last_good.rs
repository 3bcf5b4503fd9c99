//! [`LastGood`]: serves the last good response, kept in Redis so every replica can serve it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use super::Fallback;
use super::writer::{Target, Writer};
use crate::ConfigError;
use breaker_redis::store::health::{Attempt, Health, NAG_MAX};
use breaker_redis::store::refusal::Nag;
use breaker_redis::store::{RedisStore, StoreError};

/// The last good response of one call site, as JSON in Redis (`<prefix>:{<name>}:last-good`,
/// expiring after `ttl`) and in this process. A fallback that answers a failed call with it:
/// stale but plausible beats an error for prices, catalogues, profiles.
///
/// [`remember`](Self::remember) is cheap for the caller: it serialises and hands the bytes to a
/// background writer. [`recall`](Self::recall) asks Redis (within the store timeout) and, when
/// Redis has nothing readable or is unreachable, falls back to this process's own copy. It
/// never fails: no answer is `None`. Cheap to clone: clones share everything.
#[derive(Debug, Clone)]
pub struct LastGood {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    key: String,
    ttl: Duration,
    store_timeout: Duration,
    store: Option<RedisStore>,
    health: Arc<Health>,
    local: Mutex<Option<Copy>>,
    writer: Writer,
}

/// This process's copy of the last good response.
#[derive(Debug)]
struct Copy {
    json: Arc<[u8]>,
    expires: Instant,
}

/// Builds a [`LastGood`].
#[derive(Debug)]
pub struct LastGoodBuilder {
    name: String,
    store: Option<RedisStore>,
    ttl: Duration,
    key_prefix: String,
    store_timeout: Duration,
    retry_backoff: Duration,
}

impl LastGoodBuilder {
    /// Where responses are shared (without a store they stay in this process).
    pub fn store(mut self, store: &RedisStore) -> Self {
        self.store = Some(store.clone());
        self
    }

    /// How long a response may be served after it was remembered (default 5 min).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The first part of the key (default `breaker`, so that `breaker:{name}*` shows a
    /// breaker's keys and its fallback's together).
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// The longest a recall or a write waits for Redis (default 100 ms).
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Time Redis is skipped after a failure (default 1 s).
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    /// Checks the name (1 to 128 of `A-Z a-z 0-9 . _ - :`), prefix and durations.
    pub fn build(self) -> Result<LastGood, ConfigError> {
        crate::error::check_name("fallback", &self.name)?;
        crate::rate_limit::check_prefix("fallback", &self.key_prefix)?;
        for (setting, d) in [
            ("ttl", self.ttl),
            ("store_timeout", self.store_timeout),
            ("retry_backoff", self.retry_backoff),
        ] {
            if d.as_millis() == 0 {
                return Err(ConfigError::new(
                    "fallback",
                    setting,
                    "must be at least 1ms",
                ));
            }
        }
        let key = format!("{}:{{{}}}:last-good", self.key_prefix, self.name);
        let health = Arc::new(Health::new(self.retry_backoff));
        let target = self.store.as_ref().map(|store| Target {
            name: self.name.clone(),
            store: store.clone(),
            key: key.clone(),
            ttl: self.ttl,
            timeout: self.store_timeout,
            health: health.clone(),
            nag: Arc::new(Nag::new(
                self.retry_backoff,
                NAG_MAX.max(self.retry_backoff),
            )),
        });
        let inner = Inner {
            name: self.name,
            key,
            ttl: self.ttl,
            store_timeout: self.store_timeout,
            store: self.store,
            health,
            local: Mutex::new(None),
            writer: Writer::new(target),
        };
        Ok(LastGood {
            inner: Arc::new(inner),
        })
    }
}

impl LastGood {
    /// The last good response of `name`, shared through `store` and served for `ttl`.
    pub fn new(store: &RedisStore, name: &str, ttl: Duration) -> Result<Self, ConfigError> {
        Self::builder(name).store(store).ttl(ttl).build()
    }

    /// Starts building; see [`LastGoodBuilder`] for the defaults.
    pub fn builder(name: impl Into<String>) -> LastGoodBuilder {
        LastGoodBuilder {
            name: name.into(),
            store: None,
            ttl: Duration::from_secs(300),
            key_prefix: "breaker".to_owned(),
            store_timeout: Duration::from_millis(100),
            retry_backoff: Duration::from_secs(1),
        }
    }

    /// The Redis key: `<prefix>:{<name>}:last-good`.
    pub fn redis_key(&self) -> &str {
        &self.inner.key
    }

    /// Keeps `value` as the last good response: here at once, in Redis shortly after (written
    /// in the background; a value that cannot be serialised is logged and skipped).
    pub fn remember(&self, value: &impl Serialize) {
        let json: Arc<[u8]> = match serde_json::to_vec(value) {
            Ok(json) => json.into(),
            Err(error) => {
                warn!(fallback = %self.inner.name, %error, "cannot serialise the response; not remembered");
                return;
            }
        };
        *self.local() = Some(Copy {
            json: json.clone(),
            expires: Instant::now() + self.inner.ttl,
        });
        self.inner.writer.send(json);
    }

    /// The last good response: from Redis (whichever replica remembered it), else this
    /// process's copy, else `None`. A value that does not read as a `T` counts as none.
    pub async fn recall<T: DeserializeOwned>(&self) -> Option<T> {
        if let Some(json) = self.fetch().await {
            match serde_json::from_slice(&json) {
                Ok(value) => return Some(value),
                Err(error) => {
                    debug!(fallback = %self.inner.name, %error, "the shared response does not read; trying the local copy");
                }
            }
        }
        let json = {
            let local = self.local();
            let copy = local.as_ref().filter(|c| Instant::now() < c.expires)?;
            copy.json.clone()
        };
        serde_json::from_slice(&json).ok()
    }

    /// The shared response's bytes; `None` when there is none or Redis is unreachable.
    async fn fetch(&self) -> Option<Vec<u8>> {
        let inner = &*self.inner;
        let store = inner.store.as_ref()?;
        let op = || async {
            let mut conn = store.connection();
            let reply = redis::cmd("GET")
                .arg(&inner.key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await;
            match reply {
                // A key of another type is foreign data, not a failing Redis.
                Err(e) if e.code() == Some("WRONGTYPE") => Ok(None),
                other => other.map_err(StoreError::from),
            }
        };
        match inner.health.run(inner.store_timeout, op).await {
            Attempt::Answered { value, .. } => value,
            Attempt::Failed { error, .. } => {
                debug!(fallback = %inner.name, %error, "redis unreachable; using the local copy");
                None
            }
            Attempt::Skipped => None,
        }
    }

    fn local(&self) -> MutexGuard<'_, Option<Copy>> {
        // A poisoned lock only means a panic elsewhere; the copy inside is still whole.
        self.inner.local.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Answers with the last good response, or the call's own error when there is none; remembers
/// every success.
impl<T, E> Fallback<T, E> for LastGood
where
    T: Serialize + DeserializeOwned + Send + 'static,
    E: Send + 'static,
{
    type Future = BoxFuture<'static, Result<T, E>>;

    fn fallback(&self, error: E) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.recall().await.ok_or(error) })
    }

    fn observe(&self, answer: &T) {
        self.remember(answer);
    }
}
