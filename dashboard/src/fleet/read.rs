//! Reading the fleet: SCAN for breakers, their state hashes, TTLs and history streams.

use std::collections::{BTreeSet, HashMap};

use redis::aio::ConnectionLike;

use super::{BreakerView, Fleet, FleetError, HISTORY_MAX, StreamId, Transition};

/// Keys asked for per SCAN round trip.
const SCAN_COUNT: usize = 500;

/// A history stream entry as Redis answers it.
type Entry = (String, HashMap<String, String>);

/// The breakers found, and whether more were left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The breakers, by name.
    pub breakers: Vec<BreakerView>,
    /// True when more than `max` were found.
    pub truncated: bool,
}

impl Fleet {
    /// Every breaker (at most `max`, by name) with its state, counts, TTL and settings.
    /// SCAN, never KEYS: a large keyspace is walked in steps without blocking Redis.
    pub async fn list(&self, max: usize) -> Result<Listing, FleetError> {
        self.with(async |mut conn| {
            let pattern = format!("{}:{{*}}", self.prefix);
            let (names, truncated) = self.scan(&mut conn, &pattern, "hash", "", max).await?;
            let mut pipe = redis::pipe();
            for name in &names {
                let key = self.state_key(name);
                pipe.hgetall(&key).pttl(&key);
            }
            let replies: Vec<(HashMap<String, String>, i64)> = if names.is_empty() {
                Vec::new()
            } else {
                pipe_pairs(&mut conn, &pipe).await?
            };
            let breakers = names
                .into_iter()
                .zip(replies)
                // A breaker that expired between SCAN and HGETALL is gone, not empty.
                .filter(|(_, (fields, _))| !fields.is_empty())
                .map(|(name, (fields, pttl))| BreakerView::new(name, &fields, pttl, None))
                .collect();
            Ok(Listing {
                breakers,
                truncated,
            })
        })
        .await
    }

    /// One breaker and its `recent` latest transitions (newest first); `None` when Redis has
    /// no state for it.
    pub async fn show(
        &self,
        name: &str,
        recent: usize,
    ) -> Result<Option<(BreakerView, Vec<Transition>)>, FleetError> {
        self.with(async |mut conn| {
            let key = self.state_key(name);
            let (fields, pttl, entries): (HashMap<String, String>, i64, Vec<Entry>) = redis::pipe()
                .hgetall(&key)
                .pttl(&key)
                .add_command(latest(&self.history_key(name), recent))
                .query_async(&mut conn)
                .await?;
            if fields.is_empty() {
                return Ok(None);
            }
            let view = BreakerView::new(name.to_owned(), &fields, pttl, None);
            Ok(Some((view, transitions(entries))))
        })
        .await
    }

    /// The `limit` latest transitions of `name`, newest first; `None` when Redis knows
    /// neither its state nor its history.
    pub async fn history(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Option<Vec<Transition>>, FleetError> {
        self.with(async |mut conn| {
            let (known, entries): (bool, Vec<Entry>) = redis::pipe()
                .exists(self.state_key(name))
                .add_command(latest(&self.history_key(name), limit.min(HISTORY_MAX)))
                .query_async(&mut conn)
                .await?;
            Ok((known || !entries.is_empty()).then(|| transitions(entries)))
        })
        .await
    }

    /// Whether Redis has a state hash for `name`.
    pub async fn exists(&self, name: &str) -> Result<bool, FleetError> {
        self.with(async |mut conn| {
            let known: bool = redis::cmd("EXISTS")
                .arg(self.state_key(name))
                .query_async(&mut conn)
                .await?;
            Ok(known)
        })
        .await
    }

    /// The names of every breaker with a history stream, at most `max`.
    pub async fn history_names(&self, max: usize) -> Result<Vec<String>, FleetError> {
        self.with(async |mut conn| {
            let pattern = format!("{}:{{*}}:history", self.prefix);
            let (names, _) = self
                .scan(&mut conn, &pattern, "stream", ":history", max)
                .await?;
            Ok(names)
        })
        .await
    }

    /// Each breaker's transitions after its id (oldest first, at most [`HISTORY_MAX`] each),
    /// all in one round trip, merged in stream id order.
    pub async fn after(&self, since: &[(String, StreamId)]) -> Result<Vec<Transition>, FleetError> {
        if since.is_empty() {
            return Ok(Vec::new());
        }
        self.with(async |mut conn| {
            let mut pipe = redis::pipe();
            for (name, id) in since {
                pipe.cmd("XRANGE")
                    .arg(self.history_key(name))
                    .arg(format!("({id}"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(HISTORY_MAX);
            }
            let streams: Vec<Vec<Entry>> = pipe.query_async(&mut conn).await?;
            let mut all: Vec<Transition> = streams.into_iter().flat_map(transitions).collect();
            all.sort_by_key(|t| t.stream_id());
            Ok(all)
        })
        .await
    }

    /// The breaker names of the keys matching `pattern` of Redis type `kind` (`<prefix>:{name}`
    /// followed by `suffix`), sorted, at most `max`; and whether more were found.
    async fn scan<C: ConnectionLike + Send>(
        &self,
        conn: &mut C,
        pattern: &str,
        kind: &str,
        suffix: &str,
        max: usize,
    ) -> Result<(Vec<String>, bool), FleetError> {
        let mut names = BTreeSet::new();
        let mut cursor = 0_u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .arg("TYPE")
                .arg(kind)
                .query_async(conn)
                .await?;
            names.extend(
                keys.iter()
                    .filter_map(|k| self.name_in(k, suffix))
                    .map(str::to_owned),
            );
            cursor = next;
            if cursor == 0 || names.len() > max {
                break;
            }
        }
        let truncated = names.len() > max;
        Ok((names.into_iter().take(max).collect(), truncated))
    }
}

/// A pipeline of HGETALL, PTTL pairs, read as pairs.
async fn pipe_pairs<C: ConnectionLike + Send>(
    conn: &mut C,
    pipe: &redis::Pipeline,
) -> Result<Vec<(HashMap<String, String>, i64)>, FleetError> {
    let values: Vec<redis::Value> = pipe.query_async(conn).await?;
    let mut pairs = Vec::with_capacity(values.len() / 2);
    for chunk in values.chunks_exact(2) {
        let fields: HashMap<String, String> =
            redis::from_redis_value_ref(&chunk[0]).map_err(redis::RedisError::from)?;
        let pttl: i64 = redis::from_redis_value_ref(&chunk[1]).map_err(redis::RedisError::from)?;
        pairs.push((fields, pttl));
    }
    Ok(pairs)
}

/// `XREVRANGE key + - COUNT n`: the newest `n` entries, newest first.
fn latest(key: &str, n: usize) -> redis::Cmd {
    let mut cmd = redis::cmd("XREVRANGE");
    cmd.arg(key).arg("+").arg("-").arg("COUNT").arg(n);
    cmd
}

/// The readable entries as transitions; an entry someone else wrote by hand is skipped.
fn transitions(entries: Vec<Entry>) -> Vec<Transition> {
    entries
        .into_iter()
        .filter_map(|(id, fields)| Transition::from_entry(id, &fields))
        .collect()
}
