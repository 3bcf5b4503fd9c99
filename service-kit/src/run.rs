//! [`run`]: a service's whole `main`.

use std::ffi::OsString;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

use crate::cli::Invocation;
use crate::config::{ConfigError, Loader, ServerConfig};
use crate::error::BoxError;

/// A service's name and default port, and what `--help` and `--version` print.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// e.g. `service-b`; used in `/health`, the default instance id and messages.
    pub name: &'static str,
    /// The port used when `PORT` is unset.
    pub default_port: u16,
    /// What `--version` prints; the workspace's version unless [`Service::with_version`] says.
    pub version: &'static str,
    /// The first line of `--help`; none unless [`Service::with_about`] says.
    pub about: &'static str,
}

impl Service {
    /// A service called `name`, listening on `default_port` unless `PORT` says otherwise.
    pub const fn new(name: &'static str, default_port: u16) -> Self {
        Self {
            name,
            default_port,
            version: env!("CARGO_PKG_VERSION"),
            about: "",
        }
    }

    /// The version `--version` prints: the binary's `env!("CARGO_PKG_VERSION")`.
    #[must_use]
    pub const fn with_version(self, version: &'static str) -> Self {
        Self { version, ..self }
    }

    /// The one-line description `--help` starts with: the binary's
    /// `env!("CARGO_PKG_DESCRIPTION")`.
    #[must_use]
    pub const fn with_about(self, about: &'static str) -> Self {
        Self { about, ..self }
    }
}

/// What a service's build function receives: the shared server settings and its own config.
#[derive(Debug, Clone)]
pub struct Settings<C> {
    /// `PORT`, `BIND_ADDR`, `INSTANCE_ID`, `MAX_BODY_BYTES`.
    pub server: ServerConfig,
    /// The service's own settings, loaded from the same sources.
    pub app: C,
}

/// What a build function may return: a router, a [`Stoppable`], or a `Result` of either.
pub trait IntoApp {
    /// The router, or why it could not be built.
    ///
    /// # Errors
    ///
    /// The service could not start (e.g. a dependency's address is invalid).
    fn into_app(self) -> Result<Router, BoxError>;

    /// The router and what to run when a shutdown signal arrives; none unless a [`Stoppable`].
    ///
    /// # Errors
    ///
    /// The service could not start.
    fn into_parts(self) -> Result<(Router, Option<OnShutdown>), BoxError>
    where
        Self: Sized,
    {
        self.into_app().map(|router| (router, None))
    }
}

/// Work run once when a shutdown signal arrives, before the server stops accepting.
pub type OnShutdown = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How long [`Stoppable`]'s shutdown work may take before the server stops anyway.
pub const ON_SHUTDOWN_LIMIT: Duration = Duration::from_secs(3);

/// A router with work to do on SIGINT or SIGTERM before the server drains (e.g. telling a
/// registry that this instance is going away, so that clients stop picking it).
pub struct Stoppable {
    router: Router,
    on_shutdown: OnShutdown,
}

impl Stoppable {
    /// `router`, running `on_shutdown` (for at most [`ON_SHUTDOWN_LIMIT`]) when asked to stop.
    pub fn new(router: Router, on_shutdown: impl Future<Output = ()> + Send + 'static) -> Self {
        Self {
            router,
            on_shutdown: Box::pin(on_shutdown),
        }
    }

    /// The router alone (e.g. to spawn it in a test).
    pub fn into_router(self) -> Router {
        self.router
    }
}

impl fmt::Debug for Stoppable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stoppable").finish_non_exhaustive()
    }
}

impl IntoApp for Stoppable {
    fn into_app(self) -> Result<Router, BoxError> {
        Ok(self.router)
    }

    fn into_parts(self) -> Result<(Router, Option<OnShutdown>), BoxError> {
        Ok((self.router, Some(self.on_shutdown)))
    }
}

impl<E: Into<BoxError>> IntoApp for Result<Stoppable, E> {
    fn into_app(self) -> Result<Router, BoxError> {
        self.map(Stoppable::into_router).map_err(Into::into)
    }

    fn into_parts(self) -> Result<(Router, Option<OnShutdown>), BoxError> {
        self.map_err(Into::into)?.into_parts()
    }
}

impl IntoApp for Router {
    fn into_app(self) -> Result<Router, BoxError> {
        Ok(self)
    }
}

impl<E: Into<BoxError>> IntoApp for Result<Router, E> {
    fn into_app(self) -> Result<Router, BoxError> {
        self.map_err(Into::into)
    }
}

/// Runs a service until SIGINT or SIGTERM: initialises logging, loads [`Settings`], calls
/// `build`, binds `BIND_ADDR:PORT`, logs `listening on <addr>` (the bound address, so `PORT=0`
/// works) and serves with graceful shutdown.
///
/// First it reads the command line: `--help` and `--version` print and return success without
/// reading any configuration; any other argument prints a usage error and returns exit code 2.
///
/// Any other failure (bad configuration, port in use, `build` failing) prints one line to stderr,
/// `<service>: <what went wrong>`, and returns a failing exit code; it never panics.
pub async fn run<C, F, R>(service: Service, build: F) -> ExitCode
where
    C: DeserializeOwned,
    F: AsyncFnOnce(Settings<C>) -> R,
    R: IntoApp,
{
    run_from(service, std::env::args_os(), build).await
}

/// [`run`] with the command line given: `args` starts with the name to show in help and usage
/// (e.g. `shop gateway` for a service that [`System::select`](crate::System::select) picked).
pub async fn run_from<C, F, R, I>(service: Service, args: I, build: F) -> ExitCode
where
    C: DeserializeOwned,
    F: AsyncFnOnce(Settings<C>) -> R,
    R: IntoApp,
    I: IntoIterator<Item = OsString>,
{
    match crate::cli::parse(&service, args) {
        Invocation::Exit(code) => return code,
        Invocation::Healthcheck(path) => return crate::healthcheck::run(&service, &path),
        Invocation::Serve => {}
    }
    match try_run(service, build).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", service.name);
            ExitCode::FAILURE
        }
    }
}

async fn try_run<C, F, R>(service: Service, build: F) -> Result<(), StartError>
where
    C: DeserializeOwned,
    F: AsyncFnOnce(Settings<C>) -> R,
    R: IntoApp,
{
    let loader = Loader::from_env()?;
    let server = ServerConfig::from_loader(&loader, service.name, service.default_port)?;
    crate::telemetry::init_service(service.name, &server.instance_id)?;
    // Installed before the service builds its breakers and limiters, which describe their
    // metrics and create their series at 0 as they are built.
    crate::metrics::handle();
    crate::metrics::build_info(service.name, service.version);
    let app: C = loader.load()?;
    let addr = server.addr();
    let limits = server.limits;
    warn_if_descriptors_short(&limits);
    // In JSON the service and instance are on every line already.
    tracing::info!(
        "starting {} as instance {}",
        service.name,
        server.instance_id
    );
    let (router, on_shutdown) = build(Settings { server, app })
        .await
        .into_parts()
        .map_err(StartError::Build)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let shutdown = crate::shutdown::signal();
    let bound = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(addr = %bound, "listening on {bound}");
    crate::serve::serve_with(listener, router, limits, async {
        shutdown.await;
        if let Some(work) = on_shutdown
            && tokio::time::timeout(ON_SHUTDOWN_LIMIT, work).await.is_err()
        {
            tracing::warn!("shutdown work still running after {ON_SHUTDOWN_LIMIT:?}; stopping");
        }
    })
    .await
    .map_err(StartError::Serve)?;
    crate::otlp::shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Warns when `HTTP_MAX_CONNECTIONS` cannot be reached because the process may open fewer files
/// (`ulimit -n`): the limit would then be the kernel's, met with accept errors instead of 503s.
fn warn_if_descriptors_short(limits: &crate::serve::Limits) {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        });
    // Redis connections, the log, the listener and outbound calls need descriptors too.
    let needed = limits.max_connections.saturating_add(64);
    if let Some(soft) = soft.filter(|soft| *soft < needed) {
        tracing::warn!(
            max_connections = limits.max_connections,
            open_files = soft,
            "HTTP_MAX_CONNECTIONS is more than the open-file limit allows; lower it or raise ulimit -n"
        );
    }
}

/// Why a service did not start, or stopped with an error.
#[derive(Debug)]
enum StartError {
    Config(ConfigError),
    Build(BoxError),
    Bind { addr: SocketAddr, source: io::Error },
    Serve(io::Error),
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "configuration error: {e}"),
            // A build function that loads more settings (e.g. faults) reports them like ours.
            Self::Build(e) if e.is::<ConfigError>() => write!(f, "configuration error: {e}"),
            Self::Build(e) => write!(f, "cannot start: {e}"),
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Self::Serve(e) => write!(f, "server error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_stoppable_hands_over_its_shutdown_work_and_a_router_none() {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        let stoppable = Stoppable::new(Router::new(), async move {
            flag.store(true, Ordering::SeqCst);
        });
        let (_, work) = Ok::<_, ConfigError>(stoppable).into_parts().expect("built");
        work.expect("shutdown work").await;
        assert!(ran.load(Ordering::SeqCst));
        let (_, none) = Router::new().into_parts().expect("built");
        assert!(none.is_none());
    }
}
