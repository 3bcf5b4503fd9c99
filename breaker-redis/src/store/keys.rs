//! Redis key and channel names. Every key of one breaker carries the hash tag `{name}`, so a
//! Redis Cluster keeps them in one slot and one script may touch them all.

/// `prefix:{name}` (state), `prefix:{name}:leases`, `prefix:{name}:window`,
/// `prefix:{name}:history` (the transition stream) and `prefix:{name}:settings`: the
/// scripts' KEYS, in that order.
pub(crate) fn keys(prefix: &str, name: &str) -> [String; 5] {
    let base = format!("{prefix}:{{{name}}}");
    [
        base.clone(),
        format!("{base}:leases"),
        format!("{base}:window"),
        format!("{base}:history"),
        format!("{base}:settings"),
    ]
}

/// The pub/sub channel transitions are published on.
pub(crate) fn channel(prefix: &str, name: &str) -> String {
    format!("{prefix}:{{{name}}}:events")
}

/// A new breaker instance's id: 128 random bits in hex. Permit ids and "is this event my own"
/// rest on it, so two processes configured with the same replica id never collide.
pub(crate) fn instance_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}
