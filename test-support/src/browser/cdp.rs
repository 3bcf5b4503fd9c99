//! A minimal Chrome DevTools Protocol client: one WebSocket to one target, commands matched to
//! their replies by id, events fanned out on a broadcast channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// How long one command may wait for its reply; a page that hangs must not hang the test.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A protocol event: its method (e.g. `Runtime.exceptionThrown`) and its params.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) method: String,
    pub(crate) params: Value,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// One DevTools connection. Dropping it stops its reader and writer tasks.
#[derive(Debug)]
pub(crate) struct Connection {
    next_id: AtomicU64,
    outgoing: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: broadcast::Sender<Event>,
    tasks: Vec<JoinHandle<()>>,
}

impl Connection {
    /// Connects to a DevTools WebSocket URL (`ws://127.0.0.1:<port>/devtools/...`).
    pub(crate) async fn connect(url: &str) -> anyhow::Result<Self> {
        let (socket, _) =
            tokio::time::timeout(COMMAND_TIMEOUT, tokio_tungstenite::connect_async(url))
                .await
                .with_context(|| format!("connecting to {url} timed out"))?
                .with_context(|| format!("connecting to {url}"))?;
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Message>();
        let pending: Pending = Arc::default();
        // Events nobody reads are dropped once the channel is full; readers only care about
        // events after they subscribed.
        let (events, _) = broadcast::channel(1024);

        let writer = tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
        });
        let (replies, published) = (Arc::clone(&pending), events.clone());
        let reader = tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Text(text) = message {
                    dispatch(&text, &replies, &published);
                }
            }
            // The browser went away: every waiting command fails now rather than at its timeout.
            lock(&replies).clear();
        });
        Ok(Self {
            next_id: AtomicU64::new(1),
            outgoing,
            pending,
            events,
            tasks: vec![writer, reader],
        })
    }

    /// Sends a command and waits for its result; a protocol error becomes an `Err`.
    pub(crate) async fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        if self.outgoing.send(Message::text(message)).is_err() {
            lock(&self.pending).remove(&id);
            bail!("{method}: the DevTools connection is closed");
        }
        let reply = tokio::time::timeout(COMMAND_TIMEOUT, rx).await;
        lock(&self.pending).remove(&id);
        match reply {
            Err(_) => bail!("{method}: no reply within {COMMAND_TIMEOUT:?}"),
            Ok(Err(_)) => bail!("{method}: the DevTools connection closed"),
            Ok(Ok(result)) => result.map_err(|e| anyhow!("{method}: {e}")),
        }
    }

    /// Events from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Routes one incoming message: a reply to its waiting command, an event to the subscribers.
fn dispatch(text: &str, pending: &Pending, events: &broadcast::Sender<Event>) {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Some(id) = message.get("id").and_then(Value::as_u64) {
        let result = match message.get("error") {
            Some(error) => Err(error.to_string()),
            None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
        };
        if let Some(waiter) = lock(pending).remove(&id) {
            let _ = waiter.send(result);
        }
    } else if let Some(method) = message.get("method").and_then(Value::as_str) {
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let _ = events.send(Event {
            method: method.to_owned(),
            params,
        });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
