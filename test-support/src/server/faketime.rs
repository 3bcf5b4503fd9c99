//! A skewed wall clock for `redis-server`, through libfaketime.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// Where Debian and most distributions put the library.
const DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime",
    "/usr/lib/aarch64-linux-gnu/faketime",
    "/usr/lib/faketime",
    "/usr/lib64/faketime",
    "/usr/local/lib/faketime",
];

fn library() -> Option<PathBuf> {
    DIRS.iter()
        .map(|dir| Path::new(dir).join("libfaketime.so.1"))
        .find(|path| path.exists())
}

/// The path of libfaketime, for tests that run a process of their own with a fake wall clock;
/// fails with an install hint when it is missing.
pub fn faketime_library() -> anyhow::Result<PathBuf> {
    match library() {
        Some(lib) => Ok(lib),
        None => bail!(
            "libfaketime is missing (looked in {}); install it with \
             `apt-get install -y --no-install-recommends faketime`, or run scripts/test, which does",
            DIRS.join(", ")
        ),
    }
}

/// The environment that runs a process with its wall clock `seconds` off. Only the real-time
/// clock moves: Redis measures timeouts on the monotonic one.
pub(crate) fn env(seconds: i64) -> anyhow::Result<Vec<(String, String)>> {
    let lib = faketime_library()?;
    // Debian's redis-server allocates with jemalloc, which calls clock_gettime while
    // libfaketime is still starting and deadlocks it; glibc's malloc, preloaded after
    // libfaketime, takes its place.
    let preload = format!("{} libc.so.6", lib.display());
    Ok(vec![
        ("LD_PRELOAD".to_owned(), preload),
        ("FAKETIME".to_owned(), format!("{seconds:+}")),
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_owned(), "1".to_owned()),
    ])
}
