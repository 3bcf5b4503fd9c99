//! Reading and overriding breakers straight from Redis, without the services that run them:
//! what `breakerctl` and the fleet dashboard are built on.
//!
//! An [`Admin`] reads the keys every breaker keeps (`prefix:{name}` state hash, `:leases`,
//! `:window`, `:history` stream, `:settings` hash; see `lua/lib.lua`) and applies overrides
//! with the same script the breakers run (`lua/force.lua`), built from the settings the
//! breaker published, so an override is published like any other transition and every
//! running replica follows it at once.
//!
//! | call | answers |
//! |---|---|
//! | [`list`](Admin::list) | every breaker ([`BreakerSummary`]), found with `SCAN`, sorted by name |
//! | [`show`](Admin::show) | one breaker in detail ([`BreakerDetail`]) |
//! | [`history`](Admin::history) | its last transitions ([`TransitionRecord`]), newest first |
//! | [`history_after`](Admin::history_after) | its transitions after a stream id, oldest first |
//! | [`watch`](Admin::watch) | live transitions from pub/sub ([`Watch`], a `Stream`) |
//! | [`open`](Admin::open), [`close`](Admin::close), [`disable`](Admin::disable), [`reset`](Admin::reset) | an override ([`OverrideResult`]) |
//!
//! Layout: `types` (what the calls answer), `read` (list, show), `history` (history, watch),
//! `overrides` (open, close, disable, reset). Standalone Redis only: `list` scans one node.

mod history;
mod overrides;
mod read;
mod types;

use std::time::Duration;

use thiserror::Error;

use crate::config::ConfigError;
use crate::store::{ErrorClass, RedisStore, RedisStoreOptions, RedisTls, StoreError};

pub use history::{MAX_HISTORY, Watch};
pub use types::{BreakerDetail, BreakerSummary, OverrideResult, StoredSettings, TransitionRecord};

/// Why an [`Admin`] call failed.
#[derive(Debug, Error)]
pub enum AdminError {
    /// The Redis URL does not parse.
    #[error("invalid redis url {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Redis could not be reached or did not answer in time.
    #[error("redis at {redis} is unreachable: {reason}")]
    Unreachable {
        /// The URL, without its password.
        redis: String,
        /// The connection error.
        reason: String,
    },
    /// No breaker of that name has any key in Redis.
    #[error("no breaker named {0:?} in redis")]
    UnknownBreaker(String),
    /// The breaker has state in Redis but no published settings (a replica built before
    /// breakers published them, or its settings hash was deleted), so no override can be
    /// built for it; any running replica writes them again on its next write of the state.
    #[error(
        "breaker {0:?} has no settings in redis; a running replica publishes them again with its next calls"
    )]
    MissingSettings(String),
    /// The settings hash cannot be read as settings.
    #[error("breaker {name:?} has unreadable settings in redis: {reason}")]
    InvalidSettings {
        /// The breaker.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The name cannot be a breaker's.
    #[error("invalid breaker name: {0}")]
    InvalidName(#[from] ConfigError),
    /// Redis answered with an error (out of memory, read-only, missing permission...).
    #[error("redis refused: {0}")]
    Redis(StoreError),
}

/// A handle on the breakers in one Redis under one key prefix. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Admin {
    store: RedisStore,
    prefix: String,
    origin: String,
    timeout: Duration,
}

/// The default key prefix, the breakers' default.
pub const DEFAULT_PREFIX: &str = "breaker";

/// How long one call may wait for Redis.
const TIMEOUT: Duration = Duration::from_secs(3);

impl Admin {
    /// A handle on the Redis at `url`, with connections of its own. Fails only for a bad URL;
    /// an unreachable Redis fails each call with [`AdminError::Unreachable`].
    pub async fn connect(url: &str) -> Result<Admin, AdminError> {
        Admin::connect_tls(url, RedisTls::default()).await
    }

    /// [`connect`](Self::connect) to a `rediss://` URL with a CA and a client certificate.
    pub async fn connect_tls(url: &str, tls: RedisTls) -> Result<Admin, AdminError> {
        if let Err(e) = redis::Client::open(url) {
            return Err(AdminError::BadUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            });
        }
        let options = RedisStoreOptions {
            response_timeout: TIMEOUT,
            connection_timeout: Duration::from_secs(2),
            tls,
        };
        let store =
            RedisStore::connect_with(url, options)
                .await
                .map_err(|e| AdminError::BadUrl {
                    url: url.to_owned(),
                    reason: e.to_string(),
                })?;
        Ok(Admin::from_store(&store))
    }

    /// A handle sharing `store`'s connection (its response timeout applies to every command).
    /// Only [`watch`](Self::watch) opens a connection of its own.
    pub fn from_store(store: &RedisStore) -> Admin {
        Admin {
            store: store.clone(),
            prefix: DEFAULT_PREFIX.to_owned(),
            origin: "admin".to_owned(),
            timeout: TIMEOUT,
        }
    }

    /// The key prefix the breakers use (default `breaker`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Admin {
        self.prefix = prefix.into();
        self
    }

    /// The id overrides are made under, shown as their `origin` in the history (default
    /// `admin`).
    pub fn with_origin(mut self, origin: impl Into<String>) -> Admin {
        self.origin = origin.into();
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn base(&self, name: &str) -> String {
        format!("{}:{{{name}}}", self.prefix)
    }

    /// Runs `fut` within the call timeout, classing its failure.
    async fn run<T>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, AdminError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.error(e)),
            Err(_) => Err(self.error(StoreError::Timeout(self.timeout))),
        }
    }

    fn error(&self, e: StoreError) -> AdminError {
        match e.class() {
            ErrorClass::Connection | ErrorClass::Timeout | ErrorClass::Skipped => {
                AdminError::Unreachable {
                    redis: self.store.label().to_owned(),
                    reason: e.to_string(),
                }
            }
            ErrorClass::Server
            | ErrorClass::Protocol
            | ErrorClass::Permission
            | ErrorClass::Auth => AdminError::Redis(e),
        }
    }

    /// Runs one command on the shared connection.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, AdminError> {
        let mut conn = self.store.connection();
        self.run(async move { Ok(cmd.query_async(&mut conn).await?) })
            .await
    }
}

/// `s` as a `SCAN MATCH` or `PSUBSCRIBE` pattern matching only itself.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "*?[]\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
