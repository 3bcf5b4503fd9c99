//! [`Feed`]: one pub/sub subscription to every breaker's transition channel, fanned out to
//! every live client through a `tokio::sync::broadcast`.
//!
//! However many browsers watch, Redis sees one subscribed connection (`PSUBSCRIBE
//! <prefix>:{*}:events`). Pub/sub keeps nothing for a subscriber that is away, so each time
//! the subscription is (re)made the feed says so ([`FeedItem::Resubscribed`]): a client then
//! reads what it may have missed from the history streams, which do keep it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, info, warn};

use crate::fleet::Transition;

/// What the feed hands every client.
#[derive(Debug, Clone)]
pub enum FeedItem {
    /// A transition heard on a breaker's channel.
    Transition(Arc<Transition>),
    /// The subscription was lost: nothing is heard until [`FeedItem::Resubscribed`].
    Lost,
    /// The subscription was made again: what was published meanwhile was not heard.
    Resubscribed,
}

/// Transitions buffered per client before a slow one is told it lagged (it then catches up
/// from the history streams).
const CAPACITY: usize = 1024;

/// How often the subscribed connection is checked with a PING: a connection that stalls
/// without closing is given up within this plus `REDIS_TIMEOUT`.
const KEEPALIVE_EVERY: Duration = Duration::from_secs(1);

/// First and longest pause between two connection attempts.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// The shared subscription; its task ends when the feed is dropped.
#[derive(Debug)]
pub struct Feed {
    tx: broadcast::Sender<FeedItem>,
    up: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl Feed {
    /// Subscribes to `pattern` through `client` in the background, reconnecting with a
    /// back-off whenever the connection is lost; `timeout` bounds connecting and each PING.
    pub fn start(client: redis::Client, pattern: String, timeout: Duration) -> Self {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (up_tx, up) = watch::channel(false);
        let task = tokio::spawn(run(client, pattern, timeout, tx.clone(), up_tx));
        Self { tx, up, task }
    }

    /// A receiver of every item from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedItem> {
        self.tx.subscribe()
    }

    /// Whether the subscription is in place now.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    client: redis::Client,
    pattern: String,
    timeout: Duration,
    tx: broadcast::Sender<FeedItem>,
    up: watch::Sender<bool>,
) {
    let mut delay = RETRY_FIRST;
    loop {
        match subscribe(&client, &pattern, timeout).await {
            Ok((sink, stream)) => {
                up.send_replace(true);
                delay = RETRY_FIRST;
                info!(pattern, "subscribed to the breakers' transitions");
                // No receiver is not an error: no browser is watching.
                let _ = tx.send(FeedItem::Resubscribed);
                let lost = session(sink, stream, timeout, &tx).await;
                up.send_replace(false);
                let _ = tx.send(FeedItem::Lost);
                warn!(reason = lost, "transition subscription lost; reconnecting");
            }
            Err(e) => debug!(error = %e, "cannot subscribe to the breakers' transitions"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
}

async fn subscribe(
    client: &redis::Client,
    pattern: &str,
    timeout: Duration,
) -> Result<(PubSubSink, PubSubStream), String> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.psubscribe(pattern).await?;
        Ok::<_, redis::RedisError>(pubsub.split())
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(halves)) => Ok(halves),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {timeout:?}")),
    }
}

/// Hands out messages until the connection closes or stops answering; returns why.
async fn session(
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    timeout: Duration,
    tx: &broadcast::Sender<FeedItem>,
) -> &'static str {
    let mut keepalive = tokio::time::interval_at(Instant::now() + KEEPALIVE_EVERY, KEEPALIVE_EVERY);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(msg) => match serde_json::from_slice::<Transition>(msg.get_payload_bytes()) {
                    Ok(t) => {
                        let _ = tx.send(FeedItem::Transition(Arc::new(t)));
                    }
                    Err(e) => debug!(channel = msg.get_channel_name(), error = %e, "unreadable transition message"),
                },
                None => return "the connection closed",
            },
            _ = keepalive.tick() => {
                match tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => return "the keepalive PING failed",
                    Err(_) => return "no answer to the keepalive PING",
                }
            }
        }
    }
}
