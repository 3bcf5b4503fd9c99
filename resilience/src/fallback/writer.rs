//! Writes [`LastGood`](super::LastGood)'s remembered responses to Redis off the caller's path:
//! one background task per `LastGood`, one `SET ... PX` in flight at a time, and only the
//! latest response written when they arrive faster than Redis answers (older ones are moot).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tracing::{debug, warn};

use breaker_redis::store::health::{Attempt, Health};
use breaker_redis::store::refusal::{Nag, Refusal};
use breaker_redis::store::{RedisStore, StoreError};

/// Where and how remembered responses are written.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) store: RedisStore,
    pub(crate) key: String,
    pub(crate) ttl: Duration,
    pub(crate) timeout: Duration,
    pub(crate) health: Arc<Health>,
    /// When a refusal by Redis is logged again.
    pub(crate) nag: Arc<Nag>,
}

/// The latest response not yet written; the task ends when this is dropped.
#[derive(Debug)]
pub(crate) struct Writer {
    latest: watch::Sender<Option<Arc<[u8]>>>,
    target: Option<Target>,
    started: OnceLock<()>,
}

impl Writer {
    /// A writer to `target`; `None` keeps responses in memory only.
    pub(crate) fn new(target: Option<Target>) -> Self {
        Writer {
            latest: watch::Sender::new(None),
            target,
            started: OnceLock::new(),
        }
    }

    /// Queues `json` to be written, replacing anything not yet written.
    pub(crate) fn send(&self, json: Arc<[u8]>) {
        self.latest.send_replace(Some(json));
        let Some(target) = &self.target else { return };
        if self.started.get().is_some() {
            return;
        }
        // Spawned on first use rather than at construction, which may happen outside a runtime.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            debug!(fallback = %target.name, "no tokio runtime: the response stays local");
            return;
        };
        self.started.get_or_init(|| {
            let mut rx = self.latest.subscribe();
            rx.mark_changed();
            runtime.spawn(run(rx, target.clone()));
        });
    }
}

async fn run(mut rx: watch::Receiver<Option<Arc<[u8]>>>, target: Target) {
    while rx.changed().await.is_ok() {
        let Some(json) = rx.borrow_and_update().clone() else {
            continue;
        };
        write(&target, json).await;
    }
}

async fn write(target: &Target, json: Arc<[u8]>) {
    let op = || async {
        let mut conn = target.store.connection();
        redis::cmd("SET")
            .arg(&target.key)
            .arg(&*json)
            .arg("PX")
            .arg(target.ttl.as_millis() as u64)
            .query_async::<()>(&mut conn)
            .await
            .map_err(StoreError::from)
    };
    match target.health.run(target.timeout, op).await {
        Attempt::Answered { .. } => target.nag.reset(),
        // A refusal (ACL, login) lasts until fixed: said again, with its fix, on a back-off.
        Attempt::Failed { error, .. } if Refusal::of(&error).is_some() => {
            if target.nag.due() {
                let fix = Refusal::of(&error)
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                warn!(fallback = %target.name, %error, %fix, "redis refused the last good response; it stays local");
            }
        }
        Attempt::Failed { error, degraded } if degraded => {
            warn!(fallback = %target.name, %error, "redis unreachable; last good responses stay local");
        }
        Attempt::Failed { error, .. } => {
            debug!(fallback = %target.name, %error, "could not write the last good response");
        }
        Attempt::Skipped => {}
    }
}
