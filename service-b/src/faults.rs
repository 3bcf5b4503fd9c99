//! The fault settings: what `/hello` does wrong, changed at run time through `/faults`.

use serde::{Deserialize, Serialize};

/// How `/hello` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Faults {
    /// Request number `n` fails (500) when `n % fail_every == 0`; 0 never fails this way.
    pub fail_every: u64,
    /// The fraction of requests that fail (500) at random, in addition; 0.0 to 1.0.
    pub failure_rate: f64,
    /// How long every answer waits, at most [`Faults::MAX_DELAY_MS`].
    pub delay_ms: u64,
    /// Every request answers 503.
    pub down: bool,
}

/// A partial update, as `PUT /faults` takes it: omitted (or `null`) fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    /// See [`Faults::fail_every`].
    pub fail_every: Option<u64>,
    /// See [`Faults::failure_rate`].
    pub failure_rate: Option<f64>,
    /// See [`Faults::delay_ms`].
    pub delay_ms: Option<u64>,
    /// See [`Faults::down`].
    pub down: Option<bool>,
}

/// What `/hello` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200.
    Hello,
    /// 500: `fail_every` or `failure_rate` hit.
    Failure,
    /// 503: `down`.
    Down,
}

impl Faults {
    /// The longest accepted `delay_ms`: one minute.
    pub const MAX_DELAY_MS: u64 = 60_000;

    /// Failing every `fail_every`-th request, nothing else.
    pub fn every(fail_every: u64) -> Self {
        Self {
            fail_every,
            failure_rate: 0.0,
            delay_ms: 0,
            down: false,
        }
    }

    /// These settings with `update` applied, or why `update` is invalid.
    ///
    /// # Errors
    ///
    /// `failure_rate` outside 0.0..=1.0, or `delay_ms` over [`Faults::MAX_DELAY_MS`].
    pub fn updated(self, update: &FaultsUpdate) -> Result<Self, String> {
        if let Some(rate) = update.failure_rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(format!(
                "failure_rate must be between 0.0 and 1.0, got {rate}"
            ));
        }
        if let Some(delay) = update.delay_ms
            && delay > Self::MAX_DELAY_MS
        {
            let max = Self::MAX_DELAY_MS;
            return Err(format!("delay_ms must be at most {max}, got {delay}"));
        }
        Ok(Self {
            fail_every: update.fail_every.unwrap_or(self.fail_every),
            failure_rate: update.failure_rate.unwrap_or(self.failure_rate),
            delay_ms: update.delay_ms.unwrap_or(self.delay_ms),
            down: update.down.unwrap_or(self.down),
        })
    }

    /// The outcome of request number `request` (from 1), given `roll`, uniform in 0.0..1.0.
    pub fn decide(&self, request: u64, roll: f64) -> Outcome {
        let counted = self.fail_every > 0 && request.is_multiple_of(self.fail_every);
        if self.down {
            Outcome::Down
        } else if counted || roll < self.failure_rate {
            Outcome::Failure
        } else {
            Outcome::Hello
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_third_request_fails() {
        let faults = Faults::every(3);
        let failing: Vec<u64> = (1..=9)
            .filter(|&n| faults.decide(n, 0.99) == Outcome::Failure)
            .collect();
        assert_eq!(failing, [3, 6, 9]);
        assert!((1..=100).all(|n| Faults::every(0).decide(n, 0.0) == Outcome::Hello));
    }

    #[test]
    fn failure_rate_is_a_threshold_on_the_roll() {
        let faults = Faults::every(0).updated(&FaultsUpdate {
            failure_rate: Some(0.25),
            ..FaultsUpdate::default()
        });
        let faults = faults.expect("valid rate");
        assert_eq!(faults.decide(1, 0.2), Outcome::Failure);
        assert_eq!(faults.decide(1, 0.3), Outcome::Hello);
    }

    #[test]
    fn invalid_updates_are_rejected() {
        let rate = FaultsUpdate {
            failure_rate: Some(1.5),
            ..FaultsUpdate::default()
        };
        assert!(Faults::every(3).updated(&rate).is_err());
        let delay = FaultsUpdate {
            delay_ms: Some(Faults::MAX_DELAY_MS + 1),
            ..FaultsUpdate::default()
        };
        assert!(Faults::every(3).updated(&delay).is_err());
    }
}
