//! The `chain` binary: `chain user|order|inventory`; the library documents what each serves and
//! reads.

use std::process::ExitCode;

use chain::{inventory, order, user};
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let (command, args) = match chain::SYSTEM.select(std::env::args_os()) {
        Ok(selected) => selected,
        Err(code) => return code,
    };
    match command {
        "user" => {
            service_kit::run_from(user::SERVICE, args, async |s: Settings<user::Config>| {
                user::router(&s.app, &s.server).await
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
            service_kit::run_from(
                inventory::SERVICE,
                args,
                async |s: Settings<inventory::Config>| inventory::router(&s.app, &s.server),
            )
            .await
        }
    }
}
