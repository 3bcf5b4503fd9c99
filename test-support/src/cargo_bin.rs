//! Locating the workspace's own binaries for end-to-end tests.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// The path of the workspace binary `name` (e.g. `target/debug/service-a`).
///
/// The directory is found from the running test executable, which lives in
/// `<target>/<profile>/deps/`, so `CARGO_TARGET_DIR` and the profile are respected.
///
/// # Panics
///
/// If the binary does not exist, with a message telling to run `cargo build -p <name>`.
pub fn cargo_bin(name: &str) -> PathBuf {
    match try_cargo_bin(name) {
        Ok(path) => path,
        Err(e) => panic!("{e:#}"),
    }
}

/// Like [`cargo_bin`], returning the error instead of panicking.
pub fn try_cargo_bin(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the test executable")?;
    let deps = exe
        .parent()
        .context("the test executable has no directory")?;
    // Integration tests and unit tests live in deps/; examples one level further down.
    let profile_dir = if deps.ends_with("deps") || deps.ends_with("examples") {
        deps.parent().context("deps/ has no parent")?
    } else {
        deps
    };
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "binary {name} not found at {}; run `cargo build -p {name}` first",
            path.display()
        );
    }
    Ok(path)
}
