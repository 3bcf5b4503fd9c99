//! What can go wrong, and the exit code each failure ends the process with (see the crate docs).

use std::fmt;
use std::process::ExitCode;

use breaker_redis::admin::AdminError;

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// From the admin API.
    Admin(AdminError),
    /// Writing the output failed (a closed pipe).
    Output(std::io::Error),
    /// The watch connection was lost.
    WatchLost,
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        Failure::Admin(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Output(e.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Admin(e) => e.fmt(f),
            Failure::Output(e) => write!(f, "writing the output: {e}"),
            Failure::WatchLost => f.write_str("the connection to redis was lost while watching"),
        }
    }
}

impl Failure {
    /// The process's exit code.
    pub fn code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Admin(AdminError::UnknownBreaker(_)) => 3,
            Failure::Admin(AdminError::Unreachable { .. }) | Failure::WatchLost => 4,
            Failure::Admin(AdminError::BadUrl { .. }) => 5,
            Failure::Admin(AdminError::MissingSettings(_)) => 6,
            Failure::Admin(_) | Failure::Output(_) => 1,
        })
    }
}
