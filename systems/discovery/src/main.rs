//! The `discovery` binary: `discovery server|user|order|gateway`; the library documents what
//! each serves and reads.

use std::process::ExitCode;

use discovery::{gateway, order, server, user};
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let (command, args) = match discovery::SYSTEM.select(std::env::args_os()) {
        Ok(selected) => selected,
        Err(code) => return code,
    };
    match command {
        "server" => {
            service_kit::run_from(
                server::SERVICE,
                args,
                async |s: Settings<server::Config>| server::router(&s.app, &s.server).await,
            )
            .await
        }
        "user" => {
            service_kit::run_from(user::SERVICE, args, async |s: Settings<user::Config>| {
                user::start(&s.app, &s.server).await
            })
            .await
        }
        "order" => {
            service_kit::run_from(order::SERVICE, args, async |s: Settings<order::Config>| {
                order::start(&s.app, &s.server).await
            })
            .await
        }
        _ => {
            service_kit::run_from(
                gateway::SERVICE,
                args,
                async |s: Settings<gateway::Config>| gateway::start(&s.app, &s.server).await,
            )
            .await
        }
    }
}
