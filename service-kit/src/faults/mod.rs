//! Simulated faults every demo service can have, changed at start (environment) and at run time
//! (`GET|PUT|DELETE /faults`).
//!
//! The generic settings are `failure_rate`, `delay_ms` and `down`. A service adds its own (e.g.
//! "every n-th request fails") as an [`Extra`]: they are serialized first, at the top level of
//! the same JSON object, and updated and validated with the rest.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::{Router, routing::get};
//! use service_kit::faults::{self, FaultControl, Faults, FaultsConfig};
//!
//! # fn build() -> Result<Router, service_kit::ConfigError> {
//! // Defaults in code (this service fails a quarter of its requests, after 800 ms), overridden
//! // by `FAULTS__*` at start; `DELETE /faults` goes back to them.
//! let defaults = Faults { failure_rate: 0.25, delay_ms: 800, ..Faults::<()>::none() };
//! let control = Arc::new(FaultControl::from_config(defaults, &FaultsConfig::load()?)?);
//! let work = {
//!     let control = Arc::clone(&control);
//!     // The delay is slept here, inside the handler: that is the simulated slowness.
//!     move || async move { control.check().await.outcome.status() }
//! };
//! let routes = Router::new()
//!     .route("/work", get(work))
//!     .merge(faults::routes(control));
//! # Ok(routes)
//! # }
//! ```
//!
//! # Layout
//!
//! - here: [`Faults`], [`FaultsUpdate`], [`Extra`], validation and the pure decision.
//! - `control`: [`FaultControl`], the current settings, the defaults and the random source.
//! - `routes`: [`routes`], the three `/faults` routes.
//! - `config`: [`FaultsConfig`], the start-up settings (`FAULTS__*`).
//! - `backend`: [`backend`], the router of a service that only answers: its API refused while
//!   `down`, the `/faults` routes and a `/health` saying `UP` or `DOWN`.

mod backend;
mod config;
mod control;
mod routes;
#[cfg(test)]
mod tests;

use std::fmt::Debug;
use std::time::Duration;

use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use backend::backend;
pub use config::FaultsConfig;
pub use control::{Decision, FaultControl};
pub use routes::routes;

/// The longest accepted `delay_ms`: one minute.
pub const MAX_DELAY_MS: u64 = 60_000;

/// A service's own fault settings, kept next to the generic ones. `()` when there are none.
///
/// They are flattened into the JSON of [`Faults`] and [`FaultsUpdate`], so their field names must
/// differ from `failure_rate`, `delay_ms` and `down`. `Update` needs no `deny_unknown_fields` of
/// its own: [`FaultsUpdate`] rejects any field that neither part takes.
pub trait Extra: Clone + Debug + Serialize + Send + Sync + 'static {
    /// A partial update of these settings: every field optional, `None` keeping the value.
    type Update: DeserializeOwned + Debug + Default + Send + 'static;

    /// These settings with `update` applied.
    ///
    /// # Errors
    ///
    /// A value is out of range; nothing is changed then.
    fn updated(&self, update: &Self::Update) -> Result<Self, InvalidFaults>;
}

impl Extra for () {
    type Update = ();

    fn updated(&self, (): &()) -> Result<Self, InvalidFaults> {
        Ok(())
    }
}

/// The fault settings: the service's own ([`Extra`]) first, then the generic ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Faults<X = ()> {
    /// The service's own settings, at the top level of the JSON object.
    #[serde(flatten)]
    pub extra: X,
    /// The fraction of requests that fail (500) at random; 0.0 to 1.0.
    pub failure_rate: f64,
    /// How long every answer waits, at most [`MAX_DELAY_MS`].
    pub delay_ms: u64,
    /// Every request answers 503.
    pub down: bool,
}

/// A partial update, as `PUT /faults` takes it: omitted (or `null`) fields keep their value, any
/// other field is rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate<U = ()> {
    /// The update of the service's own settings.
    #[serde(flatten)]
    pub extra: U,
    /// See [`Faults::failure_rate`].
    pub failure_rate: Option<f64>,
    /// See [`Faults::delay_ms`].
    pub delay_ms: Option<u64>,
    /// See [`Faults::down`].
    pub down: Option<bool>,
}

/// An update with a value out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct InvalidFaults {
    /// The field, as in the JSON, e.g. `failure_rate`.
    pub field: &'static str,
    /// What is wrong, e.g. `must be between 0.0 and 1.0, got 1.5`.
    pub reason: String,
}

impl InvalidFaults {
    /// `field` has a bad value, because of `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// What a request answers under the current faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No fault: answer normally.
    Pass,
    /// A simulated failure: 500.
    Failure,
    /// `down`: 503.
    Down,
}

impl Outcome {
    /// 200, 500 or 503.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Pass => StatusCode::OK,
            Self::Failure => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Down => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl<X: Default> Faults<X> {
    /// No faults at all, and the service's own settings at their `Default`.
    pub fn none() -> Self {
        Self::with_extra(X::default())
    }
}

impl<X> Faults<X> {
    /// No generic faults, and `extra` as the service's own settings.
    pub fn with_extra(extra: X) -> Self {
        Self {
            extra,
            failure_rate: 0.0,
            delay_ms: 0,
            down: false,
        }
    }

    /// How long an answer waits.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }

    /// The outcome given `roll`, uniform in 0.0..1.0: `down` wins, then a roll under
    /// `failure_rate` fails.
    pub fn decide(&self, roll: f64) -> Outcome {
        if self.down {
            Outcome::Down
        } else if roll < self.failure_rate {
            Outcome::Failure
        } else {
            Outcome::Pass
        }
    }
}

impl<X: Extra> Faults<X> {
    /// These settings with `update` applied; all of it or, when a value is invalid, nothing.
    ///
    /// # Errors
    ///
    /// `failure_rate` outside 0.0..=1.0, `delay_ms` over [`MAX_DELAY_MS`], or what
    /// [`Extra::updated`] rejects.
    pub fn updated(&self, update: &FaultsUpdate<X::Update>) -> Result<Self, InvalidFaults> {
        if let Some(rate) = update.failure_rate {
            check_failure_rate(rate)?;
        }
        if let Some(delay) = update.delay_ms {
            check_delay_ms(delay)?;
        }
        Ok(Self {
            extra: self.extra.updated(&update.extra)?,
            failure_rate: update.failure_rate.unwrap_or(self.failure_rate),
            delay_ms: update.delay_ms.unwrap_or(self.delay_ms),
            down: update.down.unwrap_or(self.down),
        })
    }
}

fn check_failure_rate(rate: f64) -> Result<(), InvalidFaults> {
    // Written so that NaN is out of range too; -0.0 equals 0.0 but would be shown back as `-0.0`.
    if (0.0..=1.0).contains(&rate) && rate.is_sign_positive() {
        Ok(())
    } else {
        let reason = format!("must be between 0.0 and 1.0, got {rate:?}");
        Err(InvalidFaults::new("failure_rate", reason))
    }
}

fn check_delay_ms(delay: u64) -> Result<(), InvalidFaults> {
    if delay <= MAX_DELAY_MS {
        Ok(())
    } else {
        let reason = format!("must be at most {MAX_DELAY_MS}, got {delay}");
        Err(InvalidFaults::new("delay_ms", reason))
    }
}
