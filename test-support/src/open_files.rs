//! [`raise_open_files`]: tests that hold many sockets need more descriptors than a shell's usual
//! soft limit of 1,024.

use std::process::Command;

/// Makes sure this process may open at least `needed` files, raising its soft limit up to its
/// hard limit with `prlimit` (package util-linux) when it is lower. Child processes started
/// afterwards inherit the new limit.
///
/// # Panics
///
/// The hard limit is below `needed`, or `prlimit` is missing or fails.
pub fn raise_open_files(needed: u64) {
    let (soft, hard) = open_file_limits();
    if soft >= needed {
        return;
    }
    assert!(
        hard >= needed,
        "the hard open-file limit {hard} is below the {needed} this test needs"
    );
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={hard}:{hard}"),
        ])
        .status()
        .expect("prlimit (package util-linux) runs");
    assert!(status.success(), "prlimit failed: {status}");
}

/// This process's soft and hard open-file limits (`unlimited` read as `u64::MAX`).
pub fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("an open-files line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let parse = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .unwrap_or(u64::MAX)
    };
    (parse(3), parse(4))
}
