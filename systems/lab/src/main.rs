//! The `lab` binary: `lab user|order|dashboard`; the library documents what each serves and
//! reads.

use std::process::ExitCode;

use lab::{dashboard, order, user};
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let (command, args) = match lab::SYSTEM.select(std::env::args_os()) {
        Ok(selected) => selected,
        Err(code) => return code,
    };
    match command {
        "user" => {
            service_kit::run_from(user::SERVICE, args, async |s: Settings<user::Config>| {
                user::router(&s.app, &s.server)
            })
            .await
        }
        "order" => {
            service_kit::run_from(order::SERVICE, args, async |s: Settings<order::Config>| {
                order::router(&s.app, &s.server).await
            })
            .await
        }
        _ => {
            let service = dashboard::SERVICE;
            service_kit::run_from(service, args, async |s: Settings<dashboard::Config>| {
                dashboard::router(&s.app, &s.server)
            })
            .await
        }
    }
}
