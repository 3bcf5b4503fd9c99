//! The captured stdout and stderr lines of a [`ChildProcess`](super::ChildProcess).

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::bail;

/// Lines from both streams, in arrival order, shared with the reader threads.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    lines: Vec<(&'static str, String)>,
    open_streams: usize,
}

impl Captured {
    /// Starts a thread that copies `stream`'s lines in, labelled `label`.
    pub(crate) fn read(
        self: &Arc<Self>,
        label: &'static str,
        stream: impl Read + Send + 'static,
    ) -> JoinHandle<()> {
        self.lock().open_streams += 1;
        let this = Arc::clone(self);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        let line = line.trim_end_matches(['\n', '\r']).to_owned();
                        this.lock().lines.push((label, line));
                        this.changed.notify_all();
                    }
                }
            }
            this.lock().open_streams -= 1;
            this.changed.notify_all();
        })
    }

    /// Waits until both streams reached their end, or `deadline` (a grandchild may hold a pipe
    /// open), so that the lines of a process that exited are all there.
    pub(crate) fn wait_closed(&self, deadline: Duration) {
        let end = Instant::now() + deadline;
        let mut state = self.lock();
        while state.open_streams > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = match self.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Every line so far, each prefixed with `name` and its stream.
    pub(crate) fn text(&self, name: &str) -> String {
        self.lock()
            .lines
            .iter()
            .map(|(label, line)| format!("[{name} {label}] {line}\n"))
            .collect()
    }

    /// Waits for a line containing `pattern`, searching everything captured so far.
    pub(crate) fn wait_for(
        &self,
        name: &str,
        pattern: &str,
        deadline: Duration,
    ) -> anyhow::Result<String> {
        let end = Instant::now() + deadline;
        let mut scanned = 0;
        let mut state = self.lock();
        loop {
            if let Some((_, line)) = state.lines[scanned..]
                .iter()
                .find(|(_, l)| l.contains(pattern))
            {
                return Ok(line.clone());
            }
            scanned = state.lines.len();
            if state.open_streams == 0 {
                drop(state);
                bail!(
                    "{name} closed its output without printing {pattern:?}; output:\n{}",
                    self.text(name)
                );
            }
            let now = Instant::now();
            if now >= end {
                drop(state);
                bail!(
                    "{name} did not print {pattern:?} within {deadline:?}; output:\n{}",
                    self.text(name)
                );
            }
            state = self
                .changed
                .wait_timeout(state, end - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning would only mean a reader thread panicked; the lines are still valid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
