//! The Lua scripts, built once per process from `lua/lib.lua` and the operation files, in the
//! two forms `lua/lib.lua` describes: one Redis Functions library (every operation a function,
//! the prelude run once per load) and one script per operation for `EVALSHA` (the fallback
//! where functions are unavailable).

use std::sync::LazyLock;

use redis::Script;

const LIB: &str = include_str!("../../../lua/lib.lua");

/// The breaker's operations, each one atomic call; the discriminant is the position in
/// [`Op::ALL`], and so in [`Scripts`]' lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Acquire,
    Record,
    Exchange,
    RecordBatch,
    Force,
    Snapshot,
    Settings,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::Acquire,
        Op::Record,
        Op::Exchange,
        Op::RecordBatch,
        Op::Force,
        Op::Snapshot,
        Op::Settings,
    ];

    /// The operation's file in `lua/`, without `.lua`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Acquire => "acquire",
            Op::Record => "record",
            Op::Exchange => "exchange",
            Op::RecordBatch => "record_batch",
            Op::Force => "force",
            Op::Snapshot => "snapshot",
            Op::Settings => "settings",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Op::Acquire => include_str!("../../../lua/acquire.lua"),
            Op::Record => include_str!("../../../lua/record.lua"),
            Op::Exchange => include_str!("../../../lua/exchange.lua"),
            Op::RecordBatch => include_str!("../../../lua/record_batch.lua"),
            Op::Force => include_str!("../../../lua/force.lua"),
            Op::Snapshot => include_str!("../../../lua/snapshot.lua"),
            Op::Settings => include_str!("../../../lua/settings.lua"),
        }
    }
}

/// Every operation in both forms.
pub(crate) struct Scripts {
    /// One script per operation, in [`Op::ALL`]'s order.
    scripts: Vec<Script>,
    /// The text `FUNCTION LOAD` takes.
    pub(crate) library: String,
    /// The library's name: `breaker_` and the start of its SHA-1, so that replicas running
    /// another version of the scripts load a library of their own beside this one instead of
    /// replacing the code under each other's feet.
    pub(crate) library_name: String,
    /// The function of each operation, in [`Op::ALL`]'s order.
    functions: Vec<String>,
}

/// The body every operation runs in: the call's context first (`begin` in `lua/lib.lua`),
/// then the operation file, which reads `KEYS` and `ARGV` as a script does.
fn body(op: Op) -> String {
    format!(
        "function(KEYS, ARGV)\nlocal failed = begin(KEYS, ARGV)\nif failed then return failed end\n{}\nend",
        op.source()
    )
}

fn build() -> Scripts {
    let scripts = Op::ALL
        .iter()
        .map(|op| {
            Script::new(&format!(
                "{LIB}\nlocal run = {}\nreturn run(KEYS, ARGV)\n",
                body(*op)
            ))
        })
        .collect();
    let mut code = format!("{LIB}\n");
    for op in Op::ALL {
        code.push_str(&format!(
            "redis.register_function('breaker_{}_@VERSION@', {})\n",
            op.name(),
            body(op)
        ));
    }
    let version = Script::new(&code).get_hash()[..12].to_owned();
    let code = code.replace("@VERSION@", &version);
    let library_name = format!("breaker_{version}");
    Scripts {
        scripts,
        library: format!("#!lua name={library_name}\n{code}"),
        library_name,
        functions: Op::ALL
            .iter()
            .map(|op| format!("breaker_{}_{version}", op.name()))
            .collect(),
    }
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(build);

impl Scripts {
    /// The `EVALSHA` form of `op`.
    pub(crate) fn script(&self, op: Op) -> &Script {
        &self.scripts[op as usize]
    }

    /// The function `op` is in the library.
    pub(crate) fn function(&self, op: Op) -> &str {
        &self.functions[op as usize]
    }

    /// Every `EVALSHA` script.
    pub(crate) fn all(&self) -> &[Script] {
        &self.scripts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_indexes_its_own_script_and_function() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
            assert!(SCRIPTS.function(*op).contains(op.name()));
        }
    }
}
