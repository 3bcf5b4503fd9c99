//! Small process helpers shared by [`RedisServer`](crate::RedisServer) and
//! [`ChildProcess`](crate::ChildProcess): signals through the `kill` command (no `unsafe`, no
//! libc), liveness checks, and finding programs on `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The line printed when the Redis binaries are missing.
pub(crate) const INSTALL_REDIS: &str =
    "install it with `apt-get install -y --no-install-recommends redis-server redis-tools`";

/// Sends `signal` (a name such as `STOP`, `CONT`, `TERM`, `KILL`) to `pid`.
///
/// A negative target (`-pgid`) signals a whole process group.
pub(crate) fn send_signal(signal: &str, target: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running the `kill` command")?;
    if !status.success() {
        bail!("`kill -{signal} -- {target}` failed: {status}");
    }
    Ok(())
}

/// Signals one process.
pub(crate) fn signal_pid(signal: &str, pid: u32) -> anyhow::Result<()> {
    send_signal(signal, &pid.to_string())
}

/// Whether a process with this pid exists and is not a zombie.
///
/// Checking after the owner has reaped the child (as every `Drop` here does) tells whether it is
/// gone. A recycled pid would give a false positive, which the kernel makes unlikely by handing
/// out pids in increasing order.
pub fn process_exists(pid: u32) -> bool {
    let stat = Path::new("/proc").join(pid.to_string()).join("stat");
    if Path::new("/proc/self/stat").exists() {
        return match std::fs::read_to_string(stat) {
            // The state follows the parenthesised command name, which may itself contain spaces.
            Ok(text) => text
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X"),
            Err(_) => false,
        };
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Finds `program` on `PATH`.
pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Finds a Redis program on `PATH`, or explains how to install it.
pub(crate) fn require_redis_program(program: &str) -> anyhow::Result<PathBuf> {
    find_on_path(program)
        .with_context(|| format!("`{program}` was not found on PATH; {INSTALL_REDIS}"))
}

/// All descendants of `pid` (children, grandchildren, ...), read from
/// `/proc/<pid>/task/<tid>/children`; empty where that file does not exist.
pub(crate) fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(parent) = queue.pop() {
        let tasks = Path::new("/proc").join(parent.to_string()).join("task");
        let Ok(entries) = std::fs::read_dir(tasks) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path().join("children")) else {
                continue;
            };
            for child in text.split_whitespace().filter_map(|p| p.parse().ok()) {
                if !found.contains(&child) {
                    found.push(child);
                    queue.push(child);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_names_the_install_command() {
        let err = require_redis_program("no-such-redis-program").expect_err("found it");
        assert!(
            err.to_string().contains(
                "install it with `apt-get install -y --no-install-recommends redis-server redis-tools`"
            ),
            "{err}"
        );
    }

    #[test]
    fn our_own_process_exists() {
        assert!(process_exists(std::process::id()));
        assert!(find_on_path("sh").is_some());
    }
}
