//! The demo's own output lines and the children's prefixed ones.
//!
//! Writes ignore errors: a closed stdout (`demo | head`) must not panic the launcher while it
//! still has processes to stop.

use std::fmt::Display;
use std::io::Write;

/// Prints `[demo] <msg>` on stdout.
pub fn say(msg: impl Display) {
    let _ = writeln!(std::io::stdout().lock(), "[demo] {msg}");
}

/// Prints text as it is on stdout (the instructions).
pub fn print_block(text: &str) {
    let _ = write!(std::io::stdout().lock(), "{text}");
}

/// Prints one line of a child's output as `[name] line`, on the stream it came from.
pub fn child_line(name: &str, line: &str, stderr: bool) {
    if stderr {
        let _ = writeln!(std::io::stderr().lock(), "[{name}] {line}");
    } else {
        let _ = writeln!(std::io::stdout().lock(), "[{name}] {line}");
    }
}
