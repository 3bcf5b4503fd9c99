//! [`Admin::history`], [`Admin::history_after`] and [`Admin::watch`]: transitions from each
//! breaker's capped history stream, and live from pub/sub.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};

use super::{Admin, AdminError, TransitionRecord, glob_escape};
use crate::protocol::{Forced, State};
use crate::validate;

/// The most entries one call returns (the stream itself keeps about 1000).
pub const MAX_HISTORY: usize = 1000;

impl Admin {
    /// The last `limit` (at most [`MAX_HISTORY`]) transitions of `name`, newest first. Empty
    /// for a breaker without history (unknown, or its keys expired).
    pub async fn history(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Vec<TransitionRecord>, AdminError> {
        validate::name(name)?;
        let mut cmd = redis::cmd("XREVRANGE");
        cmd.arg(self.history_key(name))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(limit.min(MAX_HISTORY));
        let reply: Vec<Entry> = self.query(&cmd).await?;
        Ok(records(reply))
    }

    /// The transitions of `name` recorded after the stream id `after` (as a
    /// [`TransitionRecord::id`] gives it), oldest first, at most [`MAX_HISTORY`]: what a
    /// client resuming a live feed missed.
    pub async fn history_after(
        &self,
        name: &str,
        after: &str,
    ) -> Result<Vec<TransitionRecord>, AdminError> {
        validate::name(name)?;
        let mut cmd = redis::cmd("XRANGE");
        cmd.arg(self.history_key(name))
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(MAX_HISTORY);
        let reply: Vec<Entry> = self.query(&cmd).await?;
        Ok(records(reply))
    }

    /// Live transitions of breaker `name`, or of every breaker under this prefix, from the
    /// moment this returns (subscribed): made by any replica or by an override. On a pub/sub
    /// connection of its own; the stream ends when that connection is lost (resume with
    /// [`history_after`](Self::history_after) from the last id seen).
    pub async fn watch(&self, name: Option<&str>) -> Result<Watch, AdminError> {
        let client = self.store.client().clone();
        let mut pubsub = self
            .run(async move { Ok(client.get_async_pubsub().await?) })
            .await?;
        match name {
            Some(name) => {
                validate::name(name)?;
                let channel = format!("{}:events", self.base(name));
                self.run(async { Ok(pubsub.subscribe(&channel).await?) })
                    .await?;
            }
            None => {
                let pattern = format!("{}:{{*}}:events", glob_escape(&self.prefix));
                self.run(async { Ok(pubsub.psubscribe(&pattern).await?) })
                    .await?;
            }
        }
        let stream = pubsub.into_on_message().filter_map(|msg| {
            let record = serde_json::from_slice::<TransitionRecord>(msg.get_payload_bytes());
            std::future::ready(record.ok())
        });
        Ok(Watch {
            inner: Box::pin(stream),
        })
    }

    fn history_key(&self, name: &str) -> String {
        format!("{}:history", self.base(name))
    }
}

/// Live transitions, as [`Admin::watch`] delivers them: a `Stream` of [`TransitionRecord`]
/// that ends when its connection is lost. Dropping it unsubscribes.
pub struct Watch {
    inner: Pin<Box<dyn Stream<Item = TransitionRecord> + Send>>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

impl Stream for Watch {
    type Item = TransitionRecord;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A stream entry as `XRANGE` returns it: its id, then field, value, field, value...
type Entry = (String, Vec<String>);

/// The entries that read as transitions (others, written by hand, are skipped).
fn records(reply: Vec<Entry>) -> Vec<TransitionRecord> {
    reply.into_iter().filter_map(record).collect()
}

fn record((id, fields): Entry) -> Option<TransitionRecord> {
    let field = |name: &str| {
        fields
            .chunks_exact(2)
            .find(|kv| kv[0] == name)
            .map(|kv| kv[1].as_str())
    };
    Some(TransitionRecord {
        breaker: field("breaker")?.to_owned(),
        from: State::parse(field("from")?)?,
        to: State::parse(field("to")?)?,
        forced: Forced::parse(field("forced")?)?,
        generation: field("generation")?.parse().ok()?,
        reason: field("reason").unwrap_or_default().to_owned(),
        origin: field("origin").unwrap_or_default().to_owned(),
        instance: field("instance").unwrap_or_default().to_owned(),
        at_ms: field("at_ms")?.parse().ok()?,
        id,
    })
}
