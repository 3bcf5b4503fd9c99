//! The command line every service accepts: `--help`, `--version` and `healthcheck [PATH]`,
//! nothing else. Settings come from the environment (see [`crate::config`]), so that a container
//! and a shell configure a service the same way; the help says so.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;

use crate::run::Service;

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Invocation {
    /// No arguments: start the server.
    Serve,
    /// `healthcheck [PATH]`: check the running server's `PATH` (default `/health`).
    Healthcheck(String),
    /// Help or version was printed, or the arguments were refused (with a usage error on stderr):
    /// exit with this code instead of starting.
    Exit(ExitCode),
}

/// Reads `args` (the program name first); prints help, the version or a usage error.
pub(crate) fn parse<I, T>(service: &Service, args: I) -> Invocation
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // Not a clap subcommand: with one, clap would word its refusal of any other argument
    // differently ("unrecognized subcommand") from what every service's tests expect.
    if args.get(1).is_some_and(|a| a == "healthcheck") {
        return healthcheck(service, &args[2..]);
    }
    match command(service).try_get_matches_from(args) {
        Ok(_) => Invocation::Serve,
        Err(e) => {
            // clap writes help and version to stdout, errors to stderr; printing can only fail on
            // a closed stream, and then there is nobody left to tell.
            let _ = e.print();
            Invocation::Exit(exit_code(&e))
        }
    }
}

/// `healthcheck [PATH]`: the path, or a usage error.
fn healthcheck(service: &Service, rest: &[OsString]) -> Invocation {
    let path = match rest {
        [] => Some("/health".to_owned()),
        [path] => path
            .to_str()
            .filter(|p| crate::healthcheck::valid_path(p))
            .map(str::to_owned),
        _ => None,
    };
    match path {
        Some(path) => Invocation::Healthcheck(path),
        None => {
            eprintln!(
                "error: usage: {} healthcheck [PATH], PATH absolute (default /health)",
                service.name
            );
            Invocation::Exit(ExitCode::from(2))
        }
    }
}

/// Success for help and version (clap reports them as errors), clap's usage code otherwise.
fn exit_code(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
    }
}

fn command(service: &Service) -> clap::Command {
    let command = clap::Command::new(service.name)
        .version(service.version)
        .after_help(configuration_help(service));
    if service.about.is_empty() {
        command
    } else {
        command.about(service.about)
    }
}

fn configuration_help(service: &Service) -> String {
    format!(
        "\
Configuration (later sources win; there are no other options):
  1. defaults, e.g. PORT={port}
  2. the TOML file named by CONFIG_FILE, if set
  3. environment variables, without a prefix; `__` separates a section from its field:
     BREAKER__MAX_REQUESTS=5 sets max_requests in [breaker]

Every service reads PORT, BIND_ADDR, INSTANCE_ID, MAX_BODY_BYTES, HTTP_* (connection limits),
LOG_FORMAT (text or json) and RUST_LOG; the service's documentation lists its own settings.

`healthcheck [PATH]` instead of serving: GET PATH (default /health) from the running service
on PORT and exit 0 on a 2xx answer, 1 otherwise (for container healthchecks).",
        port = service.default_port
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: Service = Service::new("kit-test", 8090);

    /// What [`parse`] decides, without printing.
    fn decide(args: &[&str]) -> Option<ExitCode> {
        let parsed = command(&SERVICE).try_get_matches_from(args);
        parsed.err().map(|e| exit_code(&e))
    }

    #[test]
    fn no_arguments_serve() {
        assert!(decide(&["kit-test"]).is_none());
        assert!(matches!(parse(&SERVICE, ["kit-test"]), Invocation::Serve));
    }

    #[test]
    fn help_and_version_exit_successfully() {
        for flag in ["--help", "-h", "--version", "-V"] {
            assert_eq!(
                decide(&["kit-test", flag]),
                Some(ExitCode::SUCCESS),
                "{flag}"
            );
        }
    }

    #[test]
    fn anything_else_is_a_usage_error() {
        for args in [&["kit-test", "--port"][..], &["kit-test", "8080"]] {
            assert_eq!(decide(args), Some(ExitCode::from(2)), "{args:?}");
        }
    }

    #[test]
    fn help_names_the_configuration_sources() {
        let help = command(&SERVICE).render_help().to_string();
        for expected in ["CONFIG_FILE", "__", "PORT=8090", "RUST_LOG"] {
            assert!(help.contains(expected), "{expected} in {help}");
        }
    }
}
