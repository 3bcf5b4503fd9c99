//! The `service-b` binary; the library documents what it serves and reads.

use std::process::ExitCode;

use service_b::Config;
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::run(service_b::SERVICE, async |settings: Settings<Config>| {
        service_b::router(&settings.app, &settings.server)
    })
    .await
}
