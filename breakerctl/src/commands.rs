//! Each command, run against [`Admin`].

use std::io::{self, Write};
use std::time::Duration;

use breaker_redis::admin::{Admin, OverrideResult, TransitionRecord};
use futures_util::StreamExt;
use serde::Serialize;

use crate::cli::{Args, Command};
use crate::exit::Failure;
use crate::render;

/// The id overrides made here carry in the history (`origin`).
const ORIGIN: &str = "breakerctl";

/// Runs the command line's command, writing to stdout.
pub async fn run(args: Args) -> Result<(), Failure> {
    let admin = Admin::connect(&args.redis_url)
        .await?
        .with_prefix(args.prefix)
        .with_origin(ORIGIN);
    let json = args.json;
    let mut out = io::stdout().lock();
    match args.command {
        Command::List => {
            let breakers = admin.list().await?;
            emit(&mut out, json, &breakers, || render::list(&breakers))
        }
        Command::Show { name } => {
            let detail = admin.show(&name).await?;
            emit(&mut out, json, &detail, || render::show(&detail))
        }
        Command::History { name, limit } => {
            let records = admin.history(&name, limit).await?;
            if records.is_empty() {
                // An empty history of a name no breaker has is a typo, not "nothing happened".
                admin.show(&name).await?;
            }
            emit(&mut out, json, &records, || render::history(&records))
        }
        Command::Watch {
            name,
            count,
            timeout,
        } => watch(&admin, name.as_deref(), count, timeout, json, &mut out).await,
        Command::Open { name } => overridden(&mut out, json, admin.open(&name).await?),
        Command::Close { name } => overridden(&mut out, json, admin.close(&name).await?),
        Command::Disable { name } => overridden(&mut out, json, admin.disable(&name).await?),
        Command::Reset { name } => overridden(&mut out, json, admin.reset(&name).await?),
    }
}

/// Writes `value` as pretty JSON, or the table `table` makes of it.
fn emit<T: Serialize>(
    out: &mut impl Write,
    json: bool,
    value: &T,
    table: impl FnOnce() -> render::Table,
) -> Result<(), Failure> {
    if json {
        serde_json::to_writer_pretty(&mut *out, value)?;
        writeln!(out)?;
    } else {
        table().write(out)?;
    }
    Ok(())
}

fn overridden(out: &mut impl Write, json: bool, result: OverrideResult) -> Result<(), Failure> {
    if json {
        serde_json::to_writer_pretty(&mut *out, &result)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", render::overridden(&result))?;
    }
    Ok(())
}

/// Prints transitions as they come, until `count` of them, `timeout`, Ctrl-C or SIGTERM
/// (all a clean stop), or the connection is lost (a failure).
async fn watch(
    admin: &Admin,
    name: Option<&str>,
    count: Option<u64>,
    timeout: Option<Duration>,
    json: bool,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if let Some(name) = name {
        // Watching a name no breaker has would wait forever for nothing.
        admin.show(name).await?;
    }
    let mut transitions = admin.watch(name).await?;
    // Installed before the first line goes out: a script that stops the watch as soon as it
    // sees the header must meet the handler, not the default action that kills the process.
    let stop = stop_signal()?;
    tokio::pin!(stop);
    if !json {
        writeln!(out, "{}", render::watch_header())?;
    }
    // Scripts waiting for the first line know the subscription is live.
    out.flush()?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut seen = 0;
    while count.is_none_or(|n| seen < n) {
        let until_deadline = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            next = transitions.next() => next,
            () = &mut stop => return Ok(()),
            () = until_deadline => return Ok(()),
        };
        let Some(record) = next else {
            return Err(Failure::WatchLost);
        };
        print_transition(out, json, &record)?;
        seen += 1;
    }
    Ok(())
}

fn print_transition(
    out: &mut impl Write,
    json: bool,
    record: &TransitionRecord,
) -> Result<(), Failure> {
    if json {
        serde_json::to_writer(&mut *out, record)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", render::watch_line(record))?;
    }
    out.flush()?;
    Ok(())
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handlers now, and resolves on either signal.
#[cfg(unix)]
fn stop_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
