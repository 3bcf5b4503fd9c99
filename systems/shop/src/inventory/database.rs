//! The simulated database: every access goes through [`service_kit::faults`], with
//! inventory's own settings ([`DbFaults`]) next to the generic ones.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use service_kit::faults::{self, Extra, FaultControl, InvalidFaults, MAX_DELAY_MS, Outcome};

/// Inventory's faults: its own settings, then `failure_rate`, `delay_ms`, `down`.
pub type Faults = faults::Faults<DbFaults>;

/// The simulated database's own faults, changed with the generic ones through `/faults`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DbFaults {
    /// The fraction of product lookups that fail (retried).
    pub product_failure_rate: f64,
    /// The fraction of stock updates that fail before taking anything (retried).
    pub update_failure_rate: f64,
    /// The list takes a random delay from 0 to this.
    pub list_max_delay_ms: u64,
}

/// A partial update of [`DbFaults`].
#[derive(Debug, Default, Deserialize)]
pub struct DbFaultsUpdate {
    /// See [`DbFaults::product_failure_rate`].
    pub product_failure_rate: Option<f64>,
    /// See [`DbFaults::update_failure_rate`].
    pub update_failure_rate: Option<f64>,
    /// See [`DbFaults::list_max_delay_ms`].
    pub list_max_delay_ms: Option<u64>,
}

fn rate(field: &'static str, value: Option<f64>, now: f64) -> Result<f64, InvalidFaults> {
    match value {
        // Written so that NaN is out of range too.
        Some(rate) if !(0.0..=1.0).contains(&rate) => Err(InvalidFaults::new(
            field,
            format!("must be between 0.0 and 1.0, got {rate}"),
        )),
        value => Ok(value.unwrap_or(now)),
    }
}

impl Extra for DbFaults {
    type Update = DbFaultsUpdate;

    fn updated(&self, update: &DbFaultsUpdate) -> Result<Self, InvalidFaults> {
        let list_max_delay_ms = match update.list_max_delay_ms {
            Some(ms) if ms > MAX_DELAY_MS => {
                let reason = format!("must be at most {MAX_DELAY_MS}, got {ms}");
                return Err(InvalidFaults::new("list_max_delay_ms", reason));
            }
            ms => ms.unwrap_or(self.list_max_delay_ms),
        };
        Ok(Self {
            product_failure_rate: rate(
                "product_failure_rate",
                update.product_failure_rate,
                self.product_failure_rate,
            )?,
            update_failure_rate: rate(
                "update_failure_rate",
                update.update_failure_rate,
                self.update_failure_rate,
            )?,
            list_max_delay_ms,
        })
    }
}

/// What an access does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    List,
    Product,
    Check,
    Update,
}

impl Access {
    fn label(self) -> &'static str {
        match self {
            Access::List => "list",
            Access::Product => "product",
            Access::Check => "check",
            Access::Update => "update",
        }
    }
}

/// A simulated database failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("simulated database error ({0})")]
pub(super) struct DbError(&'static str);

/// The simulated database's faults and its own random source.
#[derive(Debug)]
pub(super) struct Database {
    faults: Arc<FaultControl<DbFaults>>,
    dice: Mutex<StdRng>,
}

impl Database {
    /// Draws from a source seeded with `seed` (`FAULTS__SEED`), or from the system.
    pub(super) fn new(faults: Arc<FaultControl<DbFaults>>, seed: Option<u64>) -> Self {
        let dice = seed.map_or_else(rand::make_rng, StdRng::seed_from_u64);
        register_metrics();
        Self {
            faults,
            dice: Mutex::new(dice),
        }
    }

    /// One access: waits `delay_ms` (and for the list a random part of `list_max_delay_ms`),
    /// then fails as the generic `failure_rate` and the access's own rate say. Every attempt
    /// is counted in `inventory_db_attempts_total{operation, result}`.
    pub(super) async fn access(&self, access: Access) -> Result<(), DbError> {
        let faults = self.faults.current();
        let (extra, roll) = (faults.extra, self.roll(access, &faults));
        tokio::time::sleep(faults.delay() + roll.0).await;
        let own_rate = match access {
            Access::Product => extra.product_failure_rate,
            Access::Update => extra.update_failure_rate,
            Access::List | Access::Check => 0.0,
        };
        let failed = self.faults.decide(&faults) != Outcome::Pass || roll.1 < own_rate;
        let result = if failed { "failed" } else { "ok" };
        metrics::counter!("inventory_db_attempts_total", "operation" => access.label(), "result" => result)
            .increment(1);
        if failed {
            return Err(DbError(access.label()));
        }
        Ok(())
    }

    /// The list's random delay and the roll for the access's own failure rate.
    fn roll(&self, access: Access, faults: &Faults) -> (Duration, f64) {
        let mut dice = self.dice.lock().unwrap_or_else(PoisonError::into_inner);
        let delay = match access {
            Access::List => dice.random_range(0..=faults.extra.list_max_delay_ms),
            _ => 0,
        };
        (Duration::from_millis(delay), dice.random::<f64>())
    }
}

/// Describes the database metric and creates its series at 0, so that a fresh replica exposes
/// them (with HELP text) before the first access.
fn register_metrics() {
    metrics::describe_counter!(
        "inventory_db_attempts_total",
        "Accesses to the simulated inventory database, by operation and result."
    );
    for access in [Access::List, Access::Product, Access::Check, Access::Update] {
        for result in ["ok", "failed"] {
            metrics::counter!("inventory_db_attempts_total", "operation" => access.label(), "result" => result)
                .increment(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> DbFaults {
        DbFaults {
            product_failure_rate: 0.3,
            update_failure_rate: 0.2,
            list_max_delay_ms: 3000,
        }
    }

    #[test]
    fn updates_are_checked_and_partial() {
        let parse = |text: &str| serde_json::from_str::<DbFaultsUpdate>(text).expect("parses");
        let changed = faults().updated(&parse(r#"{"product_failure_rate": 1}"#));
        assert_eq!(changed.expect("valid").product_failure_rate, 1.0);
        for bad in [
            r#"{"product_failure_rate": 1.5}"#,
            r#"{"update_failure_rate": -1}"#,
            r#"{"list_max_delay_ms": 60001}"#,
        ] {
            assert!(faults().updated(&parse(bad)).is_err(), "{bad}");
        }
        let json = serde_json::to_value(Faults::with_extra(faults())).expect("serializes");
        assert_eq!(json["list_max_delay_ms"], 3000);
        assert_eq!(json["delay_ms"], 0);
    }

    #[tokio::test]
    async fn own_rates_fail_only_their_access() {
        let always = DbFaults {
            product_failure_rate: 1.0,
            update_failure_rate: 0.0,
            list_max_delay_ms: 0,
        };
        let control = Arc::new(FaultControl::new(Faults::with_extra(always)));
        let db = Database::new(control, Some(1));
        assert!(db.access(Access::Product).await.is_err());
        assert!(db.access(Access::Update).await.is_ok());
        assert!(db.access(Access::List).await.is_ok());
    }
}
