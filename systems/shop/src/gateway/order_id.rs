//! [`OrderIds`]: `order-<ms>` ids, unique across concurrent orders and gateway replicas, since
//! payments and stock updates are keyed by them: each is a millisecond later than every id
//! handed out before, allocated on Redis; while Redis is down, later than every id this replica
//! handed out.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use service_kit::time::now_ms;

use super::shared::Shared;

static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("lua/order_id.lua")));

/// The key of the last id, shared by every replica.
const KEY: &str = "shop:{gateway}:order-id";
/// Ids only need to stay ahead of the clock for as long as a clock can be behind.
const KEY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How many classes of milliseconds replicas spread over while Redis is down.
pub(crate) const SPREAD: u64 = 64;

/// Hands out order ids.
#[derive(Debug)]
pub(crate) struct OrderIds {
    /// The last id this replica handed out.
    last: AtomicU64,
    /// This replica's milliseconds while Redis is down: those ≡ `residue` (mod [`SPREAD`]).
    residue: u64,
}

impl Default for OrderIds {
    fn default() -> Self {
        Self {
            last: AtomicU64::new(0),
            residue: rand::random_range(0..SPREAD),
        }
    }
}

impl OrderIds {
    /// The next id, as `order-<ms>`.
    pub(crate) async fn next(&self, shared: &Shared) -> String {
        let floor = self.last.load(Ordering::Acquire);
        let ttl = u64::try_from(KEY_TTL.as_millis()).unwrap_or(u64::MAX);
        let allocated = shared
            .run("order id", |mut conn| async move {
                SCRIPT
                    .key(KEY)
                    .arg(floor)
                    .arg(ttl)
                    .invoke_async::<u64>(&mut conn)
                    .await
            })
            .await;
        let id = match allocated {
            Some(id) => {
                self.last.fetch_max(id, Ordering::AcqRel);
                id
            }
            None => self.next_local(),
        };
        format!("order-{id}")
    }

    /// The first millisecond of this replica's residue from max(now, last + 1), taken
    /// atomically.
    fn next_local(&self) -> u64 {
        let now = now_ms();
        let mut last = self.last.load(Ordering::Acquire);
        loop {
            let from = now.max(last + 1);
            let id = from + (self.residue + SPREAD - from % SPREAD) % SPREAD;
            match self
                .last
                .compare_exchange(last, id, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return id,
                Err(current) => last = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ids_never_repeat_within_a_millisecond() {
        let ids = OrderIds::default();
        let mut seen: Vec<u64> = (0..1000).map(|_| ids.next_local()).collect();
        let count = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), count);
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        assert!(seen.iter().all(|id| id % SPREAD == ids.residue));
    }
}
