//! The subscriber's connection: subscribe, catch up from the history streams, dispatch, and
//! watch the connection with a keepalive; on any loss, stop trusting it at once, then reconnect.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

use super::{EntryId, Shared};
use crate::events;
use crate::store::health::NAG_MAX;
use crate::store::refusal::{Nag, Refusal};

/// How often the connection is checked with a PING, and how long the PING may take: a
/// connection that stalls without closing is given up within their sum. The deadline leaves
/// room for a loaded host, since a false alarm costs a reconnect and a catch-up.
const KEEPALIVE_EVERY: Duration = Duration::from_secs(1);
const KEEPALIVE_DEADLINE: Duration = Duration::from_secs(2);

/// First and longest pause between two connection attempts.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// History entries read per round trip when catching up.
const PAGE: usize = 256;

/// Why a session ended; logged, then the task reconnects.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error("the connection closed")]
    Closed,
    #[error("no answer to the keepalive within {0:?}")]
    Silent(Duration),
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
}

/// The longest pause between two attempts while Redis refuses the login or the SUBSCRIBE: it
/// will not change by itself, so retrying every `RETRY_MAX` would only fill the logs.
const REFUSED_MAX: Duration = Duration::from_secs(60);

/// Runs the store's subscription for as long as the store lives.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut delay = RETRY_FIRST;
    let nag = Nag::new(RETRY_MAX, NAG_MAX);
    loop {
        let connect =
            tokio::time::timeout(shared.connect_timeout, shared.client.get_async_pubsub());
        let refused = match connect.await {
            Ok(Ok(pubsub)) => {
                let (sink, stream) = pubsub.split();
                let lost = session(&shared, sink, stream, &mut delay).await;
                shared.deactivate();
                let refused = lost.refusal();
                if refused.is_none() {
                    info!(reason = %lost, "transition subscription lost; reconnecting");
                }
                refused.map(|r| (r, lost.to_string()))
            }
            Ok(Err(e)) => {
                debug!(error = %e, "pub/sub connection failed");
                Refusal::of_redis(&e).map(|r| (r, e.to_string()))
            }
            Err(_) => {
                debug!(timeout = ?shared.connect_timeout, "pub/sub connection timed out");
                None
            }
        };
        let longest = match refused {
            Some((refusal, error)) => {
                if nag.due() {
                    warn!(%error, fix = %refusal,
                        "redis refused the transition subscription: other replicas' transitions arrive only from the history stream, after a reconnect");
                }
                REFUSED_MAX
            }
            None => {
                nag.reset();
                RETRY_MAX
            }
        };
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(longest);
    }
}

impl Lost {
    fn refusal(&self) -> Option<Refusal> {
        match self {
            Lost::Redis(e) => Refusal::of_redis(e),
            _ => None,
        }
    }
}

/// One connection's life: keeps its subscriptions in step with the registrations and hands
/// messages out until the connection fails. Resets `delay` once subscribed.
async fn session(
    shared: &Shared,
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    delay: &mut Duration,
) -> Lost {
    let mut keepalive = tokio::time::interval_at(Instant::now() + KEEPALIVE_EVERY, KEEPALIVE_EVERY);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // A new connection has no subscriptions; every registration is waiting for this one.
    shared.deactivate();
    shared.changed.notify_one();
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => deliver(shared, &msg),
                None => return Lost::Closed,
            },
            () = shared.changed.notified() => {
                if let Err(e) = sync(shared, &mut sink).await {
                    return e;
                }
                *delay = RETRY_FIRST;
            }
            _ = keepalive.tick() => {
                match tokio::time::timeout(KEEPALIVE_DEADLINE, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return e.into(),
                    Err(_) => return Lost::Silent(KEEPALIVE_DEADLINE),
                }
            }
        }
    }
}

/// Subscribes to what the registrations want (and no more), gives new sinks their starting
/// point, catches up from the history, and only then marks the sinks as listening.
async fn sync(shared: &Shared, sink: &mut PubSubSink) -> Result<(), Lost> {
    let plan = shared.plan();
    if !plan.unsubscribe.is_empty() {
        sink.unsubscribe(&plan.unsubscribe).await?;
    }
    // A sink's starting point is read before subscribing, so nothing published in between
    // is missed: the catch-up below reads it.
    for (channel, history) in &plan.baseline {
        let start = last_entry(shared, history).await?;
        shared.set_baseline(channel, start);
    }
    if !plan.subscribe.is_empty() {
        sink.subscribe(&plan.subscribe).await?;
        shared.mark_subscribed(&plan.subscribe);
    }
    let mut caught_up: Vec<&String> = plan.subscribe.iter().collect();
    caught_up.extend(plan.baseline.iter().map(|(c, _)| c));
    caught_up.sort();
    caught_up.dedup();
    for channel in caught_up {
        catch_up(shared, channel).await?;
    }
    shared.activate();
    Ok(())
}

/// Hands out one pub/sub message.
fn deliver(shared: &Shared, msg: &redis::Msg) {
    let channel = msg.get_channel_name();
    match events::from_message(msg.get_payload_bytes()) {
        Ok((event, id)) => {
            let id = id.as_deref().and_then(EntryId::parse);
            shared.dispatch(channel, id, event);
        }
        Err(e) => warn!(channel, error = %e, "unreadable transition message"),
    }
}

/// The id of the last entry of `history`, or [`EntryId::ZERO`] when it has none.
async fn last_entry(shared: &Shared, history: &str) -> Result<EntryId, Lost> {
    let mut conn = shared.conn.clone();
    let last: Vec<(String, redis::Value)> = redis::cmd("XREVRANGE")
        .arg(history)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut conn)
        .await?;
    Ok(last
        .first()
        .and_then(|(id, _)| EntryId::parse(id))
        .unwrap_or(EntryId::ZERO))
}

/// Delivers the entries of `channel`'s history that some of its sinks have not had, in order.
async fn catch_up(shared: &Shared, channel: &str) -> Result<(), Lost> {
    let Some((history, mut from)) = shared.catch_up_from(channel) else {
        return Ok(());
    };
    let mut conn = shared.conn.clone();
    loop {
        let page: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
            .arg(&history)
            .arg(format!("({from}"))
            .arg("+")
            .arg("COUNT")
            .arg(PAGE)
            .query_async(&mut conn)
            .await?;
        let start = from;
        for (raw, fields) in &page {
            let Some(id) = EntryId::parse(raw) else {
                warn!(channel, entry = %raw, "history entry with an unreadable id");
                continue;
            };
            from = id;
            match events::from_entry(fields) {
                Some(event) => shared.dispatch(channel, Some(id), event),
                None => warn!(channel, entry = %raw, "unreadable history entry"),
            }
        }
        if page.len() < PAGE || from == start {
            return Ok(());
        }
    }
}
