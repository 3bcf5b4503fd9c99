//! [`ServiceCli`]: what every service binary's command line must do. `--help` and `--version`
//! answer and exit instead of starting a server; anything else is a usage error.

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;
use tokio::time::timeout;

/// Long enough for a start-up; a binary that serves instead of answering never meets it.
const DEADLINE: Duration = Duration::from_secs(10);

/// One service binary whose command line is checked.
#[derive(Debug, Clone, Copy)]
pub struct ServiceCli<'a> {
    /// The binary (`env!("CARGO_BIN_EXE_<name>")`).
    pub program: &'a str,
    /// Its name, as `--version` and the usage line print it.
    pub name: &'a str,
    /// Its package version (`env!("CARGO_PKG_VERSION")`).
    pub version: &'a str,
    /// The port it serves on by default, which its help names.
    pub default_port: u16,
}

impl ServiceCli<'_> {
    /// Runs the binary with `args`, a port it could serve on and no other variables, and waits
    /// for it to exit; panics if it does not (it started serving).
    pub async fn run(&self, args: &[&str]) -> Output {
        let child = Command::new(self.program)
            .args(args)
            .env_clear()
            .envs([("PORT", "0"), ("BIND_ADDR", "127.0.0.1")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.program));
        match timeout(DEADLINE, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => panic!("{} {args:?}: {e}", self.name),
            Err(_) => panic!("{} {args:?} did not exit: it serves", self.name),
        }
    }

    /// `--help` and `-h` print the usage and where settings come from, and exit 0.
    pub async fn assert_help(&self) {
        let port = format!("PORT={}", self.default_port);
        let usage = format!("Usage: {}", self.name);
        for flag in ["--help", "-h"] {
            let output = self.run(&[flag]).await;
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{flag}: {output:?}");
            for expected in [usage.as_str(), "CONFIG_FILE", "__", port.as_str()] {
                assert!(stdout.contains(expected), "{flag}: {expected} in {stdout}");
            }
        }
    }

    /// `--version` prints `<name> <version>` and exits 0.
    pub async fn assert_version(&self) {
        let output = self.run(&["--version"]).await;
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{} {}\n", self.name, self.version)
        );
    }

    /// An unknown flag or a stray argument is refused with exit code 2 and clap's message.
    pub async fn assert_unknown_arguments_refused(&self) {
        for arg in ["--bogus", "serve"] {
            let output = self.run(&[arg]).await;
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{arg}: {output:?}");
            assert!(
                stderr.contains(&format!("unexpected argument '{arg}'")),
                "{arg}: {stderr}"
            );
        }
    }
}
