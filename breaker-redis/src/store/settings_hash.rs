//! The settings hash (`prefix:{name}:settings`, see `lua/settings.lua`): how a breaker replica
//! publishes its configuration in Redis, and how tools read it back.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Spec;
use crate::admin::StoredSettings;
use crate::settings::Settings;

/// Fields that say who wrote the hash, and the scripts' form of the settings; the others are
/// [`Settings`]' serde fields.
const REPLICA: &str = "replica";
const INSTANCE: &str = "instance";
const WRITTEN_AT: &str = "written_at_ms";
const SCRIPT_ARGS: &str = "script_args";

/// [`Settings`]' fields that hold numbers; every other one is a string (a name or a duration
/// such as `"10s"`), even when it looks like a number (a key prefix `"42"`).
const NUMERIC: [&str; 7] = [
    "failure_ratio",
    "min_requests",
    "failures",
    "buckets",
    "max_requests",
    "success_threshold",
    "max_batch",
];

/// The field/value pairs `settings.lua` writes for `spec` (it adds `written_at_ms`).
pub(crate) fn fields(spec: &Spec) -> Vec<(String, String)> {
    let settings = Settings::from(spec.config());
    let mut fields: Vec<(String, String)> = match serde_json::to_value(&settings) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| plain(v).map(|v| (k, v)))
            .collect(),
        _ => Vec::new(),
    };
    // ARGV 2..=12: the static settings as the scripts take them.
    fields.push((SCRIPT_ARGS.into(), spec.args()[0].clone()));
    fields.push((REPLICA.into(), spec.origin().to_owned()));
    fields.push((INSTANCE.into(), spec.instance().to_owned()));
    fields
}

/// A JSON value as redis-cli shows it: no quotes; `None` for null (the field is left out).
fn plain(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Reads a settings hash back (`HGETALL`); `Err` says what is wrong with it.
pub(crate) fn parse(mut hash: HashMap<String, String>) -> Result<StoredSettings, String> {
    let replica = hash.remove(REPLICA).unwrap_or_default();
    let instance = hash.remove(INSTANCE).unwrap_or_default();
    let written_at_ms = hash
        .remove(WRITTEN_AT)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    hash.remove(SCRIPT_ARGS);
    let mut map = Map::new();
    for (field, value) in hash {
        let value = if NUMERIC.contains(&field.as_str()) {
            let n: serde_json::Number = serde_json::from_str(&value)
                .map_err(|_| format!("{field} is not a number: {value:?}"))?;
            Value::Number(n)
        } else {
            Value::String(value)
        };
        map.insert(field, value);
    }
    let settings: Settings =
        serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
    settings.build().map_err(|e| e.to_string())?;
    Ok(StoredSettings {
        settings,
        replica,
        instance,
        written_at_ms,
    })
}
