//! [`Admin::list`] and [`Admin::show`]: breakers as their keys hold them.

use std::collections::{BTreeSet, HashMap};

use redis::Value;

use super::{Admin, AdminError, BreakerDetail, BreakerSummary, StoredSettings, glob_escape};
use crate::protocol::{Forced, State};
use crate::store::{Spec, StoreOps, parse_settings};
use crate::validate;

/// Keys asked for per `SCAN` step, and breakers read per pipeline.
const SCAN_COUNT: usize = 1000;
const PIPELINE: usize = 100;

/// A breaker's two hashes and their TTLs, as one pipeline reads them.
struct Raw {
    state: HashMap<String, String>,
    state_ttl: i64,
    settings: HashMap<String, String>,
    settings_ttl: i64,
}

impl Admin {
    /// Every breaker with a state or settings hash under this prefix, sorted by name. Found
    /// with `SCAN` (never `KEYS`, which would stall Redis); counts are as last written.
    pub async fn list(&self) -> Result<Vec<BreakerSummary>, AdminError> {
        let names = self.scan_names().await?;
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(PIPELINE) {
            let raws = self.read_raw(chunk).await?;
            for (name, raw) in chunk.iter().zip(raws) {
                out.push(summary(name, raw)?);
            }
        }
        Ok(out)
    }

    /// One breaker: [`list`](Self::list)'s summary with the counts of its current window, its
    /// half-open trial calls in flight and the length of its history.
    /// [`AdminError::UnknownBreaker`] when it has neither state nor settings in Redis.
    pub async fn show(&self, name: &str) -> Result<BreakerDetail, AdminError> {
        validate::name(name)?;
        let base = self.base(name);
        let mut pipe = redis::pipe();
        pipe.cmd("ZCARD")
            .arg(format!("{base}:leases"))
            .cmd("XLEN")
            .arg(format!("{base}:history"))
            .cmd("TIME")
            .cmd("HGET")
            .arg(&base)
            .arg("window_start");
        let mut conn = self.store.connection();
        let (leases, history_len, (secs, micros), window_start): (
            u64,
            u64,
            (u64, u64),
            Option<String>,
        ) = self
            .run(async move { Ok(pipe.query_async(&mut conn).await?) })
            .await?;
        let raw = self.read_raw(&[name.to_owned()]).await?.pop();
        let raw = raw.ok_or_else(|| AdminError::UnknownBreaker(name.to_owned()))?;
        if raw.state.is_empty() && raw.settings.is_empty() {
            return Err(AdminError::UnknownBreaker(name.to_owned()));
        }
        let mut detail = BreakerDetail {
            summary: summary(name, raw)?,
            in_flight: leases,
            window_start_ms: window_start.and_then(|v| v.parse().ok()).unwrap_or(0),
            history_len,
            now_ms: secs * 1000 + micros / 1000,
        };
        if let Some(settings) = detail.summary.settings.clone()
            && detail.summary.stored
        {
            self.current_counts(&settings, &mut detail).await?;
        }
        Ok(detail)
    }

    /// Reads the counts of the current window with the breakers' own snapshot script (a
    /// rolling window's sum, a fixed window that has ended reads zero).
    async fn current_counts(
        &self,
        stored: &StoredSettings,
        detail: &mut BreakerDetail,
    ) -> Result<(), AdminError> {
        let spec = self.spec(&detail.summary.name, stored)?;
        let snapshot = self.run(self.store.snapshot(&spec, None)).await?;
        let s = &mut detail.summary;
        (s.state, s.forced, s.generation, s.open_until_ms) = (
            snapshot.state,
            snapshot.forced,
            snapshot.generation,
            snapshot.open_until_ms,
        );
        (
            s.requests,
            s.failures,
            s.consecutive_failures,
            s.half_open_successes,
        ) = (
            snapshot.requests,
            snapshot.failures,
            snapshot.consecutive_failures,
            snapshot.half_open_successes,
        );
        (detail.in_flight, detail.now_ms) = (snapshot.in_flight, snapshot.now_ms);
        Ok(())
    }

    /// The breaker as the scripts see it, from its published settings.
    pub(super) fn spec(&self, name: &str, stored: &StoredSettings) -> Result<Spec, AdminError> {
        let mut settings = stored.settings.clone();
        settings.key_prefix = self.prefix.clone();
        let invalid = |e: crate::ConfigError| AdminError::InvalidSettings {
            name: name.to_owned(),
            reason: e.to_string(),
        };
        let config = settings.build().map_err(invalid)?;
        Spec::new(name, config, &self.origin).map_err(invalid)
    }

    /// The settings `name` published, if any.
    pub(super) async fn settings(&self, name: &str) -> Result<Option<StoredSettings>, AdminError> {
        let raw = self.read_raw(&[name.to_owned()]).await?.pop();
        match raw {
            Some(raw) if !raw.settings.is_empty() => Ok(Some(stored_settings(name, raw.settings)?)),
            _ => Ok(None),
        }
    }

    async fn scan_names(&self) -> Result<Vec<String>, AdminError> {
        let head = format!("{}:{{", self.prefix);
        let pattern = format!("{}*", glob_escape(&head));
        let mut names = BTreeSet::new();
        let mut cursor = 0u64;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let (next, keys): (u64, Vec<String>) = self.query(&cmd).await?;
            names.extend(keys.iter().filter_map(|k| breaker_name(&head, k)));
            if next == 0 {
                return Ok(names.into_iter().collect());
            }
            cursor = next;
        }
    }

    /// Both hashes and their TTLs for each name, in one round trip.
    async fn read_raw(&self, names: &[String]) -> Result<Vec<Raw>, AdminError> {
        let mut pipe = redis::pipe();
        for name in names {
            let base = self.base(name);
            let settings = format!("{base}:settings");
            pipe.cmd("HGETALL").arg(&base).cmd("PTTL").arg(&base);
            pipe.cmd("HGETALL")
                .arg(&settings)
                .cmd("PTTL")
                .arg(&settings);
        }
        let mut conn = self.store.connection();
        let values: Vec<Value> = self
            .run(async move { Ok(pipe.query_async(&mut conn).await?) })
            .await?;
        let mut values = values.into_iter();
        let mut out = Vec::with_capacity(names.len());
        while let (Some(state), Some(state_ttl), Some(settings), Some(settings_ttl)) =
            (values.next(), values.next(), values.next(), values.next())
        {
            let parse =
                |e: redis::ParsingError| AdminError::Redis(redis::RedisError::from(e).into());
            out.push(Raw {
                // A key of a foreign type (WRONGTYPE) reads as empty: it is no breaker's.
                state: redis::from_redis_value(state).unwrap_or_default(),
                state_ttl: redis::from_redis_value(state_ttl).map_err(parse)?,
                settings: redis::from_redis_value(settings).unwrap_or_default(),
                settings_ttl: redis::from_redis_value(settings_ttl).map_err(parse)?,
            });
        }
        Ok(out)
    }
}

/// `prefix:{name}` or `prefix:{name}:settings` gives `name`; other keys (leases, window,
/// history, anything else) give nothing.
fn breaker_name(head: &str, key: &str) -> Option<String> {
    let rest = key.strip_prefix(head)?;
    let name = rest
        .strip_suffix('}')
        .or_else(|| rest.strip_suffix("}:settings"))?;
    validate::name(name).ok()?;
    Some(name.to_owned())
}

fn stored_settings(
    name: &str,
    hash: HashMap<String, String>,
) -> Result<StoredSettings, AdminError> {
    parse_settings(hash).map_err(|reason| AdminError::InvalidSettings {
        name: name.to_owned(),
        reason,
    })
}

fn summary(name: &str, raw: Raw) -> Result<BreakerSummary, AdminError> {
    let field = |f: &str| raw.state.get(f).map(String::as_str);
    let number = |f: &str| field(f).and_then(|v| v.parse().ok()).unwrap_or(0);
    let stored = !raw.state.is_empty();
    let ttl = if stored {
        raw.state_ttl
    } else {
        raw.settings_ttl
    };
    let settings = if raw.settings.is_empty() {
        None
    } else {
        Some(stored_settings(name, raw.settings.clone())?)
    };
    Ok(BreakerSummary {
        name: name.to_owned(),
        state: field("state")
            .and_then(State::parse)
            .unwrap_or(State::Closed),
        forced: field("forced")
            .and_then(Forced::parse)
            .unwrap_or(Forced::None),
        generation: number("generation"),
        requests: number("requests"),
        failures: number("failures"),
        consecutive_failures: number("consecutive_failures"),
        half_open_successes: number("half_open_successes"),
        open_until_ms: number("open_until"),
        updated_at_ms: number("updated_at"),
        ttl_ms: u64::try_from(ttl).ok(),
        stored,
        settings,
    })
}
