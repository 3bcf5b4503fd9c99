//! Service B's own fault setting, `fail_every`, next to the generic ones of
//! [`service_kit::faults`].

use serde::{Deserialize, Serialize};
use service_kit::faults::{self, Decision, Extra, InvalidFaults, Outcome};

/// How `/hello` misbehaves: `fail_every`, then `failure_rate`, `delay_ms`, `down`.
pub type Faults = faults::Faults<FailEvery>;

/// A partial update, as `PUT /faults` takes it: omitted (or `null`) fields keep their value.
pub type FaultsUpdate = faults::FaultsUpdate<FailEveryUpdate>;

/// Request number `n` fails (500) when `n % fail_every == 0`; 0 never fails this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FailEvery {
    /// Every `fail_every`-th request fails; 0 never.
    pub fail_every: u64,
}

/// The update of [`FailEvery`].
#[derive(Debug, Default, Deserialize)]
pub struct FailEveryUpdate {
    /// See [`FailEvery::fail_every`].
    pub fail_every: Option<u64>,
}

impl Extra for FailEvery {
    type Update = FailEveryUpdate;

    fn updated(&self, update: &FailEveryUpdate) -> Result<Self, InvalidFaults> {
        Ok(Self {
            fail_every: update.fail_every.unwrap_or(self.fail_every),
        })
    }
}

impl FailEvery {
    /// Whether request number `request` (from 1) fails on the count.
    pub fn fails(self, request: u64) -> bool {
        self.fail_every > 0 && request.is_multiple_of(self.fail_every)
    }
}

/// The outcome of request number `request`: `down` wins, then a count or a random failure.
pub fn outcome(decision: &Decision<FailEvery>, request: u64) -> Outcome {
    match decision.outcome {
        Outcome::Pass if decision.faults.extra.fails(request) => Outcome::Failure,
        outcome => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(faults: Faults, outcome: Outcome) -> Decision<FailEvery> {
        Decision { outcome, faults }
    }

    #[test]
    fn every_third_request_fails() {
        let every = |n| Faults::with_extra(FailEvery { fail_every: n });
        let pass = decision(every(3), Outcome::Pass);
        let failing: Vec<u64> = (1..=9)
            .filter(|&n| outcome(&pass, n) == Outcome::Failure)
            .collect();
        assert_eq!(failing, [3, 6, 9]);
        let never = decision(every(0), Outcome::Pass);
        assert!((1..=100).all(|n| outcome(&never, n) == Outcome::Pass));
    }

    #[test]
    fn down_wins_over_the_count() {
        let every = Faults::with_extra(FailEvery { fail_every: 3 });
        assert_eq!(outcome(&decision(every, Outcome::Down), 3), Outcome::Down);
        let failed = decision(every, Outcome::Failure);
        assert_eq!(outcome(&failed, 1), Outcome::Failure);
    }

    #[test]
    fn the_json_is_fail_every_then_the_generic_fields() {
        let faults = Faults {
            down: true,
            ..Faults::with_extra(FailEvery { fail_every: 3 })
        };
        let text = serde_json::to_string(&faults).expect("serializes");
        assert_eq!(
            text,
            r#"{"fail_every":3,"failure_rate":0.0,"delay_ms":0,"down":true}"#
        );
    }

    #[test]
    fn updates_keep_or_replace_fail_every() {
        let faults = Faults::with_extra(FailEvery { fail_every: 3 });
        let update: FaultsUpdate = serde_json::from_str(r#"{"down": true}"#).expect("parses");
        assert_eq!(faults.updated(&update).expect("valid").extra.fail_every, 3);
        let update: FaultsUpdate = serde_json::from_str(r#"{"fail_every": 0}"#).expect("parses");
        assert_eq!(faults.updated(&update).expect("valid").extra.fail_every, 0);
        let wrong = serde_json::from_str::<FaultsUpdate>(r#"{"fail_every": "3"}"#);
        assert!(wrong.is_err());
    }
}
