//! The real `service-b` binary's command line: help and version instead of a server, usage errors.

use test_support::ServiceCli;

const CLI: ServiceCli<'static> = ServiceCli {
    program: env!("CARGO_BIN_EXE_service-b"),
    name: "service-b",
    version: env!("CARGO_PKG_VERSION"),
    default_port: 8081,
};

#[tokio::test]
async fn help_prints_usage_and_configuration_sources_and_exits() {
    CLI.assert_help().await;
}

#[tokio::test]
async fn version_prints_the_version_and_exits() {
    CLI.assert_version().await;
}

#[tokio::test]
async fn unknown_arguments_are_refused() {
    CLI.assert_unknown_arguments_refused().await;
}
