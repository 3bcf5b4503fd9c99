//! Which permissions the Redis user lacks for one breaker (`lua/rights.lua`): asked only after
//! Redis refused a command, to name what is missing and to learn when it has been granted.

use std::sync::LazyLock;

use redis::Script;

use super::{RedisStore, Spec, StoreError};

static RIGHTS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../../../lua/rights.lua")));

impl RedisStore {
    /// `"COMMAND target"` for each command of the breaker's scripts and subscriber that the
    /// ACL user may not run on `spec`'s keys or channel; empty when nothing is missing, `["?"]`
    /// when Redis cannot tell (before 7.0).
    pub(crate) async fn rights(&self, spec: &Spec) -> Result<Vec<String>, StoreError> {
        let mut inv = RIGHTS.prepare_invoke();
        for key in spec.keys() {
            inv.key(key);
        }
        inv.arg(spec.channel());
        self.invoke(inv).await
    }
}
