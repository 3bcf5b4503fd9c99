//! [`Idempotency`]: an order's answer kept under its `Idempotency-Key`, so that a repeated
//! request answers the first result and applies nothing again.
//!
//! A record is claimed (`lua/claim.lua`, a `SET NX`) before the order runs (`pending`, with the order id and a
//! lease), and replaced by the answer when it ends: `done` for an answer that stands (201, or a
//! 400 about the order itself), `retry` for one worth trying again (a service unavailable):
//! the next request with the key then runs again *under the same order id*, so that the
//! payment and the stock update, keyed by it, are not applied twice. A pending record whose
//! lease ran out (its replica died mid-order) is taken over the same way. Records live in
//! Redis with a TTL, shared by every replica; while Redis is down, in a bounded local map of
//! each replica's own (a repeat that reaches another replica then is not recognised, and one
//! that reaches the same replica after Redis is back is looked up in Redis only).

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use service_kit::time::now_ms;

use super::shared::Shared;
use super::upstream::Answer;

static CLAIM: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("lua/claim.lua")));
static REPLACE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("lua/replace.lua")));

/// Longer than the slowest order (four calls of 3 s, two of them retried once).
const LEASE: Duration = Duration::from_secs(30);
/// Records kept locally while Redis is down, at most; the oldest go first.
const LOCAL_CAPACITY: usize = 10_000;

/// The header naming a request's key.
pub(crate) const HEADER: &str = "idempotency-key";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RecordState {
    Pending,
    Retry,
    Done,
}

/// One key's record. `fingerprint` tells a repeated request from a different one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    state: RecordState,
    fingerprint: String,
    order_id: String,
    /// Pending: when its lease ends (ms since the epoch).
    until_ms: u64,
    status: u16,
    body: Value,
}

impl Record {
    fn pending(fingerprint: &str, order_id: &str) -> Self {
        Self {
            state: RecordState::Pending,
            fingerprint: fingerprint.to_owned(),
            order_id: order_id.to_owned(),
            until_ms: now_ms() + millis(LEASE),
            status: 0,
            body: Value::Null,
        }
    }
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Begin {
    /// Run the order under this id.
    Run(String),
    /// Answer the first result again.
    Replay(Answer),
    /// The first request is still running: 409.
    InProgress,
    /// The key was used with a different request: 422.
    Mismatch,
}

/// What an existing record means for a request; `TakeOver` runs it again under its order id.
#[derive(Debug, PartialEq)]
enum Decision {
    Answer(Begin),
    TakeOver(String),
}

fn decide(record: &Record, fingerprint: &str, now_ms: u64) -> Decision {
    if record.fingerprint != fingerprint {
        return Decision::Answer(Begin::Mismatch);
    }
    match record.state {
        RecordState::Done => {
            let status = StatusCode::from_u16(record.status).unwrap_or(StatusCode::OK);
            Decision::Answer(Begin::Replay(Answer::new(status, record.body.clone())))
        }
        RecordState::Pending if record.until_ms > now_ms => Decision::Answer(Begin::InProgress),
        RecordState::Pending | RecordState::Retry => Decision::TakeOver(record.order_id.clone()),
    }
}

/// The records, in Redis or locally.
#[derive(Debug)]
pub(crate) struct Idempotency {
    ttl: Duration,
    local: Mutex<Local>,
}

impl Idempotency {
    /// Records kept `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            local: Mutex::new(Local::default()),
        }
    }

    /// Claims `key` for a request of `fingerprint`, to run as `fresh_id` if the key is new.
    pub(crate) async fn begin(
        &self,
        shared: &Shared,
        key: &str,
        fingerprint: &str,
        fresh_id: &str,
    ) -> Begin {
        let pending = Record::pending(fingerprint, fresh_id);
        let Ok(raw) = serde_json::to_string(&pending) else {
            return Begin::Run(fresh_id.to_owned());
        };
        let (redis_key, ttl) = (redis_key(key), millis(self.ttl));
        let claimed = shared
            .run("idempotency claim", |mut conn| async move {
                CLAIM
                    .key(&redis_key)
                    .arg(&raw)
                    .arg(ttl)
                    .invoke_async::<Option<String>>(&mut conn)
                    .await
            })
            .await;
        match claimed {
            Some(None) => Begin::Run(fresh_id.to_owned()),
            Some(Some(existing)) => {
                self.resume(shared, key, fingerprint, &existing, fresh_id)
                    .await
            }
            None => self.begin_locally(key, pending),
        }
    }

    async fn resume(
        &self,
        shared: &Shared,
        key: &str,
        fingerprint: &str,
        raw: &str,
        fresh_id: &str,
    ) -> Begin {
        let record: Option<Record> = serde_json::from_str(raw).ok();
        let order_id = match record.map(|r| decide(&r, fingerprint, now_ms())) {
            Some(Decision::Answer(begin)) => return begin,
            Some(Decision::TakeOver(order_id)) => order_id,
            // A record this version cannot read: the request starts afresh.
            None => fresh_id.to_owned(),
        };
        let Ok(next) = serde_json::to_string(&Record::pending(fingerprint, &order_id)) else {
            return Begin::InProgress;
        };
        let (redis_key, ttl) = (redis_key(key), millis(self.ttl));
        let replaced = shared
            .run("idempotency take-over", |mut conn| async move {
                REPLACE
                    .key(&redis_key)
                    .arg(raw)
                    .arg(&next)
                    .arg(ttl)
                    .invoke_async::<u8>(&mut conn)
                    .await
            })
            .await;
        match replaced {
            Some(1) => Begin::Run(order_id),
            // Another replica took it over first, or Redis failed under us: wait for the other.
            _ => Begin::InProgress,
        }
    }

    fn begin_locally(&self, key: &str, pending: Record) -> Begin {
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let decision = local
            .get(key)
            .map(|r| decide(r, &pending.fingerprint, now_ms()));
        match decision {
            Some(Decision::Answer(begin)) => begin,
            Some(Decision::TakeOver(order_id)) => {
                let record = Record {
                    order_id: order_id.clone(),
                    ..pending
                };
                local.insert(key, record, self.ttl);
                Begin::Run(order_id)
            }
            None => {
                let order_id = pending.order_id.clone();
                local.insert(key, pending, self.ttl);
                Begin::Run(order_id)
            }
        }
    }

    /// Keeps `answer` for `key`: to replay when `stands`, else to run again as `order_id`.
    pub(crate) async fn finish(
        &self,
        shared: &Shared,
        key: &str,
        fingerprint: &str,
        order_id: &str,
        answer: &Answer,
        stands: bool,
    ) {
        let record = Record {
            state: if stands {
                RecordState::Done
            } else {
                RecordState::Retry
            },
            fingerprint: fingerprint.to_owned(),
            order_id: order_id.to_owned(),
            until_ms: 0,
            status: answer.status.as_u16(),
            body: if stands {
                answer.body.clone()
            } else {
                Value::Null
            },
        };
        let Ok(raw) = serde_json::to_string(&record) else {
            return;
        };
        let (redis_key, ttl) = (redis_key(key), millis(self.ttl));
        let stored = shared
            .run("idempotency record", |mut conn| async move {
                redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&raw)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut conn)
                    .await
            })
            .await;
        if stored.is_none() {
            let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
            local.insert(key, record, self.ttl);
        }
    }
}

/// A valid key: 1 to 255 visible ASCII characters.
pub(crate) fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What tells two requests apart: the body's canonical JSON (object keys sorted), hashed.
pub(crate) fn fingerprint(body: &Value) -> String {
    let text = body.to_string();
    // FNV-1a: stable across processes and versions, unlike std's hasher.
    let hash = |basis: u64| {
        text.bytes().fold(basis, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x6c62_272e_07bb_0142)
    )
}

fn redis_key(key: &str) -> String {
    format!("shop:idempotency:{{{key}}}")
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The local records: expiring, at most [`LOCAL_CAPACITY`], the oldest evicted first.
#[derive(Debug, Default)]
struct Local {
    records: HashMap<String, (Record, Instant)>,
    order: VecDeque<String>,
}

impl Local {
    fn get(&mut self, key: &str) -> Option<&Record> {
        let expired = self
            .records
            .get(key)
            .is_some_and(|(_, t)| *t <= Instant::now());
        if expired {
            self.records.remove(key);
        }
        self.records.get(key).map(|(record, _)| record)
    }

    fn insert(&mut self, key: &str, record: Record, ttl: Duration) {
        let expires = Instant::now() + ttl;
        if self
            .records
            .insert(key.to_owned(), (record, expires))
            .is_none()
        {
            self.order.push_back(key.to_owned());
        }
        while self.records.len() > LOCAL_CAPACITY {
            match self.order.pop_front() {
                Some(oldest) => self.records.remove(&oldest),
                None => break,
            };
        }
        if self.order.len() > LOCAL_CAPACITY * 2 {
            let records = &self.records;
            self.order.retain(|k| records.contains_key(k));
        }
    }
}

#[cfg(test)]
mod tests;
