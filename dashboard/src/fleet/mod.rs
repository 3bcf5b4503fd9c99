//! [`Fleet`]: the live feed's reads of the history streams, through a deadpool-redis pool.
//!
//! The dashboard has no breaker of its own and never shares a breaker's multiplexed
//! connection: its stream reads (SCAN for the streams, a range of each) go through a pool whose size and
//! timeouts are set ([`Limits`](crate::config::Limits)), so a slow read holds one pooled
//! connection and never queues the protected calls of a service behind it. Every operation is
//! bounded by `REDIS_TIMEOUT` as a whole.
//!
//! Keys (see the repository's `lua/lib.lua`): `<prefix>:{<name>}` the state hash,
//! `<prefix>:{<name>}:leases`, `<prefix>:{<name>}:history` the capped transition stream, and
//! the channel `<prefix>:{<name>}:events`.

mod model;
mod read;

use std::time::Duration;

use deadpool_redis::{Manager, Pool, Runtime};
use redis::AsyncConnectionConfig;
use service_kit::{AppError, ConfigError};

pub use model::{BadStreamId, StreamId, Transition};

use crate::config::Limits;

/// Entries a history stream keeps (`HISTORY_LEN` in `lua/lib.lua`), so the most a history
/// request may ask for.
pub const HISTORY_MAX: usize = 1000;

/// Why Redis could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// No pooled connection could be had.
    #[error("no pooled connection: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
    /// The whole operation took longer than `REDIS_TIMEOUT`.
    #[error("no answer from Redis within {0:?}")]
    Timeout(Duration),
}

impl FleetError {
    /// The answer to give: 503, the cause logged.
    pub fn into_app_error(self) -> AppError {
        crate::admin::unavailable().with_source(self)
    }
}

/// The breakers under one key prefix, and the pool that reads them.
#[derive(Clone)]
pub struct Fleet {
    pool: Pool,
    client: redis::Client,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// A pool on `url` (connecting lazily: the dashboard starts while Redis is down).
    ///
    /// # Errors
    ///
    /// The URL is invalid; the error names `REDIS_URL`.
    pub fn new(url: &str, prefix: &str, limits: &Limits) -> Result<Self, ConfigError> {
        let bad_url = |e: &dyn std::fmt::Display| ConfigError::invalid("REDIS_URL", e);
        let client = redis::Client::open(url).map_err(|e| bad_url(&e))?;
        let t = limits.redis_timeout;
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(t))
            .set_response_timeout(Some(t));
        let manager = Manager::new_with_config(url, connection).map_err(|e| bad_url(&e))?;
        let pool = Pool::builder(manager)
            .max_size(limits.pool_size)
            .wait_timeout(Some(t))
            .create_timeout(Some(t))
            .recycle_timeout(Some(t))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| bad_url(&e))?;
        Ok(Self {
            pool,
            client,
            prefix: prefix.to_owned(),
            timeout: t,
        })
    }

    /// A client for the dedicated pub/sub connection of the live feed (a subscribed
    /// connection can run nothing else, so it is not taken from the pool).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The pattern every breaker's transition channel matches.
    pub fn events_pattern(&self) -> String {
        format!("{}:{{*}}:events", self.prefix)
    }

    /// Runs `op` on a pooled connection, within `REDIS_TIMEOUT` for the whole.
    async fn with<T, F>(&self, op: F) -> Result<T, FleetError>
    where
        F: AsyncFnOnce(deadpool_redis::Connection) -> Result<T, FleetError>,
    {
        let work = async {
            let conn = self.pool.get().await?;
            op(conn).await
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| FleetError::Timeout(self.timeout))?
    }

    /// Whether Redis answers a PING.
    pub async fn ping(&self) -> Result<(), FleetError> {
        self.with(async |mut conn| {
            redis::cmd("PING").query_async::<String>(&mut conn).await?;
            Ok(())
        })
        .await
    }

    /// Redis's clock, in ms since the epoch.
    pub async fn time_ms(&self) -> Result<u64, FleetError> {
        self.with(async |mut conn| {
            let (s, us): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await?;
            Ok(s * 1000 + us / 1000)
        })
        .await
    }

    fn history_key(&self, name: &str) -> String {
        format!("{}:{{{name}}}:history", self.prefix)
    }

    /// The breaker name in `key` when it is `<prefix>:{<name>}<suffix>` with a valid name.
    fn name_in<'k>(&self, key: &'k str, suffix: &str) -> Option<&'k str> {
        let name = key
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(":{")?
            .strip_suffix(suffix)?
            .strip_suffix('}')?;
        breaker_redis::validate::name(name).ok().map(|()| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Fleet {
        let limits = crate::Config::default().limits().expect("valid");
        Fleet::new("redis://127.0.0.1:1", "breaker", &limits).expect("valid URL")
    }

    #[tokio::test]
    async fn names_are_read_only_from_keys_of_the_exact_form() {
        let fleet = fleet();
        assert_eq!(fleet.name_in("breaker:{service-b}", ""), Some("service-b"));
        assert_eq!(
            fleet.name_in("breaker:{a:b}:history", ":history"),
            Some("a:b")
        );
        for other in [
            "breaker:{service-b}:window",
            "breaker:{service-b}:last-good",
            "breakers:{x}",
            "breaker:{}",
            "breaker:{a b}",
            "rate-limit:{x}",
        ] {
            assert_eq!(fleet.name_in(other, ""), None, "{other}");
        }
        assert_eq!(fleet.events_pattern(), "breaker:{*}:events");
    }

    #[test]
    fn a_bad_url_names_the_variable() {
        let limits = crate::Config::default().limits().expect("valid");
        let err = Fleet::new("http://x", "breaker", &limits).expect_err("not redis");
        assert!(err.to_string().contains("REDIS_URL"), "{err}");
    }
}
