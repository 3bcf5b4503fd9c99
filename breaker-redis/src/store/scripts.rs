//! The Lua scripts, each built (and hashed) once per process from `lua/lib.lua` plus its
//! operation file.

use std::sync::LazyLock;

use redis::Script;

const LIB: &str = include_str!("../../../lua/lib.lua");

/// One `redis::Script` per atomic operation.
pub(crate) struct Scripts {
    pub(crate) acquire: Script,
    pub(crate) record: Script,
    pub(crate) record_batch: Script,
    pub(crate) force: Script,
    pub(crate) snapshot: Script,
    pub(crate) settings: Script,
}

fn build(operation: &str) -> Script {
    Script::new(&format!("{LIB}\n{operation}"))
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    acquire: build(include_str!("../../../lua/acquire.lua")),
    record: build(include_str!("../../../lua/record.lua")),
    record_batch: build(include_str!("../../../lua/record_batch.lua")),
    force: build(include_str!("../../../lua/force.lua")),
    snapshot: build(include_str!("../../../lua/snapshot.lua")),
    settings: build(include_str!("../../../lua/settings.lua")),
});

impl Scripts {
    pub(crate) fn all(&self) -> [&Script; 6] {
        [
            &self.acquire,
            &self.record,
            &self.record_batch,
            &self.force,
            &self.snapshot,
            &self.settings,
        ]
    }
}
