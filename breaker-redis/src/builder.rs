//! [`BreakerBuilder`]: validates a breaker's name and configuration and wires up its store,
//! its pub/sub listener and, with cached admission, its batch sender.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use tokio::sync::broadcast;

use crate::breaker::Breaker;
use crate::cached::Cached;
use crate::clock::Clock;
use crate::config::{Admission, Config, ConfigError};
use crate::events::{OwnReports, Scope, StateChange};
use crate::inner::{AbortOnDrop, Inner, flush_loop};
use crate::metrics;
use crate::store::fail_safe::FailSafe;
use crate::store::{MemoryStore, Spec, Store};

impl Breaker {
    /// Starts building the breaker `name` (1 to 128 characters from `A-Z a-z 0-9 . _ - :`).
    pub fn builder(name: impl Into<String>) -> BreakerBuilder {
        BreakerBuilder {
            name: name.into(),
            config: Config::default(),
            store: None,
            clock: Clock::Store,
            replica_id: None,
        }
    }
}

/// Builds a [`Breaker`]; see [`Breaker::builder`].
#[derive(Debug)]
pub struct BreakerBuilder {
    pub(crate) name: String,
    pub(crate) config: Config,
    pub(crate) store: Option<Arc<dyn Store>>,
    pub(crate) clock: Clock,
    pub(crate) replica_id: Option<String>,
}

impl BreakerBuilder {
    /// The configuration (default: [`Config::default`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Where the circuit lives (default: a new [`MemoryStore`], private to this breaker).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where the circuit lives, shared with other breakers.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: the store's own; tests use a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// This replica's id in published transitions and logs (default: random). It is for
    /// display: several processes may share one; permit ids and the filtering of this
    /// breaker's own events use a random id of its own, made when the breaker is built.
    pub fn replica_id(mut self, id: impl Into<String>) -> Self {
        self.replica_id = Some(id.into());
        self
    }

    /// Validates the name and builds the breaker. Within a tokio runtime it also starts
    /// listening for other replicas' transitions.
    pub fn build(self) -> Result<Breaker, ConfigError> {
        let origin = self.replica_id.unwrap_or_else(random_id);
        let spec = Spec::new(&self.name, self.config, &origin)?;
        crate::metrics::register(spec.name(), spec.config());
        let shown = Arc::new(metrics::ShownState::new(spec.name()));
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let (events, _) = broadcast::channel(256);
        let cached = match spec.config().admission {
            Admission::Strict => None,
            Admission::Cached {
                flush_interval,
                max_batch,
                max_staleness,
            } => Some(Arc::new(Cached::new(
                flush_interval,
                max_batch,
                max_staleness,
            ))),
        };
        let own = Arc::new(OwnReports::default());
        let sink = sink(
            spec.instance(),
            &events,
            cached.clone(),
            own.clone(),
            shown.clone(),
        );
        let subscription = store.subscribe(&spec, sink);
        store.publish_settings(&spec);
        let inner = Arc::new(Inner {
            own,
            fail_safe: FailSafe::new(store, spec.config().retry_backoff),
            spec,
            events,
            clock: self.clock,
            next_permit: AtomicU64::new(0),
            subscription,
            flusher: OnceLock::new(),
            cached: cached.clone(),
            shown,
        });
        if let (Some(cached), Ok(runtime)) = (cached, tokio::runtime::Handle::try_current()) {
            let task = runtime.spawn(flush_loop(Arc::downgrade(&inner), cached));
            let _ = inner.flusher.set(AbortOnDrop(task));
        }
        Ok(Breaker { inner })
    }
}

/// Where other replicas' transitions go: the events stream, the metrics and the cached view.
/// This breaker's own transitions (reported when made) are told apart by the instance id,
/// which, unlike the configured replica id, no other process shares.
fn sink(
    instance: &str,
    events: &broadcast::Sender<StateChange>,
    cached: Option<Arc<Cached>>,
    own_reports: Arc<OwnReports>,
    shown: Arc<metrics::ShownState>,
) -> crate::store::EventSink {
    let (own, events) = (instance.to_owned(), events.clone());
    Arc::new(move |mut event: StateChange| {
        if event.instance == own {
            // Normally already reported from the script's reply; this copy matters when that
            // reply was lost (a timeout after Redis had made the transition).
            if !own_reports.first(event.generation) {
                return;
            }
            event.scope = Scope::Shared;
        }
        if let Some(cached) = &cached {
            cached.learn_transition(event.to, event.forced, event.generation);
        }
        metrics::transition(&event, &shown);
        let _ = events.send(event);
    })
}

fn random_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    let n = RandomState::new().hash_one((std::process::id(), std::time::SystemTime::now()));
    format!("{n:016x}")
}
