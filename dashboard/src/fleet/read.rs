//! Reading the history streams: which breakers have one (SCAN), and what each holds after
//! a given entry.

use std::collections::{BTreeSet, HashMap};

use redis::aio::ConnectionLike;

use super::{Fleet, FleetError, HISTORY_MAX, StreamId, Transition};

/// Keys asked for per SCAN round trip.
const SCAN_COUNT: usize = 500;

/// A history stream entry as Redis answers it.
type Entry = (String, HashMap<String, String>);

impl Fleet {
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

/// The readable entries as transitions; an entry someone else wrote by hand is skipped.
fn transitions(entries: Vec<Entry>) -> Vec<Transition> {
    entries
        .into_iter()
        .filter_map(|(id, fields)| Transition::from_entry(id, &fields))
        .collect()
}
