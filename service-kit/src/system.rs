//! [`System`]: one binary serving several services, one per subcommand (`shop gateway`,
//! `shop payment`, ...), each then run by [`run_from`](crate::run_from).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;

/// A binary whose first argument names the service to run.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use service_kit::{Service, Settings, System};
///
/// const SYSTEM: System = System {
///     name: "shop",
///     version: env!("CARGO_PKG_VERSION"),
///     about: "The shop's services",
///     services: &[("payment", "Takes payments"), ("shipping", "Ships orders")],
/// };
///
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     let (command, args) = match SYSTEM.select(std::env::args_os()) {
///         Ok(selected) => selected,
///         Err(code) => return code,
///     };
///     let service = match command {
///         "payment" => Service::new("payment-service", 3001),
///         _ => Service::new("shipping-service", 3003),
///     };
///     service_kit::run_from(service, args, async |_: Settings<serde_json::Value>| {
///         axum::Router::new()
///     })
///     .await
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct System {
    /// The binary's name, e.g. `shop`.
    pub name: &'static str,
    /// What `--version` prints.
    pub version: &'static str,
    /// The first line of `--help`.
    pub about: &'static str,
    /// The subcommands, each with the line `--help` shows for it.
    pub services: &'static [(&'static str, &'static str)],
}

impl System {
    /// Reads `args` (the program name first). A known subcommand returns its name and the
    /// command line for [`run_from`](crate::run_from): `"<system> <subcommand>"`, then the
    /// arguments after the subcommand. Anything else prints help, the version or a usage error
    /// and returns the exit code.
    ///
    /// # Errors
    ///
    /// The exit code to return instead of serving: success after `--help` or `--version`, 2
    /// for a missing or unknown subcommand.
    pub fn select<I, T>(&self, args: I) -> Result<(&'static str, Vec<OsString>), ExitCode>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let mut args = args.into_iter().map(Into::into);
        let program = args.next();
        let rest: Vec<OsString> = args.collect();
        let known = rest.first().and_then(|first| {
            self.services
                .iter()
                .map(|&(name, _)| name)
                .find(|name| first.to_str() == Some(name))
        });
        if let Some(name) = known {
            let mut line = vec![OsString::from(format!("{} {name}", self.name))];
            line.extend(rest.into_iter().skip(1));
            return Ok((name, line));
        }
        let program = program.unwrap_or_else(|| self.name.into());
        let error = match self
            .command()
            .try_get_matches_from(std::iter::once(program).chain(rest))
        {
            // Every service was matched above and none is a usage error, so clap has always
            // refused or answered (`help`) by now; should that change, refuse here too.
            Ok(_) => self
                .command()
                .error(ErrorKind::MissingSubcommand, "a service to run is required"),
            Err(e) => e,
        };
        // As in `cli`: printing fails only on a closed stream, with nobody left to tell.
        let _ = error.print();
        Err(match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
            _ => ExitCode::from(2),
        })
    }

    fn command(&self) -> clap::Command {
        let subcommands = self.services.iter().map(|&(name, about)| {
            clap::Command::new(name)
                .about(about)
                .disable_help_flag(true)
        });
        clap::Command::new(self.name)
            .version(self.version)
            .about(self.about)
            .subcommands(subcommands)
            .subcommand_required(true)
            .subcommand_value_name("SERVICE")
            .subcommand_help_heading("Services")
            .after_help(format!(
                "`{} <SERVICE> --help` lists where that service's settings come from.",
                self.name
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: System = System {
        name: "shop",
        version: "1.2.3",
        about: "test system",
        services: &[("gateway", "the gateway"), ("payment", "payments")],
    };

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_subcommand_selects_its_service_and_keeps_the_rest() {
        let (name, args) = SYSTEM
            .select(["/bin/shop", "payment", "--help"])
            .expect("known");
        assert_eq!(name, "payment");
        assert_eq!(strings(&args), ["shop payment", "--help"]);
        let (name, args) = SYSTEM.select(["shop", "gateway"]).expect("known");
        assert_eq!(name, "gateway");
        assert_eq!(strings(&args), ["shop gateway"]);
    }

    #[test]
    fn no_or_an_unknown_subcommand_is_a_usage_error() {
        assert_eq!(SYSTEM.select(["shop"]), Err(ExitCode::from(2)));
        assert_eq!(SYSTEM.select(["shop", "billing"]), Err(ExitCode::from(2)));
        assert_eq!(SYSTEM.select(["shop", "--port"]), Err(ExitCode::from(2)));
    }

    #[test]
    fn help_and_version_succeed_and_list_the_services() {
        assert_eq!(SYSTEM.select(["shop", "--help"]), Err(ExitCode::SUCCESS));
        assert_eq!(SYSTEM.select(["shop", "--version"]), Err(ExitCode::SUCCESS));
        let help = SYSTEM.command().render_help().to_string();
        for expected in ["gateway", "the gateway", "payment", "<SERVICE> --help"] {
            assert!(help.contains(expected), "{expected} in {help}");
        }
    }
}
