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
    if !json {
        writeln!(out, "{}", render::watch_header())?;
    }
    // Scripts waiting for the first line know the subscription is live.
    out.flush()?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut seen = 0;
    let stop = stop_signal();
    tokio::pin!(stop);
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

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    () = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
