//! [`Overrides`]: `open`, `close`, `disable`, `reset` applied to a breaker in Redis with the
//! breakers' own override script, so every replica follows at once and the transition is
//! published and recorded like any other.

use std::str::FromStr;

use breaker_redis::{Breaker, Config as BreakerConfig, RedisStore, Snapshot};
use serde::Serialize;
use service_kit::{AppError, ConfigError};

use crate::config::Config;

/// An operator's override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Every replica rejects every call until `reset`.
    Open,
    /// Every replica admits every call and the circuit never trips, until `reset`.
    Close,
    /// Every replica admits every call and counts nothing, until `reset`.
    Disable,
    /// No override: a fresh closed circuit.
    Reset,
}

impl FromStr for Action {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, AppError> {
        match s {
            "open" => Ok(Self::Open),
            "close" => Ok(Self::Close),
            "disable" => Ok(Self::Disable),
            "reset" => Ok(Self::Reset),
            _ => Err(AppError::not_found("no such override")
                .with_field("detail", "use open, close, disable or reset")),
        }
    }
}

/// What an override did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The breaker.
    pub name: String,
    /// The override applied.
    pub action: Action,
    /// The state now.
    pub state: String,
    /// The override in force now (`none` after `reset`).
    pub forced: String,
    /// The generation the override started.
    pub generation: u64,
}

/// Applies overrides through a store of its own (overrides are single short scripts).
pub(crate) struct Overrides {
    store: RedisStore,
    prefix: String,
    origin: String,
}

impl Overrides {
    /// A store on `REDIS_URL`, connecting lazily; overrides are made as `origin`.
    pub(crate) async fn connect(config: &Config, origin: &str) -> Result<Self, ConfigError> {
        let store = RedisStore::connect(&config.redis_url)
            .await
            .map_err(|e| ConfigError::invalid("REDIS_URL", e))?;
        Ok(Self {
            store,
            prefix: config.key_prefix.clone(),
            origin: origin.to_owned(),
        })
    }

    /// Applies `action` to the breaker `name`, which the caller checked exists.
    pub(crate) async fn apply(&self, name: &str, action: Action) -> Result<Applied, AppError> {
        let internal = |e: breaker_redis::ConfigError| {
            AppError::internal("cannot build the override").with_source(e)
        };
        let config = BreakerConfig::builder()
            .key_prefix(self.prefix.clone())
            .build()
            .map_err(internal)?;
        let breaker = Breaker::builder(name)
            .config(config)
            .store(self.store.clone())
            .replica_id(self.origin.clone())
            .build()
            .map_err(internal)?;
        let reply: Snapshot = match action {
            Action::Open => breaker.force_open().await,
            Action::Close => breaker.force_closed().await,
            Action::Disable => breaker.disable().await,
            Action::Reset => breaker.reset().await,
        }
        .map_err(|e| AppError::unavailable("redis unavailable").with_source(e))?;
        tracing::info!(breaker = name, action = ?action, generation = reply.generation, "override applied");
        Ok(Applied {
            name: name.to_owned(),
            action,
            state: reply.state.to_string(),
            forced: reply.forced.as_str().to_owned(),
            generation: reply.generation,
        })
    }
}
