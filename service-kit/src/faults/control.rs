//! [`FaultControl`]: the current settings, the configured defaults and the random source.

use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Extra, Faults, FaultsUpdate, InvalidFaults, Outcome};

/// What [`FaultControl::check`] decided, and the settings it decided with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision<X> {
    /// What to answer.
    pub outcome: Outcome,
    /// The settings read when the request arrived; the service's own ([`Faults::extra`]) may add
    /// failures of its own to a [`Outcome::Pass`].
    pub faults: Faults<X>,
}

/// The fault settings of one service: shared by its handlers and its `/faults` routes.
#[derive(Debug)]
pub struct FaultControl<X = ()> {
    defaults: Faults<X>,
    current: Mutex<Faults<X>>,
    rng: Mutex<StdRng>,
}

/// A poisoned lock still holds valid settings: every write replaces them whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<X: Extra> FaultControl<X> {
    /// Starting at `defaults`, with a random source seeded from the system.
    pub fn new(defaults: Faults<X>) -> Self {
        Self::with_rng(defaults, rand::make_rng())
    }

    /// Starting at `defaults`, with a random source seeded with `seed`: the same seed and the
    /// same requests give the same outcomes.
    pub fn seeded(defaults: Faults<X>, seed: u64) -> Self {
        Self::with_rng(defaults, StdRng::seed_from_u64(seed))
    }

    fn with_rng(defaults: Faults<X>, rng: StdRng) -> Self {
        Self {
            current: Mutex::new(defaults.clone()),
            defaults,
            rng: Mutex::new(rng),
        }
    }

    /// The settings `DELETE /faults` goes back to.
    pub fn defaults(&self) -> &Faults<X> {
        &self.defaults
    }

    /// The current settings.
    pub fn current(&self) -> Faults<X> {
        lock(&self.current).clone()
    }

    /// Applies a partial update; an invalid one changes nothing.
    ///
    /// # Errors
    ///
    /// A value is out of range (see [`Faults::updated`]).
    pub fn update(&self, update: &FaultsUpdate<X::Update>) -> Result<Faults<X>, InvalidFaults> {
        let mut current = lock(&self.current);
        *current = current.updated(update)?;
        Ok(current.clone())
    }

    /// Goes back to the defaults.
    pub fn reset(&self) -> Faults<X> {
        let mut current = lock(&self.current);
        *current = self.defaults.clone();
        current.clone()
    }

    /// The outcome of one request under `faults`, drawing from the random source only when
    /// `failure_rate` can matter, so a seeded sequence is not used up by other settings.
    pub fn decide(&self, faults: &Faults<X>) -> Outcome {
        let roll = if !faults.down && faults.failure_rate > 0.0 {
            lock(&self.rng).random::<f64>()
        } else {
            1.0
        };
        faults.decide(roll)
    }

    /// What a request answers: reads the settings on arrival (a request already waiting keeps
    /// the ones it came in with), waits their `delay_ms`, then decides.
    pub async fn check(&self) -> Decision<X> {
        let faults = self.current();
        if faults.delay_ms > 0 {
            tokio::time::sleep(faults.delay()).await;
        }
        Decision {
            outcome: self.decide(&faults),
            faults,
        }
    }
}
