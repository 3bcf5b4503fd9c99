//! [`Backoff`]: exponential backoff with full jitter, as a pure iterator of delays.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Exponential backoff with full jitter: the `n`-th delay (from 0) is drawn uniformly from
/// `[0, min(max, base * multiplier^n)]`.
///
/// Full jitter spreads the retries of many clients that failed together, so they do not come
/// back in waves. The iterator never ends and never sleeps: limit it with
/// [`take`](Iterator::take) and sleep on each value yourself. Seeded with
/// [`with_seed`](Self::with_seed) it yields the same sequence every time.
///
/// ```
/// use std::time::Duration;
/// use resilience::retry::Backoff;
///
/// let ms = Duration::from_millis;
/// let delays: Vec<_> = Backoff::new(ms(100), ms(1000)).with_seed(7).take(5).collect();
/// for (n, d) in delays.iter().enumerate() {
///     assert!(*d <= ms(1000).min(ms(100) * 2u32.pow(n as u32)));
/// }
/// let again: Vec<_> = Backoff::new(ms(100), ms(1000)).with_seed(7).take(5).collect();
/// assert_eq!(delays, again);
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    multiplier: f64,
    attempt: u32,
    rng: SmallRng,
}

impl Backoff {
    /// Delays starting at `base`, doubling, never above `max`; randomly seeded.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            multiplier: 2.0,
            attempt: 0,
            rng: SmallRng::seed_from_u64(rand::rng().random()),
        }
    }

    /// Grows the ceiling by `multiplier` each step (default 2). Values below 1, and NaN, are
    /// taken as 1 (a constant ceiling) so that the ceiling never shrinks.
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier >= 1.0 { multiplier } else { 1.0 };
        self
    }

    /// Draws the jitter from a generator seeded with `seed`: the same seed gives the same
    /// delays. Meant for tests; in production a shared seed correlates clients' retries.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = SmallRng::seed_from_u64(seed);
        self
    }

    /// The largest value the `n`-th delay (from 0) can take: `min(max, base * multiplier^n)`.
    pub fn ceiling(&self, n: u32) -> Duration {
        let max = self.max.as_nanos().min(u128::from(u64::MAX));
        let growth = self.multiplier.powi(i32::try_from(n).unwrap_or(i32::MAX));
        let grown = self.base.as_nanos() as f64 * growth;
        // Compared in f64, converted only when below `max`: the cast then cannot saturate.
        let nanos = if grown >= max as f64 {
            max
        } else {
            grown as u128
        };
        Duration::from_nanos(u64::try_from(nanos.min(max)).unwrap_or(u64::MAX))
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let ceiling = self.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let ceiling_nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(
            self.rng.random_range(0..=ceiling_nanos),
        ))
    }
}
