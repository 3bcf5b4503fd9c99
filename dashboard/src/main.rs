//! The `dashboard` binary; the library documents what it serves and reads.

use std::process::ExitCode;

use dashboard::Config;
use service_kit::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let service = dashboard::SERVICE
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_about(env!("CARGO_PKG_DESCRIPTION"));
    service_kit::run(service, async |settings: Settings<Config>| {
        dashboard::router(&settings.app, &settings.server).await
    })
    .await
}
