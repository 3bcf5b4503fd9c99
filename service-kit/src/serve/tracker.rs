//! [`Tracker`]: counts open connections, per service and per client, so that one client (or a
//! flood of them) cannot take every file descriptor the service has.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use super::limits::Limits;

/// The open connections of one server.
#[derive(Debug)]
pub struct Tracker {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Counts>,
    /// Notified whenever a connection closes, so a drain can wait for zero.
    closed: Notify,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    /// Only clients with an open connection: bounded by `max_total`.
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The service holds `HTTP_MAX_CONNECTIONS`.
    Service,
    /// This client holds `HTTP_MAX_CONNECTIONS_PER_IP`.
    Client,
}

/// An admitted connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    tracker: Arc<Tracker>,
    key: IpAddr,
}

impl Tracker {
    /// A tracker enforcing `limits`.
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Self {
            max_total: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            open: Mutex::new(Counts::default()),
            closed: Notify::new(),
        })
    }

    /// Takes a place for a connection from `ip`.
    ///
    /// # Errors
    ///
    /// The service or the client is at its limit.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Full> {
        let key = crate::admin::lockout::key(Some(ip));
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.max_total {
            return Err(Full::Service);
        }
        let mine = open.per_ip.entry(key).or_insert(0);
        if *mine >= self.max_per_ip {
            return Err(Full::Client);
        }
        *mine += 1;
        open.total += 1;
        Ok(Slot {
            tracker: Arc::clone(self),
            key,
        })
    }

    /// Open connections.
    pub fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        loop {
            let closed = self.closed.notified();
            if self.open() == 0 {
                return;
            }
            closed.await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .tracker
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_ip.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_ip.remove(&self.key);
            }
        }
        drop(open);
        self.tracker.closed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_limited_per_client_and_per_service_and_freed_on_drop() {
        let tracker = Tracker::new(&Limits {
            max_connections: 3,
            max_connections_per_ip: 2,
            ..Limits::default()
        });
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let c: IpAddr = "10.0.0.3".parse().expect("ip");
        let a1 = tracker.admit(a).expect("first");
        let _a2 = tracker.admit(a).expect("second");
        assert_eq!(tracker.admit(a).expect_err("third"), Full::Client);
        let _b1 = tracker.admit(b).expect("other client");
        assert_eq!(tracker.admit(c).expect_err("service full"), Full::Service);
        drop(a1);
        assert_eq!(tracker.open(), 2);
        tracker.admit(c).expect("a place was freed");
    }
}
