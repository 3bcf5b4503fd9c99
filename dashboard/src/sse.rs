//! `GET /api/events`: the live transitions as Server-Sent Events, resumable without gaps or
//! duplicates.
//!
//! Each `transition` event's `id` is its history stream id. A client that reconnects sends the
//! last one as `Last-Event-ID`; the feed then first sends what the history streams hold after
//! it, then the live transitions. The client's receiver is subscribed to the shared feed
//! *before* the streams are read, so nothing published in between is lost, and a transition
//! both read and heard is sent once: per breaker the feed remembers the last id sent and drops
//! anything not after it (ids of one stream only grow).
//!
//! A client without `Last-Event-ID` starts from Redis's clock at connection time: its first
//! event carries only that position as its `id` (browsers keep it without dispatching an
//! event), so a reconnect resumes from there even before any transition was sent. Whenever the
//! shared subscription is made again, or the client falls behind the broadcast, the feed
//! catches up from the streams the same way. While Redis cannot be read, a `status` event
//! says `{"redis":"down"}`, and `{"redis":"up"}` once it can again.
//!
//! One limit: ids of *different* breakers' streams are ordered only by Redis's clock. A feed
//! of every breaker that resumes after breaker A's `<ms>-0` counts breaker B's entries up to
//! that id as seen, so a B transition made in the very same millisecond as A's, and not sent
//! before the connection dropped, is not sent again. A feed of one breaker has no such limit.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use serde::Deserialize;
use service_kit::AppError;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::app::{AppState, check_name};
use crate::feed::FeedItem;
use crate::fleet::{StreamId, Transition};

/// How long a browser waits before reconnecting a feed that ended.
const RETRY: Duration = Duration::from_secs(1);

/// Events queued for one client before the feed waits for it.
const QUEUE: usize = 64;

/// `?breaker=NAME`: one breaker's transitions only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    breaker: Option<String>,
}

type EventStream = ReceiverStream<Result<Event, Infallible>>;

/// `GET /api/events[?breaker=NAME]`.
pub(crate) async fn events(
    State(app): State<Arc<AppState>>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<KeepAliveStream<EventStream>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::bad_request(e.body_text()))?;
    if let Some(name) = &query.breaker {
        check_name(name)?;
    }
    let last = last_event_id(&headers)?;
    let permit = Arc::clone(&app.clients).try_acquire_owned().map_err(|_| {
        AppError::unavailable("too many live feeds")
            .with_field("max_clients", app.limits.sse_max_clients)
    })?;
    // The starting point is read before subscribing, so that whatever is published after it
    // is either heard or found in the streams.
    let start = match last {
        Some(id) => Some(id),
        None => app.fleet.time_ms().await.ok().map(StreamId::before_ms),
    };
    let feed = app.feed.subscribe();
    let (tx, rx) = mpsc::channel(QUEUE);
    let client = Client {
        app: Arc::clone(&app),
        only: query.breaker,
        start,
        sent: HashMap::new(),
        tx,
        redis_up: None,
    };
    tokio::spawn(client.run(feed, last.is_none(), permit));
    let keep_alive = KeepAlive::new()
        .interval(app.limits.sse_keep_alive)
        .text("keep-alive");
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(keep_alive))
}

#[allow(
    clippy::result_large_err,
    reason = "AppError is what every handler answers with; these helpers hand it on"
)]
fn last_event_id(headers: &HeaderMap) -> Result<Option<StreamId>, AppError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| AppError::bad_request("Last-Event-ID is not text"))?;
    text.parse::<StreamId>()
        .map(Some)
        .map_err(|e| AppError::bad_request("bad Last-Event-ID").with_field("detail", e.to_string()))
}

/// The client went away.
struct Gone;

/// One connected client's feed.
struct Client {
    app: Arc<AppState>,
    only: Option<String>,
    /// Everything up to here counts as sent, for every breaker.
    start: Option<StreamId>,
    /// The last id sent per breaker.
    sent: HashMap<String, StreamId>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    redis_up: Option<bool>,
}

impl Client {
    async fn run(
        mut self,
        mut feed: broadcast::Receiver<FeedItem>,
        send_start: bool,
        _permit: OwnedSemaphorePermit,
    ) {
        let mut first = Event::default().retry(RETRY);
        if send_start && let Some(start) = self.start {
            first = first.id(start.to_string());
        }
        if self.send(first).await.is_err() || self.catch_up().await.is_err() {
            return;
        }
        let mut stopping = self.app.stopping.subscribe();
        loop {
            let item = tokio::select! {
                () = self.tx.closed() => return,
                _ = stopping.wait_for(|stop| *stop) => return,
                item = feed.recv() => item,
            };
            let delivered = match item {
                Ok(FeedItem::Transition(t)) => self.deliver(&t).await,
                Ok(FeedItem::Resubscribed) | Err(RecvError::Lagged(_)) => self.catch_up().await,
                Ok(FeedItem::Lost) => self.status(false).await,
                Err(RecvError::Closed) => return,
            };
            if delivered.is_err() {
                return;
            }
        }
    }

    /// Sends what the history streams hold after what was sent; says whether Redis answered.
    async fn catch_up(&mut self) -> Result<(), Gone> {
        match self.backlog().await {
            Ok(backlog) => {
                self.status(true).await?;
                for t in &backlog {
                    self.deliver(t).await?;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "live feed cannot catch up");
                self.status(false).await?;
            }
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<Vec<Transition>, crate::fleet::FleetError> {
        let fleet = &self.app.fleet;
        let names = match &self.only {
            Some(name) => vec![name.clone()],
            None => fleet.history_names(self.app.limits.max_breakers).await?,
        };
        let since: Vec<(String, StreamId)> = names
            .into_iter()
            .filter_map(|name| self.last_sent(&name).map(|id| (name, id)))
            .collect();
        fleet.after(&since).await
    }

    fn last_sent(&self, breaker: &str) -> Option<StreamId> {
        self.sent.get(breaker).copied().or(self.start)
    }

    /// Sends `t` unless it is another breaker's or was sent already.
    async fn deliver(&mut self, t: &Transition) -> Result<(), Gone> {
        if self.only.as_deref().is_some_and(|name| name != t.breaker) {
            return Ok(());
        }
        let Some(id) = t.stream_id() else {
            return Ok(());
        };
        if self.last_sent(&t.breaker).is_some_and(|last| id <= last) {
            return Ok(());
        }
        // Bounded by the breakers Redis holds; a name is kept once however often it moves.
        self.sent.insert(t.breaker.clone(), id);
        let data = serde_json::to_string(t).unwrap_or_default();
        self.send(Event::default().event("transition").id(&t.id).data(data))
            .await
    }

    /// A `status` event when Redis's reachability changed since the last one.
    async fn status(&mut self, up: bool) -> Result<(), Gone> {
        if self.redis_up == Some(up) {
            return Ok(());
        }
        self.redis_up = Some(up);
        let data = if up {
            r#"{"redis":"up"}"#
        } else {
            r#"{"redis":"down"}"#
        };
        self.send(Event::default().event("status").data(data)).await
    }

    async fn send(&self, event: Event) -> Result<(), Gone> {
        self.tx.send(Ok(event)).await.map_err(|_| Gone)
    }
}
