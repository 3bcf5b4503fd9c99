//! [`Breakers`]: the list, detail, history and overrides of the breakers, through
//! [`breaker_redis::admin`], which reads the keys every breaker keeps (state, settings,
//! history) and applies overrides with the breakers' own script and published settings, so
//! every replica follows at once and the override is recorded and published like any other
//! transition. Its failures become the dashboard's JSON errors here.

use std::str::FromStr;
use std::time::Duration;

use breaker_redis::admin::{
    Admin, AdminError, BreakerDetail, BreakerSummary, OverrideResult, TransitionRecord,
};
use serde::Serialize;
use service_kit::{AppError, ConfigError};

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

/// What an override did: the action and the transition it made.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The override applied.
    pub action: Action,
    /// The transition: `breaker`, `from`, `to`, `forced`, `generation`, `at_ms`.
    #[serde(flatten)]
    pub result: OverrideResult,
}

/// The admin handle, each call bounded by `REDIS_TIMEOUT`.
pub(crate) struct Breakers {
    admin: Admin,
    timeout: Duration,
}

impl Breakers {
    /// A handle on `url` under `prefix`, whose overrides show `origin` as their maker.
    pub(crate) async fn connect(
        url: &str,
        prefix: &str,
        origin: &str,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let admin = Admin::connect(url)
            .await
            .map_err(|e| ConfigError::invalid("REDIS_URL", e))?
            .with_prefix(prefix)
            .with_origin(origin);
        Ok(Self { admin, timeout })
    }

    /// Every breaker, sorted by name.
    pub(crate) async fn list(&self) -> Result<Vec<BreakerSummary>, AppError> {
        self.bounded(self.admin.list()).await
    }

    /// One breaker; 404 when Redis knows nothing of it.
    pub(crate) async fn show(&self, name: &str) -> Result<BreakerDetail, AppError> {
        self.bounded(self.admin.show(name)).await
    }

    /// Its `limit` latest transitions, newest first; 404 when Redis knows nothing of it.
    pub(crate) async fn history(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Vec<TransitionRecord>, AppError> {
        let history = self.bounded(self.admin.history(name, limit)).await?;
        if history.is_empty() {
            // No history: an unknown breaker is told apart from a quiet one.
            self.show(name).await?;
        }
        Ok(history)
    }

    /// Applies `action` to `name`.
    pub(crate) async fn apply(&self, name: &str, action: Action) -> Result<Applied, AppError> {
        let result = match action {
            Action::Open => self.bounded(self.admin.open(name)).await,
            Action::Close => self.bounded(self.admin.close(name)).await,
            Action::Disable => self.bounded(self.admin.disable(name)).await,
            Action::Reset => self.bounded(self.admin.reset(name)).await,
        }?;
        tracing::info!(
            breaker = name,
            action = ?action,
            generation = result.generation,
            "override applied"
        );
        Ok(Applied { action, result })
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, AdminError>>,
    ) -> Result<T, AppError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(answer),
            Err(_) => Err(unavailable()
                .with_source(format!("no answer from Redis within {:?}", self.timeout))),
        }
    }
}

/// 503 while Redis cannot be read.
pub(crate) fn unavailable() -> AppError {
    AppError::unavailable("redis unavailable")
        .with_field("detail", "the breakers' Redis cannot be read; try again")
}

fn answer(e: AdminError) -> AppError {
    match e {
        AdminError::UnknownBreaker(name) => {
            AppError::not_found("unknown breaker").with_field("name", name)
        }
        AdminError::InvalidName(reason) => {
            AppError::bad_request("invalid breaker name").with_field("detail", reason.to_string())
        }
        AdminError::MissingSettings(_) | AdminError::InvalidSettings { .. } => {
            AppError::new(axum::http::StatusCode::CONFLICT, "no usable settings")
                .with_field("detail", e.to_string())
        }
        AdminError::Unreachable { .. } | AdminError::Redis(_) | AdminError::BadUrl { .. } => {
            unavailable().with_source(e)
        }
    }
}
