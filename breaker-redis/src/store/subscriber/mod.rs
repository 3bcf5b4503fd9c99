//! One pub/sub subscriber per [`RedisStore`](super::RedisStore) and its clones, shared by every
//! breaker built on them: one connection and one task, whatever the number of breakers.
//!
//! Each breaker registers a sink for its channel; the subscriber subscribes to the channels
//! that have sinks, unsubscribes from those that lost their last one, and hands each message
//! to the sinks of its channel. Pub/sub alone loses what is published while the connection is
//! down, so after every (re)subscribe the subscriber reads the breaker's history stream from
//! the last entry each sink was given, and a sink is given an entry only if it comes after that
//! one: every transition reaches every sink once, in order, whichever path brought it first.
//!
//! Layout: this file holds the registry (who listens to what, and how far each has got);
//! `session` runs the connection (subscribe, catch up, keepalive, reconnect).

mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use super::redis::Conn;
use super::{EventSink, Spec, Subscription};
use crate::events::StateChange;

/// A history stream entry id, `ms-seq`: ids only grow within one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EntryId(u64, u64);

impl EntryId {
    /// Before every entry (an empty or missing stream).
    pub(crate) const ZERO: EntryId = EntryId(0, 0);

    pub(crate) fn parse(s: &str) -> Option<EntryId> {
        let (ms, seq) = s.split_once('-')?;
        Some(EntryId(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// The store's subscriber. Dropping it (with the last clone of the store) ends its task.
pub(crate) struct Subscriber {
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What the subscriber's task and the registrations share.
pub(crate) struct Shared {
    client: redis::Client,
    /// The store's connection, for reading history streams (in a Cluster, from their node).
    conn: Conn,
    connect_timeout: Duration,
    registry: Mutex<Registry>,
    /// Registrations changed: the task subscribes or unsubscribes.
    changed: Notify,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    channels: HashMap<String, Channel>,
}

struct Channel {
    breaker: String,
    history: String,
    /// Subscribed on the current connection.
    subscribed: bool,
    members: Vec<Member>,
}

struct Member {
    id: u64,
    sink: EventSink,
    /// The last history entry this sink was given (or its starting point); `None` until the
    /// task has read where the stream ends.
    cursor: Option<EntryId>,
    active: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Subscriber {
    pub(crate) fn new(client: redis::Client, conn: Conn, connect_timeout: Duration) -> Self {
        let shared = Shared {
            client,
            conn,
            connect_timeout,
            registry: Mutex::new(Registry::default()),
            changed: Notify::new(),
        };
        Subscriber {
            shared: Arc::new(shared),
            task: Mutex::new(None),
        }
    }

    /// Delivers `spec`'s transitions to `sink` until the subscription is dropped. Starts the
    /// store's task on first use; `None` outside a tokio runtime.
    pub(crate) fn register(&self, spec: &Spec, sink: EventSink) -> Option<Subscription> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            warn!(
                breaker = spec.name(),
                "no tokio runtime: transitions made by other replicas will not be reported"
            );
            return None;
        };
        let (active_tx, active) = watch::channel(false);
        let id = {
            let mut registry = lock(&self.shared.registry);
            registry.next_id += 1;
            let id = registry.next_id;
            let channel = registry
                .channels
                .entry(spec.channel().to_owned())
                .or_insert_with(|| Channel {
                    breaker: spec.name().to_owned(),
                    history: spec.history().to_owned(),
                    subscribed: false,
                    members: Vec::new(),
                });
            channel.members.push(Member {
                id,
                sink,
                cursor: None,
                active: active_tx,
            });
            id
        };
        let mut task = lock(&self.task);
        // A task ends only with the runtime that ran it; a store outliving it starts anew.
        if task.as_ref().is_none_or(|t| t.is_finished()) {
            *task = Some(runtime.spawn(session::run(self.shared.clone())));
        }
        self.shared.changed.notify_one();
        debug!(
            breaker = spec.name(),
            channel = spec.channel(),
            "listening for transitions"
        );
        let guard = Unregister {
            shared: Arc::downgrade(&self.shared),
            channel: spec.channel().to_owned(),
            id,
        };
        Some(Subscription::new(guard, active))
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}

/// A registration's guard: dropping it removes the sink (the task then unsubscribes from a
/// channel left without sinks).
struct Unregister {
    shared: Weak<Shared>,
    channel: String,
    id: u64,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        if let Some(channel) = lock(&shared.registry).channels.get_mut(&self.channel) {
            channel.members.retain(|m| m.id != self.id);
        }
        shared.changed.notify_one();
    }
}

/// What the task must do to match the registrations.
#[derive(Default)]
struct Plan {
    /// Channels no sink wants any more.
    unsubscribe: Vec<String>,
    /// Channels to subscribe to.
    subscribe: Vec<String>,
    /// Channels with a sink that has no starting point yet, with their history stream.
    baseline: Vec<(String, String)>,
}

impl Shared {
    fn plan(&self) -> Plan {
        let mut plan = Plan::default();
        let mut registry = lock(&self.registry);
        registry.channels.retain(|name, channel| {
            if channel.members.is_empty() {
                if channel.subscribed {
                    plan.unsubscribe.push(name.clone());
                }
                return false;
            }
            if !channel.subscribed {
                plan.subscribe.push(name.clone());
            }
            if channel.members.iter().any(|m| m.cursor.is_none()) {
                plan.baseline.push((name.clone(), channel.history.clone()));
            }
            true
        });
        plan
    }

    /// Gives the sinks without a starting point `start`: they hear of what comes after it.
    fn set_baseline(&self, channel: &str, start: EntryId) {
        if let Some(channel) = lock(&self.registry).channels.get_mut(channel) {
            for m in channel.members.iter_mut().filter(|m| m.cursor.is_none()) {
                m.cursor = Some(start);
            }
        }
    }

    fn mark_subscribed(&self, channels: &[String]) {
        let mut registry = lock(&self.registry);
        for name in channels {
            if let Some(channel) = registry.channels.get_mut(name) {
                channel.subscribed = true;
            }
        }
    }

    /// The history stream of `channel` and the earliest point one of its sinks needs.
    fn catch_up_from(&self, channel: &str) -> Option<(String, EntryId)> {
        let registry = lock(&self.registry);
        let channel = registry.channels.get(channel)?;
        let from = channel.members.iter().filter_map(|m| m.cursor).min()?;
        Some((channel.history.clone(), from))
    }

    /// Marks every caught-up sink of a subscribed channel as listening.
    fn activate(&self) {
        let registry = lock(&self.registry);
        for channel in registry.channels.values().filter(|c| c.subscribed) {
            for m in channel.members.iter().filter(|m| m.cursor.is_some()) {
                m.active.send_if_modified(|on| !std::mem::replace(on, true));
            }
        }
    }

    /// The connection is lost: nothing is subscribed, and no sink may trust it any more.
    fn deactivate(&self) {
        let mut registry = lock(&self.registry);
        for channel in registry.channels.values_mut() {
            channel.subscribed = false;
            for m in &channel.members {
                m.active.send_if_modified(|on| std::mem::replace(on, false));
            }
        }
    }

    /// Hands `event` to every sink of `channel` that has not had it yet. `id` is its history
    /// entry (`None` from a publisher that sent none: delivered as heard).
    fn dispatch(&self, channel: &str, id: Option<EntryId>, event: StateChange) {
        let sinks: Vec<EventSink> = {
            let mut registry = lock(&self.registry);
            let Some(channel) = registry.channels.get_mut(channel) else {
                return;
            };
            if event.breaker != channel.breaker {
                warn!(breaker = %channel.breaker, other = %event.breaker, "transition of another breaker on this channel");
                return;
            }
            let mut sinks = Vec::new();
            for m in &mut channel.members {
                match (m.cursor, id) {
                    (Some(seen), Some(id)) if id > seen => m.cursor = Some(id),
                    (Some(_), None) => {}
                    _ => continue,
                }
                sinks.push(m.sink.clone());
            }
            sinks
        };
        // Called outside the lock; one task dispatches, so each sink still sees the order.
        for sink in sinks {
            sink(event.clone());
        }
    }
}
