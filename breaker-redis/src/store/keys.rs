//! Redis key and channel names. Every key of one breaker carries the hash tag `{name}`, so a
//! Redis Cluster keeps them in one slot and one script may touch them all.

/// `prefix:{name}` (state), `prefix:{name}:leases`, `prefix:{name}:window`: the scripts' KEYS.
pub(crate) fn keys(prefix: &str, name: &str) -> [String; 3] {
    let base = format!("{prefix}:{{{name}}}");
    [
        base.clone(),
        format!("{base}:leases"),
        format!("{base}:window"),
    ]
}

/// The pub/sub channel transitions are published on.
pub(crate) fn channel(prefix: &str, name: &str) -> String {
    format!("{prefix}:{{{name}}}:events")
}
