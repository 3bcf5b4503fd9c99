//! [`Lockout`]: a budget of failed admin attempts per client, so that guessing the token from
//! one address is throttled to `limit` guesses per `period`.
//!
//! Each failure adds `period / limit` of debt to the client; debt drains with time. A client
//! whose next failure would push its debt over `period` is refused until enough has drained.
//! Clients are IPv4 addresses or IPv6 /64 networks (a host is usually given a whole /64).
//! At most [`CAPACITY`] clients are tracked; when full, the one closest to having no debt is
//! forgotten.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::ConfigError;

/// Most clients tracked at once.
pub const CAPACITY: usize = 4096;

/// `ADMIN_FAILURES__*`: failed admin attempts allowed per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailureSettings {
    /// `ADMIN_FAILURES__LIMIT`, default 10: failures per period (at least 1).
    pub limit: u32,
    /// `ADMIN_FAILURES__PERIOD`, default `1m`.
    #[serde(with = "humantime_serde")]
    pub period: Duration,
}

impl Default for FailureSettings {
    fn default() -> Self {
        Self {
            limit: 10,
            period: Duration::from_secs(60),
        }
    }
}

/// The failure budgets of every recent client.
#[derive(Debug)]
pub struct Lockout {
    /// Debt one failure adds: `period / limit`.
    cost: Duration,
    /// Debt at which a client is refused.
    ceiling: Duration,
    /// When each client's debt reaches zero.
    clear_at: Mutex<HashMap<IpAddr, Instant>>,
}

impl Default for Lockout {
    fn default() -> Self {
        let settings = FailureSettings::default();
        Self::with(settings.period / settings.limit, settings.period)
    }
}

impl Lockout {
    /// A lockout for `settings`.
    ///
    /// # Errors
    ///
    /// A limit of 0 or a period under a millisecond, naming the variable.
    pub fn new(settings: &FailureSettings) -> Result<Self, ConfigError> {
        if settings.limit == 0 {
            return Err(ConfigError::invalid(
                "ADMIN_FAILURES__LIMIT",
                "must be at least 1",
            ));
        }
        if settings.period < Duration::from_millis(1) {
            return Err(ConfigError::invalid(
                "ADMIN_FAILURES__PERIOD",
                "must be at least 1ms",
            ));
        }
        Ok(Self::with(
            settings.period / settings.limit,
            settings.period,
        ))
    }

    fn with(cost: Duration, period: Duration) -> Self {
        Self {
            cost,
            ceiling: period.saturating_sub(cost),
            clear_at: Mutex::new(HashMap::new()),
        }
    }

    /// How long `client` must wait before its next attempt, or `None` if it may try now.
    pub fn locked(&self, client: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let map = self.clear_at.lock().unwrap_or_else(PoisonError::into_inner);
        let debt = map.get(&key(client))?.saturating_duration_since(now);
        (debt > self.ceiling).then(|| debt - self.ceiling)
    }

    /// Counts a failure of `client`; `true` when this failure used up its budget.
    pub fn record_failure(&self, client: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let key = key(client);
        let mut map = self.clear_at.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CAPACITY && !map.contains_key(&key) {
            map.retain(|_, clear| *clear > now);
            if map.len() >= CAPACITY
                && let Some(oldest) = map.iter().min_by_key(|(_, clear)| **clear).map(|(k, _)| *k)
            {
                map.remove(&oldest);
            }
        }
        let clear = map.entry(key).or_insert(now);
        *clear = (*clear).max(now) + self.cost;
        clear.saturating_duration_since(now) > self.ceiling
    }
}

/// The budget a client uses: its IPv4 address or its IPv6 /64; one shared budget when unknown.
pub(crate) fn key(client: Option<IpAddr>) -> IpAddr {
    match client.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V6(v6)) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        Some(v4) => v4,
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("an address"))
    }

    #[test]
    fn a_client_is_refused_after_its_limit_and_others_are_not() {
        let lockout = Lockout::new(&FailureSettings {
            limit: 3,
            period: Duration::from_secs(3600),
        })
        .expect("valid");
        for _ in 0..2 {
            assert!(!lockout.record_failure(ip("10.0.0.1")));
            assert_eq!(lockout.locked(ip("10.0.0.1")), None);
        }
        assert!(lockout.record_failure(ip("10.0.0.1")));
        let wait = lockout.locked(ip("10.0.0.1")).expect("locked");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1200),
            "{wait:?}"
        );
        assert_eq!(lockout.locked(ip("10.0.0.2")), None);
        assert_eq!(lockout.locked(None), None);
    }

    #[test]
    fn an_ipv6_host_is_its_64_and_a_mapped_ipv4_is_the_ipv4() {
        assert_eq!(key(ip("2001:db8::1")), key(ip("2001:db8::ffff")));
        assert_ne!(key(ip("2001:db8::1")), key(ip("2001:db8:0:1::1")));
        assert_eq!(key(ip("::ffff:10.0.0.1")), key(ip("10.0.0.1")));
    }

    #[test]
    fn the_store_stays_bounded() {
        let lockout = Lockout::default();
        for i in 0..(CAPACITY as u32 + 100) {
            lockout.record_failure(Some(IpAddr::V4(Ipv4Addr::from(i))));
        }
        let len = lockout.clear_at.lock().expect("not poisoned").len();
        assert!(len <= CAPACITY, "{len}");
    }

    #[test]
    fn a_zero_limit_or_period_names_its_variable() {
        let zero = FailureSettings {
            limit: 0,
            ..FailureSettings::default()
        };
        assert!(
            Lockout::new(&zero)
                .expect_err("0")
                .to_string()
                .contains("ADMIN_FAILURES__LIMIT")
        );
        let zero = FailureSettings {
            period: Duration::ZERO,
            ..FailureSettings::default()
        };
        assert!(
            Lockout::new(&zero)
                .expect_err("0")
                .to_string()
                .contains("ADMIN_FAILURES__PERIOD")
        );
    }
}
