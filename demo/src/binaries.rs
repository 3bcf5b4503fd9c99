//! Finding the binaries a system runs, building them first under `cargo run`.
//!
//! `cargo run -p demo` builds only the demo. When the demo runs under cargo (which sets `CARGO`
//! and `CARGO_MANIFEST_PATH` for the program it runs) and no `--bin-dir` is given, it runs
//! `cargo build -p <each binary>` (`-p service-a -p service-b` for `ab`, `-p shop` for `shop`,
//! `-p discovery` for `discovery`, `-p chain` for `chain`)
//! with the profile it was itself built with, so the binaries next to it are current: cargo
//! decides what is stale, which a timestamp comparison here could not (a change in
//! `service-kit` makes every one stale).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::out::say;
use crate::plan::BinDir;

/// The directory whose binaries were checked to exist.
#[derive(Debug, Clone)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// The path of the binary `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        binary(&self.dir, name)
    }
}

/// Locates `names` in `bin_dir`, building them first when the demo runs under cargo (each
/// binary is built by the package of the same name).
pub async fn prepare(bin_dir: &BinDir, names: &[&str]) -> anyhow::Result<Binaries> {
    let dir = match bin_dir {
        BinDir::Given(dir) => dir.clone(),
        BinDir::OwnDir { build } => {
            let dir = own_dir()?;
            if *build && let Some(cargo) = CargoEnv::from_env() {
                cargo.build(&dir, names).await?;
            }
            dir
        }
    };
    locate(&dir, names)
}

fn own_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the demo's own executable")?;
    let dir = exe
        .parent()
        .context("the demo's executable has no directory")?;
    Ok(dir.to_path_buf())
}

fn locate(dir: &Path, names: &[&str]) -> anyhow::Result<Binaries> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !binary(dir, name).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} not found in {}; build {} with `cargo build --release {}` and run the demo from \
             the same target directory (`cargo run --release -p demo` does both), or point \
             --bin-dir at the directory that has {}",
            missing.join(" and "),
            dir.display(),
            if names.len() == 1 { "it" } else { "them" },
            package_args(names).join(" "),
            if names.len() == 1 { "it" } else { "them" },
        );
    }
    Ok(Binaries {
        dir: dir.to_path_buf(),
    })
}

/// `-p <name>` for each name.
fn package_args(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| format!("-p {name}")).collect()
}

fn binary(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// What cargo tells the program it runs.
#[derive(Debug)]
struct CargoEnv {
    cargo: OsString,
    manifest: PathBuf,
}

impl CargoEnv {
    /// Present only when cargo runs the demo package itself (not, say, a test of another one).
    fn from_env() -> Option<Self> {
        if std::env::var("CARGO_PKG_NAME").ok()? != env!("CARGO_PKG_NAME") {
            return None;
        }
        let cargo = std::env::var_os("CARGO")?;
        let manifest = std::env::var_os("CARGO_MANIFEST_PATH")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("CARGO_MANIFEST_DIR")
                    .map(|dir| PathBuf::from(dir).join("Cargo.toml"))
            })?;
        Some(Self { cargo, manifest })
    }

    async fn build(&self, dir: &Path, names: &[&str]) -> anyhow::Result<()> {
        let mut args: Vec<String> = vec!["build".into()];
        args.extend(profile_args(dir));
        for name in names {
            args.extend(["-p".to_owned(), (*name).to_owned()]);
        }
        say(format!(
            "started by cargo: building the services first with `cargo {}` (--no-build skips this)",
            args.join(" ")
        ));
        let status = tokio::process::Command::new(&self.cargo)
            .args(&args)
            .arg("--manifest-path")
            .arg(&self.manifest)
            .status()
            .await
            .with_context(|| format!("running {}", self.cargo.to_string_lossy()))?;
        if !status.success() {
            bail!("`cargo {}` failed ({status})", args.join(" "));
        }
        Ok(())
    }
}

/// The cargo flags that build into `dir`, a profile directory such as `target/release`.
fn profile_args(dir: &Path) -> Vec<String> {
    match dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => Vec::new(),
        Some("release") => vec!["--release".into()],
        Some(profile) => vec!["--profile".into(), profile.into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_follows_the_directory() {
        assert!(profile_args(Path::new("target/debug")).is_empty());
        assert_eq!(profile_args(Path::new("target/release")), ["--release"]);
        assert_eq!(
            profile_args(Path::new("/t/x86_64/profiling")),
            ["--profile", "profiling"]
        );
    }

    #[test]
    fn missing_binaries_are_named_with_the_build_command() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("service-b"), "").expect("write");
        let err =
            locate(dir.path(), &["service-a", "service-b"]).expect_err("service-a is missing");
        let text = err.to_string();
        assert!(text.starts_with("service-a not found in"), "{text}");
        assert!(
            text.contains("build them with `cargo build --release -p service-a -p service-b`"),
            "{text}"
        );
        let err = locate(dir.path(), &["shop"]).expect_err("shop is missing");
        let text = err.to_string();
        assert!(text.starts_with("shop not found in"), "{text}");
        assert!(
            text.contains("build it with `cargo build --release -p shop`"),
            "{text}"
        );
        assert!(locate(dir.path(), &["service-b"]).is_ok());
    }
}
