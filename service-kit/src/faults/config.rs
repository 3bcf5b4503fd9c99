//! [`FaultsConfig`]: the fault settings a service starts with, from `FAULTS__*`.

use serde::Deserialize;

use super::{Extra, FaultControl, Faults, FaultsUpdate, InvalidFaults};
use crate::config::{ConfigError, Loader};

/// Start-up overrides of a service's default faults: the `[faults]` section of the config file
/// or the environment, each optional.
///
/// | variable | meaning |
/// |---|---|
/// | `FAULTS__FAILURE_RATE` | 0.0 to 1.0 |
/// | `FAULTS__DELAY_MS` | at most 60000 |
/// | `FAULTS__DOWN` | `true` or `false` |
/// | `FAULTS__SEED` | seeds the random source of `failure_rate`; unset: seeded from the system |
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsConfig {
    /// See [`Faults::failure_rate`].
    pub failure_rate: Option<f64>,
    /// See [`Faults::delay_ms`].
    pub delay_ms: Option<u64>,
    /// See [`Faults::down`].
    pub down: Option<bool>,
    /// The seed of the random source, for repeatable runs.
    pub seed: Option<u64>,
}

/// The top level, which the whole environment reaches: only the `faults` section is read.
#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    faults: FaultsConfig,
}

impl FaultsConfig {
    /// Reads `CONFIG_FILE` and the process environment.
    ///
    /// # Errors
    ///
    /// A value does not parse, or the section has an unknown setting; the error names it.
    pub fn load() -> Result<Self, ConfigError> {
        Self::from_loader(&Loader::from_env()?)
    }

    /// Reads the settings from `loader`.
    ///
    /// # Errors
    ///
    /// As [`FaultsConfig::load`].
    pub fn from_loader(loader: &Loader) -> Result<Self, ConfigError> {
        Ok(loader.load::<Section>()?.faults)
    }

    /// `base` (the service's defaults in code) with these overrides applied.
    ///
    /// # Errors
    ///
    /// A value is out of range; the error names its variable.
    pub fn apply<X: Extra>(&self, base: &Faults<X>) -> Result<Faults<X>, ConfigError> {
        let update = FaultsUpdate {
            extra: X::Update::default(),
            failure_rate: self.failure_rate,
            delay_ms: self.delay_ms,
            down: self.down,
        };
        base.updated(&update)
            .map_err(|InvalidFaults { field, reason }| {
                ConfigError::invalid(format!("FAULTS__{}", field.to_uppercase()), reason)
            })
    }
}

impl<X: Extra> FaultControl<X> {
    /// Defaults `base` with `config`'s overrides, seeded as `config` says.
    ///
    /// # Errors
    ///
    /// A value of `config` is out of range; the error names its variable.
    pub fn from_config(base: Faults<X>, config: &FaultsConfig) -> Result<Self, ConfigError> {
        let defaults = config.apply(&base)?;
        Ok(match config.seed {
            Some(seed) => Self::seeded(defaults, seed),
            None => Self::new(defaults),
        })
    }
}
