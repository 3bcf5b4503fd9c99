//! `lua/rate_limit.lua`: built once per process, run with EVALSHA (reloaded on `NOSCRIPT`).

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::allowance::Decision;
use super::config::Quota;
use breaker_redis::store::{RedisStore, StoreError};

static SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../../lua/rate_limit.lua")));

/// Loads the script now, so that a script Redis rejects fails at start.
pub(crate) async fn load(store: &RedisStore) -> Result<(), StoreError> {
    SCRIPT.load_async(&mut store.connection()).await?;
    Ok(())
}

/// One GCRA decision for `key`: one round trip.
pub(crate) async fn check(
    store: &RedisStore,
    key: &str,
    now: Option<u64>,
    quota: &Quota,
) -> Result<Decision, StoreError> {
    let mut inv = SCRIPT.prepare_invoke();
    inv.key(key)
        .arg(now.map(|n| n.to_string()).unwrap_or_default())
        .arg(quota.count())
        .arg(quota.period_ms())
        .arg(quota.burst());
    let raw: Vec<i64> = store.invoke(inv).await?;
    decode(&raw)
}

/// `{allowed, remaining, retry_after_ms, reset_after_ms}`.
fn decode(raw: &[i64]) -> Result<Decision, StoreError> {
    let &[allowed @ (0 | 1), remaining, retry_after, reset_after] = raw else {
        return Err(StoreError::Protocol(format!(
            "rate_limit.lua replied {raw:?}"
        )));
    };
    let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
    Ok(Decision {
        allowed: allowed == 1,
        remaining: u32::try_from(remaining).unwrap_or(0),
        retry_after: ms(retry_after),
        reset_after: ms(reset_after),
        degraded: false,
    })
}
