//! The `service-b` binary; the library documents what it serves and reads.

use std::process::ExitCode;

use service_b::Config;
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let service = service_b::SERVICE
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_about(env!("CARGO_PKG_DESCRIPTION"));
    service_kit::run(service, async |settings: Settings<Config>| {
        service_b::router(&settings.app, &settings.server)
    })
    .await
}
