//! The `service-b` binary; the library documents what it serves and reads.

use std::process::ExitCode;

use service_b::Config;
use service_kit::faults::{FaultControl, FaultsConfig};
use service_kit::{ConfigError, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    let service = service_b::SERVICE
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_about(env!("CARGO_PKG_DESCRIPTION"));
    service_kit::run(service, async |settings: Settings<Config>| {
        let overrides = FaultsConfig::load()?;
        let faults = FaultControl::from_config(settings.app.faults(), &overrides)?;
        Ok::<_, ConfigError>(service_b::app(faults, &settings.server))
    })
    .await
}
