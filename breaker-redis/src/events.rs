//! State-change events: the transitions this replica made, and (through Redis pub/sub) those
//! every other replica made.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use crate::protocol::{Forced, Reply, State};
use crate::store::{EventSink, Spec};

/// Who made a transition, seen from the replica that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// This replica made it in the shared state.
    #[default]
    Shared,
    /// Another replica made it in the shared state (learnt through pub/sub).
    Remote,
    /// This replica's local breaker made it while Redis was unreachable.
    Local,
}

/// One transition of a breaker. Each transition in the shared state is reported exactly once
/// on every replica's [`Breaker::events`](crate::Breaker::events) stream: by the replica that
/// made it as [`Scope::Shared`], by every other one as [`Scope::Remote`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// The breaker's name.
    pub breaker: String,
    /// The state left.
    pub from: State,
    /// The state entered.
    pub to: State,
    /// The override in force after the transition.
    pub forced: Forced,
    /// The generation the transition started.
    pub generation: u64,
    /// Id of the replica that made it.
    pub origin: String,
    /// Where it happened, seen from the reporting replica.
    #[serde(skip)]
    pub scope: Scope,
}

impl StateChange {
    /// The event of a reply that made a transition, as replica `spec` reports it.
    pub(crate) fn from_reply(spec: &Spec, reply: &Reply, scope: Scope) -> Option<StateChange> {
        let t = reply.transition?;
        Some(StateChange {
            breaker: spec.name().to_owned(),
            from: t.from,
            to: t.to,
            forced: reply.forced,
            generation: reply.generation,
            origin: spec.origin().to_owned(),
            scope,
        })
    }
}

/// Subscribes to `spec`'s channel and delivers other replicas' transitions to `sink`, for as
/// long as the task lives, reconnecting after failures.
pub(crate) async fn listen(
    client: redis::Client,
    spec: Spec,
    sink: EventSink,
    active: tokio::sync::watch::Sender<bool>,
) {
    let mut delay = Duration::from_millis(50);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(spec.channel()).await {
                Ok(()) => {
                    debug!(breaker = spec.name(), "subscribed to transitions");
                    delay = Duration::from_millis(50);
                    active.send_replace(true);
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        deliver(&spec, &sink, msg.get_payload_bytes());
                    }
                    info!(
                        breaker = spec.name(),
                        "transition subscription lost; reconnecting"
                    );
                }
                Err(e) => {
                    warn!(breaker = spec.name(), error = %e, "could not subscribe to transitions")
                }
            },
            Err(e) => debug!(breaker = spec.name(), error = %e, "pub/sub connection failed"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn deliver(spec: &Spec, sink: &EventSink, payload: &[u8]) {
    match serde_json::from_slice::<StateChange>(payload) {
        Ok(mut event) if event.breaker == spec.name() => {
            event.scope = Scope::Remote;
            sink(event);
        }
        Ok(event) => {
            warn!(breaker = spec.name(), other = %event.breaker, "transition of another breaker on this channel")
        }
        Err(e) => warn!(breaker = spec.name(), error = %e, "unreadable transition message"),
    }
}
