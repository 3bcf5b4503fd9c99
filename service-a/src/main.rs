//! The `service-a` binary; the library documents what it serves and reads.

use std::process::ExitCode;

use service_a::Config;
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::run(service_a::SERVICE, async |settings: Settings<Config>| {
        service_a::router(&settings.app, &settings.server).await
    })
    .await
}
