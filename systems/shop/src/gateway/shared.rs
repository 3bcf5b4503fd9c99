//! [`Shared`]: the gateway's own state in Redis (order ids, idempotency records), asked with a
//! deadline and skipped for a back-off period after a failure, like the breakers' store, so
//! that a Redis outage costs each request at most one short wait.

use std::future::Future;
use std::time::Duration;

use breaker_redis::RedisStore;
use breaker_redis::store::health::{Attempt, Health};
use breaker_redis::store::refusal::Refusal;
use breaker_redis::store::{Conn, StoreError};
use tracing::{info, warn};

/// The longest wait for Redis on a request's path.
const TIMEOUT: Duration = Duration::from_millis(250);
/// How long Redis is skipped after a failure before one request tries it again.
const BACKOFF: Duration = Duration::from_secs(1);

/// The connection and its health.
pub(crate) struct Shared {
    conn: Conn,
    health: Health,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// On the breakers' connection (it reconnects on its own).
    pub(crate) fn new(store: &RedisStore) -> Self {
        Self {
            conn: store.connection(),
            health: Health::new(BACKOFF),
        }
    }

    /// `op`'s answer, or `None` when Redis failed, was too slow or is being skipped: the
    /// caller then carries on locally. `what` names the operation in logs.
    pub(crate) async fn run<T, F, Fut>(&self, what: &str, op: F) -> Option<T>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = Result<T, redis::RedisError>>,
    {
        let conn = self.conn.clone();
        let attempt = self
            .health
            .run(TIMEOUT, || async move {
                op(conn).await.map_err(StoreError::from)
            })
            .await;
        match attempt {
            Attempt::Answered { value, recovered } => {
                if recovered {
                    info!(
                        what,
                        "redis answers again: the gateway's records are shared again"
                    );
                }
                Some(value)
            }
            Attempt::Failed { error, degraded } => {
                // A refusal (ACL, login) lasts until fixed: said again, with its fix, at most
                // once per back-off, since Redis is skipped in between.
                if let Some(fix) = Refusal::of(&error) {
                    warn!(what, %error, %fix, "redis refused the gateway: it keeps its records locally");
                } else if degraded {
                    warn!(what, %error, "redis failed: the gateway keeps its records locally");
                }
                None
            }
            Attempt::Skipped => None,
        }
    }
}
