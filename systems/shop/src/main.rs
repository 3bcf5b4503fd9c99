//! The `shop` binary: `shop gateway|payment|inventory|shipping`; the library documents what
//! each serves and reads.

use std::process::ExitCode;

use service_kit::Settings;
use shop::{gateway, inventory, payment, shipping};

#[tokio::main]
async fn main() -> ExitCode {
    let (command, args) = match shop::SYSTEM.select(std::env::args_os()) {
        Ok(selected) => selected,
        Err(code) => return code,
    };
    match command {
        "gateway" => {
            service_kit::run_from(
                gateway::SERVICE,
                args,
                async |s: Settings<gateway::Config>| gateway::router(&s.app, &s.server).await,
            )
            .await
        }
        "payment" => {
            service_kit::run_from(
                payment::SERVICE,
                args,
                async |s: Settings<payment::Config>| payment::router(&s.app, &s.server).await,
            )
            .await
        }
        "inventory" => {
            let service = inventory::SERVICE;
            service_kit::run_from(service, args, async |s: Settings<inventory::Config>| {
                inventory::router(&s.app, &s.server).await
            })
            .await
        }
        _ => {
            let service = shipping::SERVICE;
            service_kit::run_from(service, args, async |s: Settings<shipping::Config>| {
                shipping::router(&s.app, &s.server).await
            })
            .await
        }
    }
}
