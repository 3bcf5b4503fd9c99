//! Redis said no to this client: an ACL that lacks a command, key or channel (`NOPERM`), or a
//! login that failed (`NOAUTH`, `WRONGPASS`). Neither heals by waiting, so each is logged
//! with its fix, again and again while it lasts but no more often than a back-off that doubles
//! ([`Nag`]), and counted in `breaker_store_errors_total` under its own class.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::StoreError;

/// What Redis refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The ACL user may not run a command, or not on a key or channel. `command` and `target`
    /// when the error names them (the breaker's scripts always do).
    Permission {
        /// The command, upper case, e.g. `PUBLISH`.
        command: Option<String>,
        /// The key or channel it was refused on.
        target: Option<String>,
    },
    /// The login failed (`WRONGPASS`) or none was made where one is required (`NOAUTH`).
    Auth,
}

impl Refusal {
    /// The refusal `error` is, if it is one.
    pub fn of(error: &StoreError) -> Option<Refusal> {
        match error {
            StoreError::Redis(e) => Self::of_redis(e),
            _ => None,
        }
    }

    /// The refusal a `redis` error is, if it is one.
    pub fn of_redis(error: &redis::RedisError) -> Option<Refusal> {
        match error.kind() {
            redis::ErrorKind::AuthenticationFailed => Some(Refusal::Auth),
            // Displayed as "NoPerm: ...", no longer with Redis's own code.
            redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm) => {
                Some(named(&error.to_string()))
            }
            _ => Self::of_message(&error.to_string()),
        }
    }

    /// The refusal an error message describes, if it is one.
    pub fn of_message(text: &str) -> Option<Refusal> {
        if text.contains("NOAUTH") || text.contains("WRONGPASS") {
            return Some(Refusal::Auth);
        }
        let permission = text.contains("NOPERM")
            || text.contains("can't run this command")
            || text.contains("can't access at least one of the keys")
            || text.contains("can't publish to the channel");
        permission.then(|| named(text))
    }

    /// The class `breaker_store_errors_total` counts it under.
    pub fn class(&self) -> super::ErrorClass {
        match self {
            Refusal::Permission { .. } => super::ErrorClass::Permission,
            Refusal::Auth => super::ErrorClass::Auth,
        }
    }
}

/// Reads the command (and its key) from "may not run CMD on KEY" (the breaker's scripts) or
/// "permissions to run the 'cmd' command" (Redis).
fn named(text: &str) -> Refusal {
    if let Some((_, rest)) = text.split_once("may not run ") {
        let mut words = rest.split_whitespace();
        let command = words.next().map(str::to_owned);
        let target = match (words.next(), words.next()) {
            (Some("on"), Some(t)) => Some(t.to_owned()),
            _ => None,
        };
        return Refusal::Permission { command, target };
    }
    let command = text
        .split_once("to run the '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(cmd, _)| cmd.to_uppercase());
    Refusal::Permission {
        command,
        target: None,
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Auth => f.write_str(
                "Redis refused the login: set the ACL user and password in the URL, \
                 redis://USER:PASSWORD@HOST:PORT (rediss:// for TLS), as the server's ACL defines them",
            ),
            Refusal::Permission {
                command: Some(command),
                target,
            } => {
                let on = target.as_deref().map(|t| format!(" on {t}")).unwrap_or_default();
                write!(
                    f,
                    "the Redis ACL user may not run {command}{on}: grant it, e.g. \
                     ACL SETUSER <user> +{} ~breaker:* &breaker:*, or use the user of \
                     deploy/redis-acl.conf, which lists every command the services run",
                    command.to_lowercase()
                )
            }
            Refusal::Permission { command: None, .. } => f.write_str(
                "the Redis ACL user lacks a command, key or channel permission: compare it \
                 with deploy/redis-acl.conf, which lists every command the services run",
            ),
        }
    }
}

/// When to log a refusal again: at once the first time, then after a back-off that doubles
/// from `first` up to `max`, so a refusal that lasts is repeated (an operator who joins late
/// still sees it) without a line per call. [`Nag::reset`] once the refusal is over.
#[derive(Debug)]
pub struct Nag {
    epoch: Instant,
    first: Duration,
    max: Duration,
    /// Milliseconds since `epoch` before which nothing is logged; 0 = log the next one.
    next_ms: AtomicU64,
    /// The back-off after the next log line.
    gap_ms: AtomicU64,
}

impl Nag {
    /// Logs again after `first`, then twice as long each time, at most every `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Nag {
            epoch: Instant::now(),
            first,
            max,
            next_ms: AtomicU64::new(0),
            gap_ms: AtomicU64::new(millis(first)),
        }
    }

    /// True when this occurrence should be logged (one caller wins when several race).
    pub fn due(&self) -> bool {
        let now = millis(self.epoch.elapsed());
        let next = self.next_ms.load(Ordering::Acquire);
        if now < next {
            return false;
        }
        let gap = self.gap_ms.load(Ordering::Acquire);
        if self
            .next_ms
            .compare_exchange(next, now + gap, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.gap_ms
            .store((gap * 2).min(millis(self.max)), Ordering::Release);
        true
    }

    /// The refusal is over: the next one is logged at once.
    pub fn reset(&self) {
        self.next_ms.store(0, Ordering::Release);
        self.gap_ms.store(millis(self.first), Ordering::Release);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_refusals_name_the_command_and_key() {
        let text = "NOPERM the Redis user may not run PUBLISH on breaker:{b}:events script: 1a";
        assert_eq!(
            Refusal::of_message(text),
            Some(Refusal::Permission {
                command: Some("PUBLISH".into()),
                target: Some("breaker:{b}:events".into())
            })
        );
        let redis = "NOPERM this user has no permissions to run the 'xadd' command";
        let Some(Refusal::Permission { command, .. }) = Refusal::of_message(redis) else {
            panic!("a refusal");
        };
        assert_eq!(command.as_deref(), Some("XADD"));
        assert_eq!(
            Refusal::of_message("WRONGPASS invalid username-password pair"),
            Some(Refusal::Auth)
        );
        assert_eq!(Refusal::of_message("OOM command not allowed"), None);
    }

    #[test]
    fn a_nag_backs_off_and_starts_over_once_reset() {
        let nag = Nag::new(Duration::from_secs(60), Duration::from_secs(600));
        assert!(nag.due());
        assert!(!nag.due(), "the second within the back-off is quiet");
        nag.reset();
        assert!(nag.due());
    }

    #[test]
    fn the_fix_says_which_rule_to_add() {
        let refusal = Refusal::Permission {
            command: Some("ZREM".into()),
            target: None,
        };
        assert!(refusal.to_string().contains("+zrem"), "{refusal}");
        assert!(Refusal::Auth.to_string().contains("redis://USER:PASSWORD@"));
    }
}
